"""Webhook URLs for the providers (README "Providers"); included under ``/hooks/``."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "provider-hooks"

urlpatterns = [
    path("<str:provider>/<str:secret>/status/", views.status_hook, name="status"),
    path("<str:provider>/<str:secret>/inbound/", views.inbound_hook, name="inbound"),
]
