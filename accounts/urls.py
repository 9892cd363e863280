from __future__ import annotations

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("language/", views.set_language, name="language"),
    path("phone/", views.phone_page, name="phone"),
    path("phone/verify/", views.phone_verify_page, name="phone-verify"),
]
