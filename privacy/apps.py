from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """POPIA by design: consent, access (export), erasure, the audit trail and retention."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "privacy"
    verbose_name = "Privacy"
