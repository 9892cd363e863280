"""Which caregiver is told what: the one rule for every alert a caregiver receives about a
patient (a missed dose, low stock, an expiry date)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User

    from .models import CaregiverLink


def told_to_caregiver(
    patient: User, link: CaregiverLink, facts: Mapping[str, Any]
) -> dict[str, Any]:
    """The facts of a patient's event as ``link``'s caregiver is told them: whose event it
    is (the patient's name), and which medicine only if the patient allowed it."""
    told = {**facts, "patient_name": str(patient)}
    if not link.can_see_medication_details:
        told.pop("medication_name", None)
    return told
