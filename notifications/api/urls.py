from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import auth_views, device_views, preference_views, staff_views, views, webpush_views

app_name = "notifications-api"

urlpatterns = [
    path("notifications/", views.InboxListView.as_view(), name="inbox"),
    path("notifications/unread-count/", views.UnreadCountView.as_view(), name="unread-count"),
    path("notifications/mark-all-read/", views.MarkAllReadView.as_view(), name="mark-all-read"),
    path(
        "notifications/<int:notification_id>/mark-read/",
        views.MarkReadView.as_view(),
        name="mark-read",
    ),
    path(
        "notifications/<int:notification_id>/acknowledge/",
        views.AcknowledgeView.as_view(),
        name="acknowledge",
    ),
    path(
        "notifications/<int:notification_id>/dismiss/",
        views.DismissView.as_view(),
        name="dismiss",
    ),
    path(
        "notification-preferences/",
        preference_views.PreferencesView.as_view(),
        name="preferences",
    ),
    path("push-tokens/", device_views.ExpoPushTokenView.as_view(), name="push-tokens"),
    path(
        # `path`, so that any string (even with a slash) reaches the view and gets its 404.
        "push-tokens/<path:token>/",
        device_views.ExpoPushTokenDetailView.as_view(),
        name="push-token",
    ),
    path(
        "web-push-subscriptions/",
        device_views.WebPushSubscriptionView.as_view(),
        name="web-push-subscriptions",
    ),
    path(
        "web-push/vapid-public-key/",
        webpush_views.VapidPublicKeyView.as_view(),
        name="vapid-public-key",
    ),
    path(
        "staff/system-notifications/",
        staff_views.SystemNotificationView.as_view(),
        name="staff-system-notifications",
    ),
    path(
        "staff/notifications/<int:notification_id>/delivery-report/",
        staff_views.DeliveryReportView.as_view(),
        name="staff-delivery-report",
    ),
    path("auth/token/", auth_views.ObtainTokenView.as_view(), name="auth-token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="notifications-api:schema"), name="docs"),
]
