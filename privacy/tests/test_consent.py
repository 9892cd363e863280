"""Consent per purpose: recorded with when, how and which wording; withdrawal applied at once
and read by the send-time policy."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from medguard_backend.testing.factories import UserFactory
from notifications.models import Delivery, DeliveryStatus, UserNotificationPreferences
from notifications.policy.decisions import Action, SkipReason, decide
from notifications.services import NotificationService
from privacy.models import AuditEntry, ConsentMethod, ConsentRecord, Purpose
from privacy.services.consent import apply_sms_keyword, record_consent
from privacy.wording import current_version

NOW = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.UTC)
SAST = zoneinfo.ZoneInfo("Africa/Johannesburg")


def decision(prefs: UserNotificationPreferences, channel: str, kind: str = "medication"):
    return decide(
        channel=channel,
        notification_type=kind,
        priority="critical",
        prefs=prefs,
        tz=SAST,
        now=NOW,
        has_address=True,
    )


@pytest.mark.parametrize(
    ("field", "channel"),
    [
        ("sms_reminders_consent", "sms"),
        ("email_reminders_consent", "email"),
        ("push_reminders_consent", "push"),
    ],
)
def test_withdrawn_channel_consent_skips_even_a_critical_message(field, channel) -> None:
    prefs = UserNotificationPreferences(sms_notifications_enabled=True, **{field: False})
    assert decision(prefs, channel) == decision_skip()
    assert decision(prefs, "in_app").action is Action.SEND


def decision_skip():
    from notifications.policy.decisions import Decision

    return Decision(Action.SKIP, NOW, SkipReason.NO_CONSENT)


def test_clinic_news_goes_only_to_people_who_opted_in() -> None:
    assert decision(UserNotificationPreferences(), "in_app", "news") == decision_skip()
    opted_in = UserNotificationPreferences(staff_broadcasts_consent=True)
    assert decision(opted_in, "in_app", "news").action is Action.SEND
    # Service messages are not marketing: they need no opt-in.
    assert decision(UserNotificationPreferences(), "in_app", "system").action is Action.SEND


@pytest.mark.django_db
def test_a_news_broadcast_writes_nothing_for_people_who_did_not_opt_in(patient) -> None:
    opted_in = UserFactory(username="opted-in")
    record_consent(
        opted_in,
        purpose=Purpose.STAFF_BROADCASTS,
        granted=True,
        method=ConsentMethod.WEB,
        wording_version=current_version(Purpose.STAFF_BROADCASTS),
    )
    notification = NotificationService.create_notification("Flu clinic", "Saturday", "news", "low")
    NotificationService.send_notification_to_users(
        [patient, opted_in], notification, channels=["in_app", "email"]
    )

    delivered_to = set(
        Delivery.objects.filter(recipient__notification=notification).values_list(
            "recipient__user__username", "channel"
        )
    )
    assert delivered_to == {("opted-in", "in_app"), ("opted-in", "email")}


@pytest.mark.django_db
def test_withdrawing_sms_consent_cancels_waiting_sms_and_records_how(patient) -> None:
    record_consent(
        patient,
        purpose=Purpose.SMS_REMINDERS,
        granted=True,
        method=ConsentMethod.API,
        wording_version=current_version(Purpose.SMS_REMINDERS),
    )
    NotificationService.send_medication_reminder(
        user=patient, medication_name="Metformin", dosage="500mg", channels=["sms", "email"]
    )
    assert Delivery.objects.get(channel="sms").status == DeliveryStatus.PENDING

    apply_sms_keyword(patient, " stop ")

    assert Delivery.objects.get(channel="sms").status == DeliveryStatus.CANCELLED
    assert Delivery.objects.get(channel="email").status == DeliveryStatus.PENDING
    prefs = UserNotificationPreferences.objects.get(user=patient)
    assert prefs.sms_reminders_consent is False
    history = list(
        ConsentRecord.objects.filter(user=patient)
        .order_by("pk")
        .values_list("purpose", "granted", "method")
    )
    assert history == [
        ("sms_reminders", True, "api"),
        ("sms_reminders", False, "sms_keyword"),
    ]


@pytest.mark.django_db
def test_giving_consent_to_an_outdated_wording_is_refused_and_writes_nothing(patient) -> None:
    with pytest.raises(ValidationError) as refused:
        record_consent(
            patient,
            purpose=Purpose.SMS_REMINDERS,
            granted=True,
            method=ConsentMethod.WEB,
            wording_version="2019-old",
        )
    assert list(refused.value.message_dict) == ["wording_version"]
    assert not ConsentRecord.objects.exists()
    assert not UserNotificationPreferences.objects.filter(user=patient).exists()


def test_consent_records_cannot_be_changed_after_the_fact(db, patient) -> None:
    record = record_consent(
        patient, purpose=Purpose.EMAIL_REMINDERS, granted=False, method=ConsentMethod.WEB
    )
    record.granted = True
    with pytest.raises(TypeError):
        record.save()
    with pytest.raises(TypeError):
        record.delete()
    assert ConsentRecord.objects.get().granted is False


def test_the_api_lists_every_purpose_with_the_wording_to_show(patient, api_client_for) -> None:
    response = api_client_for(patient).get("/api/me/consents/")

    assert response.status_code == 200
    by_purpose = {state["purpose"]: state for state in response.json()}
    assert set(by_purpose) == set(Purpose.values)
    assert by_purpose["staff_broadcasts"]["granted"] is False
    assert by_purpose["sms_reminders"]["wording_version"] == current_version("sms_reminders")
    assert by_purpose["sms_reminders"]["recorded_at"] is None


def test_the_api_gives_and_withdraws_consent_recording_the_ip_address(
    patient, api_client_for
) -> None:
    client = api_client_for(patient)
    version = current_version("staff_broadcasts")
    given = client.post(
        "/api/me/consents/",
        {"purpose": "staff_broadcasts", "granted": True, "wording_version": version},
        format="json",
        REMOTE_ADDR="198.51.100.7",
    )
    withdrawn = client.post(
        "/api/me/consents/", {"purpose": "staff_broadcasts", "granted": False}, format="json"
    )

    assert given.status_code == 201
    assert withdrawn.status_code == 201
    state = {s["purpose"]: s for s in withdrawn.json()}["staff_broadcasts"]
    assert state["granted"] is False
    assert state["method"] == "api"
    first = ConsentRecord.objects.order_by("pk").first()
    assert (first.granted, first.wording_version, first.ip_address) == (
        True,
        version,
        "198.51.100.7",
    )
    assert AuditEntry.objects.filter(subject=patient, resource="consent").count() == 2


def test_the_api_names_the_field_when_the_purpose_is_unknown(patient, api_client_for) -> None:
    response = api_client_for(patient).post(
        "/api/me/consents/", {"purpose": "telepathy", "granted": True}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["purpose"]
    assert not ConsentRecord.objects.exists()


def test_staff_record_consent_on_a_patients_behalf_only_with_a_reason(
    patient, staff_member, api_client_for
) -> None:
    client = api_client_for(staff_member)
    url = f"/api/staff/users/{patient.pk}/consents/"
    without_reason = client.post(url, {"purpose": "sms_reminders", "granted": False}, format="json")
    with_reason = client.post(
        url,
        {"purpose": "sms_reminders", "granted": False, "reason": "Asked at the front desk"},
        format="json",
    )

    assert without_reason.status_code == 400
    assert list(without_reason.json()) == ["reason"]
    assert with_reason.status_code == 201
    record = ConsentRecord.objects.get()
    assert (record.method, record.recorded_by, record.reason) == (
        "admin",
        staff_member,
        "Asked at the front desk",
    )


def test_a_patient_cannot_use_the_staff_consent_endpoint(patient, api_client_for) -> None:
    other = UserFactory(username="someone-else")
    response = api_client_for(patient).post(
        f"/api/staff/users/{other.pk}/consents/",
        {"purpose": "sms_reminders", "granted": False, "reason": "x"},
        format="json",
    )
    assert response.status_code == 403
    assert not ConsentRecord.objects.exists()
