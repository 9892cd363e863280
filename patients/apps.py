from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = "Patients and caregivers (web)"
    default_auto_field = "django.db.models.BigAutoField"
