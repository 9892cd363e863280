from __future__ import annotations

from django.urls import path

from . import api

app_name = "patients-api"

urlpatterns = [
    path("caregiver-invitations/", api.InvitationListView.as_view(), name="invitations"),
    path(
        "caregiver-invitations/accept/",
        api.AcceptInvitationView.as_view(),
        name="accept-invitation",
    ),
    path(
        "caregiver-invitations/<int:invitation_id>/",
        api.InvitationDetailView.as_view(),
        name="invitation",
    ),
]
