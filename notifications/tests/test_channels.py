"""Channel transports against a real SMTP server and a real outbox directory."""

from __future__ import annotations

import json
import logging
import smtplib
import socket
import threading
from pathlib import Path

import pytest

from medguard_backend.testing.smtp import SMTPTestServer, free_port
from notifications.channels import (
    OutgoingMessage,
    PushTarget,
    TransportError,
    get_transport,
)
from notifications.channels.email import EmailTransport, classify_smtp_error
from notifications.channels.push import ConsolePushTransport, FilePushTransport
from notifications.channels.sms import ConsoleSMSTransport, FileSMSTransport

PATIENT = "thandi@example.org"
PHONE = "+27821234567"
EXPO_TOKEN = "ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]"


@pytest.fixture(autouse=True)
def sender(settings) -> None:
    settings.DEFAULT_FROM_EMAIL = "MedGuard SA <noreply@medguard-sa.com>"


@pytest.fixture
def outbox(settings, tmp_path: Path) -> Path:
    settings.NOTIFICATION_FILE_TRANSPORT_DIR = tmp_path / "outbox"
    return tmp_path / "outbox"


def email(delivery_id: int = 1, to: str = PATIENT, **fields: str) -> OutgoingMessage:
    defaults = {
        "subject": f"Reminder {delivery_id}",
        "text": f"Time for your medication ({delivery_id})",
        "idempotency_key": f"delivery-{delivery_id}",
    }
    return OutgoingMessage(delivery_id, "email", to, **(defaults | fields))


def sms(delivery_id: int = 7, to: str = PHONE, **fields: str) -> OutgoingMessage:
    defaults = {"text": "Time for your medication", "idempotency_key": f"delivery-{delivery_id}"}
    return OutgoingMessage(delivery_id, "sms", to, **(defaults | fields))


def push(delivery_id: int = 9, targets: tuple[PushTarget, ...] | None = None) -> OutgoingMessage:
    if targets is None:
        targets = (
            PushTarget(1, "expo", EXPO_TOKEN, {}),
            PushTarget(2, "webpush", "https://push.example.net/abcdef123456789", {"auth": "k"}),
        )
    return OutgoingMessage(
        delivery_id,
        "push",
        "",
        subject="Medication reminder",
        text="Time for your medication",
        push_targets=targets,
        idempotency_key=f"delivery-{delivery_id}",
    )


# --- email -------------------------------------------------------------------------------


def test_email_arrives_with_subject_sender_recipient_and_both_parts(smtp_server) -> None:
    message = email(
        subject="Tyd vir jou medisyne",
        text="Neem 1 tablet om 08:00 — plain",
        html="<p>Neem 1 tablet om 08:00 — <b>html</b></p>",
        language="af",
    )

    with EmailTransport() as transport:
        receipt = transport.send(message)

    [received] = smtp_server.wait_for(1)
    assert received["Subject"] == "Tyd vir jou medisyne"
    assert received["From"] == "MedGuard SA <noreply@medguard-sa.com>"
    assert received["To"] == PATIENT
    assert received["Content-Language"] == "af"
    assert received.rcpt_tos == [PATIENT]
    assert received.envelope_from == "noreply@medguard-sa.com"
    plain = received.get_body(preferencelist=("plain",))
    html = received.get_body(preferencelist=("html",))
    assert plain is not None
    assert plain.get_content().strip() == "Neem 1 tablet om 08:00 — plain"
    assert html is not None
    assert html.get_content().strip() == "<p>Neem 1 tablet om 08:00 — <b>html</b></p>"
    assert receipt.provider_message_id == received["Message-ID"]
    assert received.get_content_type() == "multipart/alternative"


def test_email_without_html_is_plain_text_only(smtp_server) -> None:
    with EmailTransport() as transport:
        transport.send(email(text="Plain only"))

    [received] = smtp_server.wait_for(1)
    assert received.get_content_type() == "text/plain"
    assert received.get_content().strip() == "Plain only"


def test_message_id_is_the_same_for_every_send_of_one_delivery(smtp_server) -> None:
    with EmailTransport() as transport:
        transport.send(email(5))
    with EmailTransport() as transport:
        transport.send(email(5))
        transport.send(email(6))

    first, resend, other = smtp_server.wait_for(3)
    assert first["Message-ID"] == resend["Message-ID"]
    assert first["Message-ID"].startswith("<delivery-5.")
    assert first["Message-ID"].endswith("@medguard-sa.com>")
    assert other["Message-ID"] != first["Message-ID"]


