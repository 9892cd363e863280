"""The delivery report of a caregiver invitation's text message: each SMS gateway (a
loopback stand-in answering as the gateway documents) takes the text, then posts its report
to our real webhook in its own documented format; the invitation's outbox row becomes
delivered, or failed with the gateway's reason, once however often the gateway repeats it,
and only when the report is authenticated as the gateway's."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.test import Client

from medguard_backend.testing.provider_answers import point_gateways_at
from medguard_backend.testing.providers import HANG
from notifications.channels.sms.failover import reset_circuits
from notifications.models import DeliveryReceipt
from notifications.receipts.signatures import twilio_signature
from patients import invitation_sms
from patients.models import CaregiverInvitation, InvitationSMS

pytestmark = pytest.mark.django_db

SECRET = "hook-secret-0123456789"
SITE = "https://medguard.example"
NUMBER = "+27821234567"
INVITE = {"phone": "082 123 4567", "escalation_delay_minutes": "30"}
MESSAGE_ID_PREFIX = {"clickatell": "ct", "bulksms": "", "africastalking": "ATXid_", "twilio": "SM"}


@pytest.fixture(autouse=True)
def gateways(settings, provider_server):
    reset_circuits()
    settings.NOTIFICATION_TRANSPORTS = {
        **settings.NOTIFICATION_TRANSPORTS,
        "sms": "notifications.channels.sms.GatewaySMSTransport",
    }
    settings.SMS_BACKENDS = ["clickatell"]
    settings.PROVIDER_READ_TIMEOUT_SECONDS = 1
    point_gateways_at(settings, provider_server.url)
    settings.PROVIDER_WEBHOOK_SECRET = SECRET
    settings.SITE_BASE_URL = SITE
    yield
    reset_circuits()


def texted_invitation(
    client, settings, provider: str, django_capture_on_commit_callbacks
) -> CaregiverInvitation:
    """The patient invites by phone; the worker's send goes through ``provider``."""
    settings.SMS_BACKENDS = [provider]
    with django_capture_on_commit_callbacks():
        assert client.post("/me/caregivers/", INVITE).status_code == 302
    invitation = CaregiverInvitation.objects.get()
    assert invitation_sms.send(invitation.pk) == InvitationSMS.SENT
    invitation.refresh_from_db()
    return invitation


def key_of(invitation: CaregiverInvitation) -> str:
    return f"caregiver-invitation-{invitation.pk}-{invitation.token_hash[:12]}"


def post_report(provider: str, report: object, *, secret: str = SECRET, reference: str = ""):
    """POST ``report`` to the status webhook as ``provider`` does: JSON for Clickatell and
    BulkSMS, a form for Africa's Talking, a signed form for Twilio."""
    path = f"/hooks/{provider}/{secret}/status/"
    if provider in ("clickatell", "bulksms"):
        return Client().post(path, json.dumps(report), content_type="application/json")
    assert isinstance(report, dict)
    if provider == "twilio":
        path += "?" + urlencode({"reference": reference})
        signature = twilio_signature(f"{SITE}{path}", report, "tw-token")
        return Client().post(path, report, headers={"X-Twilio-Signature": signature})
    return Client().post(path, report)


def delivered_report(provider: str, message_id: str, key: str) -> object:
    return {
        "clickatell": {
            "messageId": message_id,
            "clientMessageId": key,
            "statusCode": 4,
            "status": "RECEIVED_BY_RECIPIENT",
        },
        "bulksms": [
            {
                "id": message_id,
                "userSuppliedId": key,
                "status": {"id": "DELIVERED.null", "type": "DELIVERED", "subtype": None},
            }
        ],
        "africastalking": {
            "id": message_id,
            "status": "Success",
            "phoneNumber": NUMBER,
            "networkCode": "65501",
        },
        "twilio": {"MessageSid": message_id, "MessageStatus": "delivered"},
    }[provider]


