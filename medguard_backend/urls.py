from django.contrib import admin
from django.urls import include, path

from .health import health

urlpatterns = [
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/", include("notifications.api.urls")),
    path("api/", include("medications.api.urls")),
    path("notifications/", include("notifications.web.urls")),
    path("hooks/anymail/", include("anymail.urls")),
    path("hooks/", include("notifications.receipts.urls")),
    path("staff/", include("clinic.urls")),
]
