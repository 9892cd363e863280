from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for the README's main command (development only)."""

    name = "demo"
    verbose_name = "Demo data"
