from __future__ import annotations

from django.urls import path

from . import views

app_name = "notifications-web"

# The paths are those the emails link to (rendering._site_urls and _notification_url).
urlpatterns = [
    path("", views.inbox_page, name="inbox"),
    path("preferences/", views.preferences_page, name="preferences"),
    path("<int:notification_id>/", views.notification_page, name="detail"),
    path("<int:notification_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<int:notification_id>/dismiss/", views.dismiss, name="dismiss"),
]