def test_twenty_emails_in_one_batch_use_one_smtp_connection(smtp_server) -> None:
    with EmailTransport() as transport:
        for delivery_id in range(1, 21):
            transport.send(email(delivery_id, to=f"patient{delivery_id}@example.org"))

    received = smtp_server.wait_for(20)
    assert [m["To"] for m in received] == [f"patient{n}@example.org" for n in range(1, 21)]
    assert smtp_server.connections == 1


def test_refused_recipient_fails_permanently_without_naming_the_address_and_the_batch_goes_on(
    smtp_server,
) -> None:
    smtp_server.refuse_recipients = {"gone@example.org"}

    with EmailTransport() as transport:
        with pytest.raises(TransportError) as refused:
            transport.send(email(1, to="gone@example.org"))
        transport.send(email(2))

    assert refused.value.permanent is True
    assert refused.value.reason == "SMTP 550 5.1.1 recipient refused"
    assert "gone" not in str(refused.value)
    [received] = smtp_server.wait_for(1)
    assert received["To"] == PATIENT
    assert smtp_server.connections == 1


@pytest.mark.parametrize(
    ("answer", "permanent", "reason"),
    [
        ("451 4.3.0 try again later", False, "SMTP 451 4.3.0 message refused"),
        ("554 5.0.0 rejected", True, "SMTP 554 5.0.0 message refused"),
    ],
)
def test_message_refused_at_data_is_temporary_for_4xx_and_permanent_for_5xx(
    smtp_server, answer: str, permanent: bool, reason: str
) -> None:
    smtp_server.fail_data_with = answer

    with EmailTransport() as transport:
        with pytest.raises(TransportError) as refused:
            transport.send(email(1))
        smtp_server.fail_data_with = None
        transport.send(email(2))

    assert (refused.value.permanent, refused.value.reason) == (permanent, reason)
    [received] = smtp_server.wait_for(1)
    assert received["Subject"] == "Reminder 2"
    assert smtp_server.connections == 1


def test_unreachable_server_fails_every_send_temporarily_and_open_does_not_raise(
    settings,
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens there

    errors = []
    with EmailTransport() as transport:
        for delivery_id in (1, 2, 3):
            with pytest.raises(TransportError) as failed:
                transport.send(email(delivery_id))
            errors.append(failed.value)

    assert [(e.permanent, e.reason) for e in errors] == [
        (False, "SMTP connection failed: ConnectionRefusedError")
    ] * 3


def test_invalid_address_fails_permanently_without_contacting_the_server(smtp_server) -> None:
    with EmailTransport() as transport, pytest.raises(TransportError) as invalid:
        transport.send(email(to="not-an-address"))

    assert (invalid.value.permanent, invalid.value.reason) == (True, "invalid email address")
    assert smtp_server.messages == []
    assert smtp_server.connections == 0  # no EHLO: nothing was said to the server


def test_a_subject_with_a_line_break_fails_permanently_and_sends_nothing(smtp_server) -> None:
    with EmailTransport() as transport, pytest.raises(TransportError) as invalid:
        transport.send(email(subject="Reminder\nBcc: someone@example.net"))

    assert (invalid.value.permanent, invalid.value.reason) == (True, "invalid email header")
    assert smtp_server.messages == []


def test_a_connection_the_server_dropped_is_reopened_for_the_next_message(smtp_server) -> None:
    with EmailTransport() as transport:
        transport.send(email(1))
        smtp_server.drop_connections()
        # Only the next send finds out; it fails before DATA, so it is retried later
        # rather than risk a duplicate by resending at once.
        with pytest.raises(TransportError) as dropped:
            transport.send(email(2))
        transport.send(email(3))

    assert (dropped.value.permanent, dropped.value.reason) == (False, "SMTP server disconnected")
    assert [m["Subject"] for m in smtp_server.wait_for(2)] == ["Reminder 1", "Reminder 3"]
    assert smtp_server.connections == 2


def test_email_transport_logs_no_address_subject_or_text(smtp_server, caplog) -> None:
    smtp_server.refuse_recipients = {"gone@example.org"}
    caplog.set_level(logging.DEBUG, logger="notifications")

    with EmailTransport() as transport:
        transport.send(email(1))
        with pytest.raises(TransportError):
            transport.send(email(2, to="gone@example.org"))
        smtp_server.drop_connections()
        with pytest.raises(TransportError):
            transport.send(email(3))
        transport.send(email(4))

    logged = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("notif"))
    assert "delivery 3" in logged  # the dropped connection was logged, by delivery id
    for secret in ("example.org", "Reminder", "medication"):
        assert secret not in logged


