"""The SMS gateways against loopback stand-ins that answer as each provider documents:
the request each one gets, how each answer is classified, and failover between them."""

from __future__ import annotations

import base64
import socket

import pytest

from medguard_backend.testing.provider_answers import (
    africastalking_recipient_error,
    bulksms_failing,
    bulksms_problem,
    clickatell_message_error,
    clickatell_refusing,
    clickatell_request_error,
    point_gateways_at,
    twilio_error,
)
from medguard_backend.testing.providers import DROP, HANG, Answer
from notifications.channels import OutcomeUnknown, OutgoingMessage, SendReceipt, TransportError
from notifications.channels.sms import GatewaySMSTransport
from notifications.channels.sms.failover import reset_circuits

NUMBER = "+27821234567"


def sms(delivery_id: int = 7, text: str = "Time for your medication.") -> OutgoingMessage:
    return OutgoingMessage(
        delivery_id=delivery_id,
        channel="sms",
        to=NUMBER,
        text=text,
        idempotency_key=f"delivery-{delivery_id}",
    )


@pytest.fixture(autouse=True)
def gateways(settings, provider_server):
    reset_circuits()
    settings.SMS_BACKENDS = ["clickatell", "bulksms"]
    settings.SMS_SENDER_ID = ""
    settings.SMS_VALIDITY_MINUTES = 90
    settings.PROVIDER_READ_TIMEOUT_SECONDS = 1
    point_gateways_at(settings, provider_server.url)
    settings.PROVIDER_WEBHOOK_SECRET = "hook-secret"
    settings.SITE_BASE_URL = "https://medguard.example"
    yield
    reset_circuits()


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_clickatell_gets_the_documented_request_and_its_message_id_is_the_receipt(
    provider_server,
):
    receipt = GatewaySMSTransport().send(sms())

    [request] = provider_server.requests_to("/v1/message")
    assert request.headers["authorization"] == "ct-key"
    assert request.json() == {
        "messages": [
            {
                "channel": "sms",
                "to": "27821234567",
                "content": "Time for your medication.",
                "clientMessageId": "delivery-7",
                "validityPeriod": 90,
                "charset": "GSM",
            }
        ]
    }
    assert receipt.provider == "clickatell"
    assert receipt.provider_message_id.startswith("ct")
    assert provider_server.requests_to("/v1/messages") == []


def test_a_text_outside_gsm7_goes_as_ucs2_and_the_sender_id_is_sent(settings, provider_server):
    settings.SMS_SENDER_ID = "MedGuard"
    GatewaySMSTransport().send(sms(text="Tyd vir jou medisyne 💊"))

    [request] = provider_server.requests_to("/v1/message")
    [item] = request.json()["messages"]
    assert item["charset"] == "UCS2"
    assert item["from"] == "MedGuard"


def test_an_invalid_number_at_clickatell_fails_at_once_without_trying_the_next_gateway(
    provider_server,
):
    provider_server.script("/v1/message", clickatell_message_error(105, "Invalid destination"))

    with pytest.raises(TransportError) as raised:
        GatewaySMSTransport().send(sms())

    assert raised.value.permanent is True
    assert raised.value.reason == "clickatell 105: invalid destination address"
    assert provider_server.requests_to("/v1/messages") == []


def test_a_clickatell_server_error_moves_the_message_to_bulksms(provider_server):
    provider_server.script("/v1/message", Answer(503, "Service Unavailable"))

    receipt = GatewaySMSTransport().send(sms())

    assert receipt.provider == "bulksms"
    [request] = provider_server.requests_to("/v1/messages")
    assert request.headers["authorization"] == basic_auth("bs-id", "bs-secret")
    assert request.json() == [
        {
            "to": NUMBER,
            "body": "Time for your medication.",
            "encoding": "TEXT",
            "userSuppliedId": "delivery-7",
            "deliveryReports": "ALL",
            "longMessageMaxParts": 1,
        }
    ]