FAILED_REPORTS = {
    "clickatell": (
        lambda message_id: {
            "messageId": message_id,
            "statusCode": 7,
            "status": "ERROR_DELIVERING_TO_HANDSET",
        },
        "clickatell reported it undelivered: ERROR_DELIVERING_TO_HANDSET",
    ),
    "bulksms": (
        lambda message_id: [
            {
                "id": message_id,
                "status": {"id": "FAILED.EXPIRED", "type": "FAILED", "subtype": "EXPIRED"},
            }
        ],
        "bulksms reported it expired: FAILED.EXPIRED",
    ),
    "africastalking": (
        lambda message_id: {
            "id": message_id,
            "status": "Failed",
            "phoneNumber": NUMBER,
            "failureReason": "AbsentSubscriber",
        },
        "africastalking reported it undelivered: AbsentSubscriber",
    ),
    "twilio": (
        lambda message_id: {
            "MessageSid": message_id,
            "MessageStatus": "undelivered",
            "ErrorCode": "30003",
        },
        "twilio reported it undelivered: error 30003",
    ),
}
PROVIDERS = sorted(FAILED_REPORTS)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_delivered_report_marks_the_invitation_text_delivered_once(
    signed_in, settings, provider, django_capture_on_commit_callbacks
):
    invitation = texted_invitation(
        signed_in, settings, provider, django_capture_on_commit_callbacks
    )
    assert invitation.sms_provider == provider
    assert invitation.sms_provider_message_id.startswith(MESSAGE_ID_PREFIX[provider])
    assert invitation.sms_provider_message_id
    report = delivered_report(provider, invitation.sms_provider_message_id, key_of(invitation))

    first = post_report(provider, report, reference=key_of(invitation))
    invitation.refresh_from_db()
    settled_at = invitation.sms_receipt_at
    again = post_report(provider, report, reference=key_of(invitation))

    assert (first.status_code, first.json()) == (200, {"received": 1, "new": 1})
    assert (again.status_code, again.json()) == (200, {"received": 1, "new": 0})
    invitation.refresh_from_db()
    assert (invitation.sms_status, invitation.sms_error) == (InvitationSMS.DELIVERED, "")
    assert invitation.sms_receipt_at == settled_at is not None
    assert DeliveryReceipt.objects.count() == 1
    page = signed_in.get("/me/caregivers/").content.decode()
    assert '<span class="sms-status">Delivered</span>' in page


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_failure_report_marks_the_invitation_text_failed_with_the_gateways_reason(
    signed_in, settings, provider, django_capture_on_commit_callbacks
):
    invitation = texted_invitation(
        signed_in, settings, provider, django_capture_on_commit_callbacks
    )
    build, reason = FAILED_REPORTS[provider]

    response = post_report(
        provider, build(invitation.sms_provider_message_id), reference=key_of(invitation)
    )

    assert response.status_code == 200
    invitation.refresh_from_db()
    assert (invitation.sms_status, invitation.sms_error) == (InvitationSMS.FAILED, reason)
    # A late "delivered" for a text already settled changes nothing.
    post_report(
        provider,
        delivered_report(provider, invitation.sms_provider_message_id, key_of(invitation)),
        reference=key_of(invitation),
    )
    invitation.refresh_from_db()
    assert invitation.sms_status == InvitationSMS.FAILED


def test_a_report_without_the_secret_or_with_a_forged_signature_changes_nothing(
    signed_in, settings, django_capture_on_commit_callbacks
):
    invitation = texted_invitation(
        signed_in, settings, "twilio", django_capture_on_commit_callbacks
    )
    report = delivered_report("twilio", invitation.sms_provider_message_id, "")
    path = f"/hooks/twilio/{SECRET}/status/?reference={key_of(invitation)}"

    guessed = post_report("twilio", report, secret="guess", reference=key_of(invitation))
    forged = Client().post(path, report, headers={"X-Twilio-Signature": "forged"})

    assert (guessed.status_code, forged.status_code) == (404, 403)
    invitation.refresh_from_db()
    assert (invitation.sms_status, invitation.sms_receipt_at) == (InvitationSMS.SENT, None)


def test_a_report_for_another_gateways_message_with_the_same_id_changes_nothing(
    signed_in, settings, django_capture_on_commit_callbacks
):
    invitation = texted_invitation(
        signed_in, settings, "africastalking", django_capture_on_commit_callbacks
    )

    post_report(
        "clickatell", delivered_report("clickatell", invitation.sms_provider_message_id, "")
    )

    invitation.refresh_from_db()
    assert invitation.sms_status == InvitationSMS.SENT


def test_a_text_whose_send_answer_was_lost_is_settled_by_the_report_carrying_our_key(
    signed_in, settings, provider_server, django_capture_on_commit_callbacks
):
    settings.SMS_BACKENDS = ["bulksms"]
    provider_server.script("/v1/messages", HANG)
    with django_capture_on_commit_callbacks():
        signed_in.post("/me/caregivers/", INVITE)
    invitation = CaregiverInvitation.objects.get()
    assert invitation_sms.send(invitation.pk) == InvitationSMS.SENT
    invitation.refresh_from_db()
    assert invitation.sms_error.startswith("outcome unknown")
    assert (invitation.sms_provider, invitation.sms_provider_message_id) == ("bulksms", "")

    post_report("bulksms", delivered_report("bulksms", "bs-lost-1", key_of(invitation)))

    invitation.refresh_from_db()
    assert (invitation.sms_status, invitation.sms_error) == (InvitationSMS.DELIVERED, "")
    assert invitation.sms_provider_message_id == "bs-lost-1"
