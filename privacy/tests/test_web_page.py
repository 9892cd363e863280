"""The "My data" page: consent with one button each way, the export download, and erasure
with the password typed again."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model

from privacy.models import ConsentRecord, ErasureRecord
from privacy.wording import current_version


def test_the_page_lists_every_purpose_in_the_users_language(client, patient) -> None:
    patient.preferred_language = "af"
    patient.save()
    client.force_login(patient)

    response = client.get("/my-data/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Herinneringe en waarskuwings per SMS" in page
    assert page.count('name="purpose"') == 5
    assert "no-cache" in response["Cache-Control"]


def test_giving_and_withdrawing_on_the_page_records_the_web_method(client, patient) -> None:
    client.force_login(patient)
    version = current_version("staff_broadcasts")

    given = client.post(
        "/my-data/consent/",
        {"purpose": "staff_broadcasts", "granted": "true", "wording_version": version},
    )
    withdrawn = client.post(
        "/my-data/consent/", {"purpose": "staff_broadcasts", "granted": "false"}
    )

    assert given.status_code == withdrawn.status_code == 302
    assert list(
        ConsentRecord.objects.order_by("pk").values_list("granted", "method", "wording_version")
    ) == [(True, "web", version), (False, "web", version)]


def test_a_stale_wording_is_refused_with_a_message_and_nothing_recorded(client, patient) -> None:
    client.force_login(patient)

    response = client.post(
        "/my-data/consent/",
        {"purpose": "sms_reminders", "granted": "true", "wording_version": "old"},
        follow=True,
    )

    assert "The wording has changed" in response.content.decode()
    assert not ConsentRecord.objects.exists()


def test_the_download_link_gives_the_export_to_the_signed_in_user(client, patient) -> None:
    client.force_login(patient)

    response = client.get("/api/me/export/")

    assert response.status_code == 200
    assert json.loads(b"".join(response.streaming_content))["profile"]["username"] == "thandi"


def test_erasing_on_the_page_needs_the_password_and_signs_out(client, patient) -> None:
    client.force_login(patient)

    refused = client.post("/my-data/erase/", {"password": "wrong"})
    assert refused.status_code == 400
    assert "That is not your password." in refused.content.decode()
    assert get_user_model().objects.filter(pk=patient.pk).exists()

    erased = client.post("/my-data/erase/", {"password": "long-test-password-1"})

    assert erased.status_code == 200
    assert "Your account and your data have been erased." in erased.content.decode()
    assert not get_user_model().objects.filter(pk=patient.pk).exists()
    assert ErasureRecord.objects.get().method == "self"
    assert client.get("/notifications/").status_code == 302  # signed out