def test_rate_limits_and_refused_credentials_move_on_with_the_reasons_when_all_refuse(
    provider_server,
):
    provider_server.script("/v1/message", clickatell_request_error(401, 1, "Invalid API key"))
    provider_server.script(
        "/v1/messages", bulksms_problem(429, "Too Many Requests", "Slow down", "rate-limit")
    )

    with pytest.raises(TransportError) as raised:
        GatewaySMSTransport().send(sms())

    assert raised.value.permanent is False
    assert raised.value.reason == (
        "clickatell 1: Invalid API key; bulksms rate limited (HTTP 429): Too Many Requests"
    )


def test_a_read_timeout_is_an_unknown_outcome_and_no_other_gateway_is_tried(provider_server):
    provider_server.script("/v1/message", HANG)

    with pytest.raises(OutcomeUnknown) as raised:
        GatewaySMSTransport().send(sms())

    assert raised.value.reason == "clickatell gave no answer: ReadTimeout"
    assert raised.value.provider == "clickatell"
    assert provider_server.requests_to("/v1/messages") == []


def test_a_connection_dropped_after_the_request_is_an_unknown_outcome(provider_server):
    provider_server.script("/v1/message", DROP)

    with pytest.raises(OutcomeUnknown):
        GatewaySMSTransport().send(sms())

    assert len(provider_server.requests_to("/v1/message")) == 1
    assert provider_server.requests_to("/v1/messages") == []


def test_an_unreachable_gateway_is_temporary_and_the_next_one_sends(settings, provider_server):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        settings.CLICKATELL_API_URL = f"http://127.0.0.1:{closed.getsockname()[1]}"

    receipt = GatewaySMSTransport().send(sms())

    assert receipt.provider == "bulksms"


def test_an_open_circuit_sends_straight_to_the_next_gateway(settings, provider_server):
    settings.SMS_CIRCUIT_FAILURES = 2
    provider_server.script("/v1/message", Answer(500, "oops"), Answer(502, "oops"))
    transport = GatewaySMSTransport()
    transport.send(sms(1))
    transport.send(sms(2))

    receipt = transport.send(sms(3))

    assert receipt.provider == "bulksms"
    assert len(provider_server.requests_to("/v1/message")) == 2
    assert [r.json()[0]["userSuppliedId"] for r in provider_server.requests_to("/v1/messages")] == [
        "delivery-1",
        "delivery-2",
        "delivery-3",
    ]


def test_bulksms_refusing_the_number_is_permanent(settings, provider_server):
    settings.SMS_BACKENDS = ["bulksms", "clickatell"]
    provider_server.script(
        "/v1/messages", bulksms_problem(400, "Bad Request", "The 'to' value is not a number")
    )

    with pytest.raises(TransportError) as raised:
        GatewaySMSTransport().send(sms())

    assert raised.value.permanent is True
    assert provider_server.requests_to("/v1/message") == []


def test_africastalking_gets_a_form_with_its_api_key_and_reads_the_recipient_status(
    settings, provider_server
):
    settings.SMS_BACKENDS = ["africastalking"]

    receipt = GatewaySMSTransport().send(sms())

    [request] = provider_server.requests_to("/version1/messaging")
    assert request.headers["apikey"] == "at-key"
    assert request.form() == {
        "username": "medguard",
        "to": NUMBER,
        "message": "Time for your medication.",
    }
    assert receipt.provider == "africastalking"
    assert receipt.provider_message_id.startswith("ATXid_")


@pytest.mark.parametrize(
    ("code", "status", "permanent"),
    [
        (403, "InvalidPhoneNumber", True),
        (406, "UserInBlacklist", True),
        (405, "InsufficientBalance", False),
        (500, "InternalServerError", False),
    ],
)
def test_africastalking_recipient_codes_are_classified(
    settings, provider_server, code, status, permanent
):
    settings.SMS_BACKENDS = ["africastalking"]
    provider_server.script("/version1/messaging", africastalking_recipient_error(code, status))

    with pytest.raises(TransportError) as raised:
        GatewaySMSTransport().send(sms())

    assert raised.value.permanent is permanent
    assert status in raised.value.reason


