from __future__ import annotations

from django.urls import path

from . import audit_views, consent_views, my_data_views, sign_in_views

app_name = "privacy-api"

urlpatterns = [
    path("me/consents/", consent_views.MyConsentsView.as_view(), name="my-consents"),
    path("me/audit/", audit_views.MyAuditView.as_view(), name="my-audit"),
    path("me/export/", my_data_views.ExportView.as_view(), name="my-export"),
    path("me/", my_data_views.MeView.as_view(), name="me"),
    path("me/sign-ins/", sign_in_views.SignInListView.as_view(), name="my-sign-ins"),
    path(
        "me/sign-ins/<str:sign_in_id>/",
        sign_in_views.SignInDetailView.as_view(),
        name="my-sign-in",
    ),
    path(
        "me/sign-out-everywhere/",
        sign_in_views.SignOutEverywhereView.as_view(),
        name="sign-out-everywhere",
    ),
    path(
        "staff/users/<int:user_id>/consents/",
        consent_views.StaffConsentView.as_view(),
        name="staff-consents",
    ),
    path(
        "staff/users/<int:user_id>/audit/", audit_views.StaffAuditView.as_view(), name="staff-audit"
    ),
]