@pytest.mark.parametrize(
    ("error", "permanent", "reason"),
    [
        (
            smtplib.SMTPRecipientsRefused({PATIENT: (550, f"5.1.1 <{PATIENT}> unknown".encode())}),
            True,
            "SMTP 550 5.1.1 recipient refused",
        ),
        (
            smtplib.SMTPRecipientsRefused({PATIENT: (450, b"4.2.0 greylisted, try later")}),
            False,
            "SMTP 450 4.2.0 recipient refused",
        ),
        (
            smtplib.SMTPSenderRefused(553, b"sender not allowed", "noreply@medguard-sa.com"),
            True,
            "SMTP 553 sender refused",
        ),
        (
            smtplib.SMTPDataError(421, b"4.7.0 shutting down"),
            False,
            "SMTP 421 4.7.0 message refused",
        ),
        (smtplib.SMTPServerDisconnected("gone"), False, "SMTP server disconnected"),
        (
            smtplib.SMTPAuthenticationError(535, b"5.7.8 bad credentials"),
            False,
            "SMTP 535 5.7.8 SMTPAuthenticationError",
        ),
    ],
)
def test_smtp_errors_are_classified_by_their_code_and_keep_the_server_text_out(
    error: smtplib.SMTPException, permanent: bool, reason: str
) -> None:
    classified = classify_smtp_error(error)

    assert (classified.permanent, classified.reason) == (permanent, reason)


# --- SMS -----------------------------------------------------------------------------------


def test_file_sms_is_written_as_json_named_after_the_idempotency_key(outbox: Path) -> None:
    receipt = FileSMSTransport().send(sms(7, text="Neem jou medisyne", language="af"))

    written = json.loads((outbox / "sms" / "delivery-7.json").read_text())
    assert written == {
        "to": PHONE,
        "text": "Neem jou medisyne",
        "idempotency_key": "delivery-7",
        "language": "af",
    }
    assert receipt.provider_message_id == "file-delivery-7"


def test_file_sms_sent_twice_with_one_key_is_one_file(outbox: Path) -> None:
    transport = FileSMSTransport()
    transport.send(sms(7, text="first"))
    transport.send(sms(7, text="again"))

    files = sorted((outbox / "sms").iterdir())
    assert [f.name for f in files] == ["delivery-7.json"]
    assert json.loads(files[0].read_text())["text"] == "again"


def test_file_sms_without_a_key_is_named_after_the_delivery(outbox: Path) -> None:
    receipt = FileSMSTransport().send(sms(12, idempotency_key=""))

    assert (outbox / "sms" / "delivery-12.json").exists()
    assert receipt.provider_message_id == "file-delivery-12"


def test_a_key_that_is_not_a_safe_file_name_stays_inside_the_outbox(outbox: Path) -> None:
    receipt = FileSMSTransport().send(sms(3, idempotency_key="../../etc/passwd"))

    [written] = (outbox / "sms").iterdir()
    assert written.name.endswith(".json")
    assert "/" not in written.stem
    assert receipt.provider_message_id == f"file-{written.stem}"


@pytest.mark.parametrize(
    "number",
    ["0821234567", "27821234567", "+27 82 123 4567", "+27821234567890", "+27000000000", ""],
)
def test_sms_to_a_number_that_is_not_valid_e164_fails_permanently(
    outbox: Path, number: str
) -> None:
    with pytest.raises(TransportError) as invalid:
        FileSMSTransport().send(sms(to=number))

    assert (invalid.value.permanent, invalid.value.reason) == (True, "invalid phone number")
    assert not (outbox / "sms").exists()


def test_console_sms_prints_the_message_to_stdout_and_not_to_logging(capsys, caplog) -> None:
    caplog.set_level(logging.DEBUG)

    receipt = ConsoleSMSTransport().send(sms(7, text="Time for your medication"))

    printed = capsys.readouterr().out
    assert PHONE in printed
    assert "Time for your medication" in printed
    assert "delivery 7" in printed
    assert PHONE not in caplog.text
    assert receipt.provider_message_id == "console-delivery-7"


def test_console_sms_rejects_an_invalid_number_too(capsys) -> None:
    with pytest.raises(TransportError) as invalid:
        ConsoleSMSTransport().send(sms(to="12345"))

    assert invalid.value.permanent is True
    assert capsys.readouterr().out == ""


# --- push ----------------------------------------------------------------------------------


def test_file_push_is_written_with_shortened_tokens(outbox: Path) -> None:
    receipt = FilePushTransport().send(push(9))

    written = json.loads((outbox / "push" / "delivery-9.json").read_text())
    assert written == {
        "targets": [
            {"kind": "expo", "token": "ExponentPush…"},
            {"kind": "webpush", "token": "https://push…"},
        ],
        "title": "Medication reminder",
        "body": "Time for your medication",
        "idempotency_key": "delivery-9",
    }
    assert receipt.provider_message_id == "file-delivery-9"
    assert receipt.dead_device_ids == ()


