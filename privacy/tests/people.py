"""A patient with something of everything the system holds about a person."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from allauth.account.models import EmailAddress
from django.utils import timezone

from medguard_backend.testing.factories import PushDeviceFactory, UserFactory
from medications.followups import escalate_missed
from medications.models import CaregiverLink, Dose
from medications.stock import check_low_stock
from medications.tests.factories import DoseFactory, ScheduleFactory, SupplyFactory
from notifications.services import NotificationService
from patients.models import CaregiverInvitation
from privacy.models import ConsentMethod, Purpose
from privacy.services.consent import record_consent
from privacy.wording import current_version

MEDICINE = "Zyvoxolin"


@dataclass
class Household:
    patient: Any
    caregiver: Any
    neighbour: Any
    supply_id: int


def household(patient: Any, caregiver: Any) -> Household:
    """``patient`` takes ``MEDICINE``, is running low, has missed a dose that ``caregiver``
    (allowed medication details) was told about, and has reminders waiting on SMS and email."""
    now = timezone.now()
    record_consent(
        patient,
        purpose=Purpose.SMS_REMINDERS,
        granted=True,
        method=ConsentMethod.API,
        wording_version=current_version(Purpose.SMS_REMINDERS),
        ip_address="203.0.113.9",
    )
    supply = SupplyFactory(
        patient=patient,
        medicine__name=MEDICINE,
        instructions=f"Take {MEDICINE} with food",
        quantity_on_hand=Decimal(2),
    )
    schedule = ScheduleFactory(supply=supply, start_date=now.date() - datetime.timedelta(days=3))
    DoseFactory(
        schedule=schedule,
        due_at=now - datetime.timedelta(hours=5),
        status=Dose.Status.MISSED,
        missed_at=now - datetime.timedelta(hours=4),
    )
    CaregiverLink.objects.create(
        patient=patient,
        caregiver=caregiver,
        can_see_medication_details=True,
        receives_stock_alerts=True,
        escalation_delay_minutes=0,
    )
    escalate_missed(now)
    check_low_stock(now)
    NotificationService.send_medication_reminder(
        user=patient, medication_name=MEDICINE, dosage="500mg", channels=["sms", "email", "in_app"]
    )
    PushDeviceFactory(user=patient)
    neighbour = UserFactory(username="neighbour", first_name="Pieter")
    # Held outside the user row: allauth's sign-in address, and invitations from someone
    # else to the patient's number (accepted) and address (still open).
    EmailAddress.objects.create(user=patient, email=patient.email, verified=True, primary=True)
    CaregiverInvitation.objects.create(
        patient=neighbour,
        phone=patient.phone,
        token_hash="a" * 64,
        expires_at=now + datetime.timedelta(days=7),
        accepted_at=now,
        accepted_by=patient,
    )
    CaregiverInvitation.objects.create(
        patient=neighbour,
        email=patient.email.upper(),
        token_hash="b" * 64,
        expires_at=now + datetime.timedelta(days=7),
    )
    clinic_news = NotificationService.create_notification(
        "Clinic closed", "Friday", "system", "low"
    )
    NotificationService.send_notification_to_users([patient, neighbour], clinic_news, ["in_app"])
    return Household(patient, caregiver, neighbour, supply.pk)
