"""What a caregiver may read of a patient: decided by their active ``CaregiverLink``.

Without an active link the patient does not exist for the caller (404, like any id that is
not theirs). With one, the caregiver sees the patient's doses; which medicine a dose is
for, and the patient's medications, only where the link allows medication details.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from medications.models import CaregiverLink

if TYPE_CHECKING:
    from accounts.models import User


def active_links(caregiver: User) -> QuerySet[CaregiverLink]:
    """The caller's links to patients whose accounts are active (a closed account's data
    is no longer shown to anyone)."""
    return CaregiverLink.objects.filter(
        caregiver=caregiver, active=True, patient__is_active=True
    ).select_related("patient")


def link_to(caregiver: User, patient_id: int) -> CaregiverLink:
    """The caller's active link to that patient, or ``CaregiverLink.DoesNotExist``."""
    return active_links(caregiver).get(patient_id=patient_id)
