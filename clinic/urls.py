from __future__ import annotations

from django.urls import path

from . import views

app_name = "clinic"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export/<slug:table>.csv", views.export_csv, name="export"),
    path("broadcast/", views.broadcast, name="broadcast"),
    path("notifications/<int:notification_id>/", views.report, name="report"),
]