def test_file_push_sent_twice_with_one_key_is_one_file(outbox: Path) -> None:
    FilePushTransport().send(push(9))
    FilePushTransport().send(push(9))

    assert [f.name for f in (outbox / "push").iterdir()] == ["delivery-9.json"]


@pytest.mark.parametrize("transport_class", [FilePushTransport, ConsolePushTransport])
def test_push_without_an_active_device_fails_permanently(
    outbox: Path, capsys, transport_class: type[FilePushTransport | ConsolePushTransport]
) -> None:
    with pytest.raises(TransportError) as failed:
        transport_class().send(push(targets=()))

    assert (failed.value.permanent, failed.value.reason) == (True, "no active push device")
    assert not (outbox / "push").exists()
    assert capsys.readouterr().out == ""


def test_console_push_prints_title_body_and_shortened_tokens(capsys) -> None:
    ConsolePushTransport().send(push(9))

    printed = capsys.readouterr().out
    assert "Medication reminder" in printed
    assert "Time for your medication" in printed
    assert "ExponentPush…" in printed
    assert EXPO_TOKEN not in printed


# --- the registry --------------------------------------------------------------------------


def test_get_transport_builds_the_configured_transport_of_each_channel(settings) -> None:
    settings.NOTIFICATION_TRANSPORTS = {
        "email": "notifications.channels.email.EmailTransport",
        "sms": "notifications.channels.sms.ConsoleSMSTransport",
        "push": "notifications.channels.push.FilePushTransport",
    }

    assert isinstance(get_transport("email"), EmailTransport)
    assert isinstance(get_transport("sms"), ConsoleSMSTransport)
    assert isinstance(get_transport("push"), FilePushTransport)
    assert get_transport("email") is not get_transport("email")


@pytest.mark.parametrize("channel", ["fax", "in_app"])
def test_get_transport_of_a_channel_without_one_raises_value_error_naming_it(
    channel: str,
) -> None:
    with pytest.raises(ValueError, match=repr(channel)):
        get_transport(channel)


def test_get_transport_refuses_a_transport_configured_for_another_channel(settings) -> None:
    from django.core.exceptions import ImproperlyConfigured

    settings.NOTIFICATION_TRANSPORTS = {"sms": "notifications.channels.push.FilePushTransport"}

    with pytest.raises(ImproperlyConfigured, match="'push' transport"):
        get_transport("sms")


# --- the SMTP test server itself -------------------------------------------------------------


def send_in_background(server: SMTPTestServer, subject: str) -> tuple[threading.Thread, list]:
    outcome: list = []

    def run() -> None:
        client = smtplib.SMTP(server.host, server.port, timeout=10)
        outcome.append(client)
        try:
            client.sendmail(
                "noreply@medguard-sa.com",
                [PATIENT],
                f"Subject: {subject}\r\nTo: {PATIENT}\r\n\r\nbody\r\n".encode(),
            )
            outcome.append("sent")
        except (smtplib.SMTPException, OSError) as error:
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_a_held_message_is_stored_when_released_while_its_client_waits(smtp_server) -> None:
    smtp_server.hold_after(0)
    thread, outcome = send_in_background(smtp_server, "held")

    smtp_server.wait_until_held()
    assert smtp_server.messages == []
    smtp_server.release()
    thread.join(10)

    assert outcome[-1] == "sent"
    assert [m["Subject"] for m in smtp_server.wait_for(1)] == ["held"]


def test_a_held_message_whose_client_went_away_is_never_stored(smtp_server) -> None:
    smtp_server.hold_after(1)
    with EmailTransport() as transport:
        transport.send(email(1))
    thread, outcome = send_in_background(smtp_server, "killed mid-send")

    smtp_server.wait_until_held()
    outcome[0].sock.shutdown(socket.SHUT_RDWR)  # the worker dies
    thread.join(10)
    smtp_server.release()
    with EmailTransport() as transport:
        transport.send(email(3))

    assert [m["Subject"] for m in smtp_server.wait_for(2)] == ["Reminder 1", "Reminder 3"]


def test_wait_for_says_what_arrived_when_too_few_messages_came(smtp_server) -> None:
    with EmailTransport() as transport:
        transport.send(email(1))

    with pytest.raises(AssertionError, match=r"expected 2 messages .* got 1"):
        smtp_server.wait_for(2, timeout=0.2)


def test_smtp_server_environ_points_a_worker_process_at_it(smtp_server) -> None:
    assert smtp_server.environ() == {
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_server.port),
        "EMAIL_USE_TLS": "false",
    }