def test_twilio_gets_basic_auth_a_validity_period_and_a_status_callback_carrying_the_key(
    settings, provider_server
):
    settings.SMS_BACKENDS = ["twilio"]

    receipt = GatewaySMSTransport().send(sms())

    [request] = provider_server.requests_to("/2010-04-01/Accounts/AC123/Messages.json")
    assert request.headers["authorization"] == basic_auth("AC123", "tw-token")
    assert request.form() == {
        "To": NUMBER,
        "From": "+15005550006",
        "Body": "Time for your medication.",
        "ValidityPeriod": "5400",
        "StatusCallback": (
            "https://medguard.example/hooks/twilio/hook-secret/status/?reference=delivery-7"
        ),
    }
    assert receipt.provider == "twilio"
    assert receipt.provider_message_id.startswith("SM")


def test_twilio_invalid_number_is_permanent_and_its_rate_limit_is_not(settings, provider_server):
    settings.SMS_BACKENDS = ["twilio"]
    provider_server.script(
        "/2010-04-01/Accounts/",
        twilio_error(400, 21211, "The 'To' number +27821234567 is not a valid phone number."),
        twilio_error(429, 20429, "Too Many Requests"),
    )
    transport = GatewaySMSTransport()

    with pytest.raises(TransportError) as invalid:
        transport.send(sms(1))
    with pytest.raises(TransportError) as limited:
        transport.send(sms(2))

    assert (invalid.value.permanent, invalid.value.reason) == (
        True,
        "twilio 21211: invalid 'To' phone number",
    )
    assert (limited.value.permanent, limited.value.reason) == (
        False,
        "twilio rate limited (HTTP 429): code 20429",
    )


def test_a_number_that_is_not_e164_is_refused_before_any_request(provider_server):
    with pytest.raises(TransportError) as raised:
        GatewaySMSTransport().send(
            OutgoingMessage(delivery_id=1, channel="sms", to="0821234567", text="x")
        )

    assert raised.value.permanent is True
    assert provider_server.requests == []


def to(n: int) -> str:
    return f"+2782100{n:04d}"


def numbered(n: int) -> OutgoingMessage:
    return OutgoingMessage(
        delivery_id=n, channel="sms", to=to(n), text=f"Dose {n}", idempotency_key=f"delivery-{n}"
    )


def test_a_batch_goes_as_one_request_of_many_messages_each_answered_on_its_own(
    provider_server,
):
    # Clickatell answers per message: 2 accepted, 3 an invalid number (permanent: no other
    # gateway is asked), 4 refused for a reason of Clickatell's own (routing: BulkSMS may
    # take it, and does, in a request of its own carrying that message alone).
    provider_server.route(
        "POST",
        "/v1/message",
        clickatell_refusing(
            {to(3)[1:]: (105, "Invalid destination"), to(4)[1:]: (114, "Cannot route")}
        ),
    )

    outcomes = GatewaySMSTransport().send_batch([numbered(n) for n in (1, 2, 3, 4)])

    [request] = provider_server.requests_to("/v1/message")
    assert [m["clientMessageId"] for m in request.json()["messages"]] == [
        f"delivery-{n}" for n in (1, 2, 3, 4)
    ]
    assert [m["content"] for m in request.json()["messages"]] == [f"Dose {n}" for n in (1, 2, 3, 4)]
    [second] = provider_server.requests_to("/v1/messages")
    assert [m["userSuppliedId"] for m in second.json()] == ["delivery-4"]
    first, two, three, four = outcomes
    assert isinstance(first, SendReceipt)
    assert isinstance(two, SendReceipt)
    assert first.provider == two.provider == "clickatell"
    assert first.provider_message_id != two.provider_message_id
    assert isinstance(three, TransportError)
    assert not isinstance(three, SendReceipt)
    assert (three.permanent, three.reason) == (True, "clickatell 105: invalid destination address")
    assert isinstance(four, SendReceipt)
    assert four.provider == "bulksms"


def test_a_whole_request_refused_with_5xx_fails_over_as_one_request(provider_server):
    provider_server.script("/v1/message", Answer(503, "busy"))

    outcomes = GatewaySMSTransport().send_batch([numbered(n) for n in (1, 2, 3)])

    assert [o.provider for o in outcomes if isinstance(o, SendReceipt)] == ["bulksms"] * 3
    [request] = provider_server.requests_to("/v1/messages")
    assert [m["to"] for m in request.json()] == [to(1), to(2), to(3)]


