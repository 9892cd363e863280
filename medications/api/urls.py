from __future__ import annotations

from django.urls import path

from . import caregiver_views, dose_views, medication_views

app_name = "medications-api"

urlpatterns = [
    path("medications/", medication_views.MedicationListView.as_view(), name="medications"),
    path(
        "medications/<int:supply_id>/",
        medication_views.MedicationDetailView.as_view(),
        name="medication",
    ),
    path(
        "medications/<int:supply_id>/restock/",
        medication_views.RestockView.as_view(),
        name="restock",
    ),
    path("doses/", dose_views.DoseListView.as_view(), name="doses"),
    path("doses/<int:dose_id>/take/", dose_views.TakeDoseView.as_view(), name="take"),
    path("doses/<int:dose_id>/skip/", dose_views.SkipDoseView.as_view(), name="skip"),
    path("doses/<int:dose_id>/snooze/", dose_views.SnoozeDoseView.as_view(), name="snooze"),
    path("patients/", caregiver_views.PatientListView.as_view(), name="patients"),
    path(
        "patients/<int:patient_id>/doses/",
        caregiver_views.PatientDoseListView.as_view(),
        name="patient-doses",
    ),
    path(
        "patients/<int:patient_id>/medications/",
        caregiver_views.PatientMedicationListView.as_view(),
        name="patient-medications",
    ),
]
