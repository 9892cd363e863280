from django.contrib import admin
from django.urls import include, path

from accounts.views import home

from .health import health, live, ready
from .metrics.views import metrics

# A dropped database connection raised outside a view (in a middleware, the session saved
# on the way out) is 503, not Django's 500 or 400 page (medguard_backend/database_errors.py).
handler400 = "medguard_backend.database_errors.bad_request"
handler500 = "medguard_backend.database_errors.server_error"

urlpatterns = [
    path("", home, name="home"),
    path("health/", health, name="health"),
    path("health/live", live, name="health-live"),
    path("health/ready", ready, name="health-ready"),
    path("metrics", metrics, name="metrics"),
    # Ours first: allauth's own phone pages are not used (accounts/phones.py says why).
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.account.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("notifications.api.urls")),
    path("api/", include("medications.api.urls")),
    path("api/", include("privacy.api.urls")),
    path("api/", include("patients.api_urls")),
    path("my-data/", include("privacy.web")),
    path("notifications/", include("notifications.web.urls")),
    path("hooks/anymail/", include("notifications.channels.esp_webhooks")),
    path("hooks/", include("notifications.receipts.urls")),
    path("staff/", include("clinic.urls")),
    path("me/", include("patients.urls")),
]
