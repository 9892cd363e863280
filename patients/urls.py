from __future__ import annotations

from django.urls import path

from . import badge, caregiver_views, medicine_views, views

app_name = "patients"

urlpatterns = [
    path("", views.today_page, name="today"),
    path("unread/", badge.unread, name="unread"),
    path("doses/<int:dose_id>/<slug:action>/", views.dose_action, name="dose-action"),
    path(
        "schedules/<int:schedule_id>/upcoming/<slug:action>/",
        views.upcoming_dose_action,
        name="upcoming-dose-action",
    ),
    path("medicines/add/", medicine_views.add_medicine, name="add-medicine"),
    path("medicines/<int:supply_id>/", medicine_views.medicine_page, name="medicine"),
    path("medicines/<int:supply_id>/schedules/", medicine_views.add_schedule, name="add-schedule"),
    path("medicines/<int:supply_id>/restock/", medicine_views.restock, name="restock"),
    path("medicines/<int:supply_id>/stop/", medicine_views.stop_medicine, name="stop"),
    path(
        "schedules/<int:schedule_id>/remove/",
        medicine_views.remove_schedule,
        name="remove-schedule",
    ),
    path("caregivers/", caregiver_views.caregivers_page, name="caregivers"),
    path("caregivers/<int:link_id>/", caregiver_views.change_link, name="change-link"),
    path("caregivers/<int:link_id>/revoke/", caregiver_views.revoke_link, name="revoke-link"),
    path(
        "caregivers/invitations/<int:invitation_id>/cancel/",
        caregiver_views.cancel_invitation,
        name="cancel-invitation",
    ),
    path("caregivers/accept/<str:token>/", caregiver_views.accept_invitation, name="accept"),
    path("caring/<int:patient_id>/", caregiver_views.caring_page, name="caring"),
]