def test_a_group_failing_over_to_twilio_goes_one_message_per_request_in_flight_together(
    settings, provider_server
):
    settings.SMS_BACKENDS = ["clickatell", "twilio"]
    provider_server.script("/v1/message", Answer(503, "busy"))
    provider_server.delay = 0.2

    outcomes = GatewaySMSTransport().send_batch([numbered(n) for n in range(1, 7)])

    assert [o.provider for o in outcomes if isinstance(o, SendReceipt)] == ["twilio"] * 6
    sent = provider_server.requests_to("/2010-04-01/Accounts/")
    assert sorted(r.form()["To"] for r in sent) == [to(n) for n in range(1, 7)]
    assert provider_server.peak_in_flight > 1


def test_a_request_of_many_without_an_answer_leaves_every_message_unknown(provider_server):
    provider_server.script("/v1/message", HANG)

    outcomes = GatewaySMSTransport().send_batch([numbered(n) for n in (1, 2, 3)])

    assert [type(o) for o in outcomes] == [OutcomeUnknown] * 3
    assert provider_server.requests_to("/v1/messages") == []


def test_an_answer_that_does_not_match_the_request_leaves_every_message_unknown(
    provider_server,
):
    provider_server.script("/v1/message", clickatell_message_error(105, "Invalid destination"))

    outcomes = GatewaySMSTransport().send_batch([numbered(n) for n in (1, 2)])

    assert [type(o) for o in outcomes] == [OutcomeUnknown] * 2
    assert provider_server.requests_to("/v1/messages") == []


def test_bulksms_answers_each_message_of_an_array(settings, provider_server):
    settings.SMS_BACKENDS = ["bulksms", "clickatell"]
    provider_server.route("POST", "/v1/messages", bulksms_failing({to(2)}))

    one, two = GatewaySMSTransport().send_batch([numbered(1), numbered(2)])

    assert isinstance(one, SendReceipt)
    assert one.provider == "bulksms"
    assert isinstance(two, TransportError)
    assert two.permanent
    assert len(provider_server.requests_to("/v1/messages")) == 1
    assert provider_server.requests_to("/v1/message") == []


def test_a_group_bulksms_refuses_for_one_bad_number_is_sent_again_one_by_one(
    settings, provider_server
):
    # BulkSMS refuses a whole array with a 400 naming a recipient, taking none of it: each
    # message is sent alone to learn which number it meant.
    settings.SMS_BACKENDS = ["bulksms", "clickatell"]
    refused = bulksms_problem(400, "Bad Request", "The 'to' value is not a number")
    # The group of two, then message 1 alone; message 2 alone is taken.
    provider_server.script("/v1/messages", refused, refused)

    one, two = GatewaySMSTransport().send_batch([numbered(1), numbered(2)])

    sizes = [len(r.json()) for r in provider_server.requests_to("/v1/messages")]
    assert sizes == [2, 1, 1]
    assert isinstance(one, TransportError)
    assert one.permanent
    assert isinstance(two, SendReceipt)
    assert provider_server.requests_to("/v1/message") == []


def test_system_checks_name_each_missing_gateway_credential(settings):
    from django.core import checks

    settings.SMS_BACKENDS = ["clickatell", "twilio"]
    settings.CLICKATELL_API_KEY = ""
    settings.TWILIO_FROM = ""
    settings.PROVIDER_WEBHOOK_SECRET = ""

    found = [(m.id, m.msg) for m in checks.run_checks() if m.id.startswith("notifications.")]

    assert found == [
        ("notifications.E001", "SMS_BACKENDS names clickatell, but CLICKATELL_API_KEY is not set."),
        ("notifications.E001", "SMS_BACKENDS names twilio, but TWILIO_FROM is not set."),
        (
            "notifications.W001",
            "PROVIDER_WEBHOOK_SECRET is not set: delivery reports and replies from gateways "
            "that sign nothing are refused.",
        ),
    ]


def test_a_fully_configured_gateway_list_passes_the_system_checks():
    from django.core import checks

    assert [m.id for m in checks.run_checks() if m.id.startswith("notifications.")] == []
