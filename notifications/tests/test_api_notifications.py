"""GET /api/notifications/ and the state changes of the caller's own notifications."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from notifications.models import NotificationRecipient, NotificationTemplate, RecipientStatus
from notifications.services import NotificationService

pytestmark = pytest.mark.django_db

ITEM_KEYS = {
    "id",
    "title",
    "content",
    "type",
    "priority",
    "status",
    "require_acknowledgment",
    "created",
    "read_at",
    "acknowledged_at",
    "dismissed_at",
}


def notify(user, title="Dose changed", *, notification_type="medication", ack=False):
    return NotificationService.create_notification(
        title,
        f"{title}: details",
        notification_type,
        "high",
        target_users=[user],
        require_acknowledgment=ack,
    )


def titles(response) -> list[str]:
    return [item["title"] for item in response.json()["results"]]


# --- The list ---------------------------------------------------------------------------------


def test_list_shows_only_the_callers_notifications_newest_first(api, patient, other_patient):
    first = notify(patient, "First")
    notify(other_patient, "Someone else's")
    second = notify(patient, "Second")

    response = api.get("/api/notifications/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert [item["id"] for item in body["results"]] == [second.pk, first.pk]
    assert body["next"] is None
    assert body["previous"] is None
    assert set(body["results"][0]) == ITEM_KEYS
    assert body["results"][0] | {"created": None} == {
        "id": second.pk,
        "title": "Second",
        "content": "Second: details",
        "type": "medication",
        "priority": "high",
        "status": "unread",
        "require_acknowledgment": False,
        "created": None,
        "read_at": None,
        "acknowledged_at": None,
        "dismissed_at": None,
    }


def test_listed_times_are_the_stored_instants_written_as_drf_writes_them(api, patient):
    from rest_framework.fields import DateTimeField

    notification = notify(patient, "Read one")
    api.post(f"/api/notifications/{notification.pk}/mark-read/")
    stored = NotificationRecipient.objects.get(notification=notification, user=patient)

    [item] = api.get("/api/notifications/").json()["results"]

    assert stored.read_at is not None
    assert item["created"] == DateTimeField().to_representation(stored.created_at)
    assert item["read_at"] == DateTimeField().to_representation(stored.read_at)
    assert item["acknowledged_at"] is None


def test_seed_example_filters_unread_medication_notifications(api, patient):
    wanted = notify(patient, "Take your pill")
    read = notify(patient, "Already read")
    notify(patient, "Maintenance tonight", notification_type="maintenance")
    api.post(f"/api/notifications/{read.pk}/mark-read/")

    response = api.get("/api/notifications/?status=unread&type=medication")

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [wanted.pk]


def test_dismissed_notifications_are_left_out_unless_asked_for(api, patient):
    kept = notify(patient, "Kept")
    dismissed = notify(patient, "Dismissed")
    api.post(f"/api/notifications/{dismissed.pk}/dismiss/")

    everything = api.get("/api/notifications/")
    only_dismissed = api.get("/api/notifications/?status=dismissed")

    assert [item["id"] for item in everything.json()["results"]] == [kept.pk]
    assert [item["id"] for item in only_dismissed.json()["results"]] == [dismissed.pk]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("status=gone", "status"),
        ("type=weather", "type"),
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("page_size=ten", "page_size"),
        ("cursor=xyz", "cursor"),
    ],
)
def test_an_invalid_query_parameter_is_a_400_naming_it(api, query, parameter):
    response = api.get(f"/api/notifications/?{query}")

    assert response.status_code == 400
    assert list(response.json()) == [parameter]


def test_a_forged_cursor_position_is_a_400_not_a_server_error(api):
    import base64

    cursor = base64.b64encode(b"p=not-a-date").decode()

    response = api.get("/api/notifications/", {"cursor": cursor})

    assert response.status_code == 400
    assert list(response.json()) == ["cursor"]


def test_pages_follow_the_cursor_without_repeating_or_skipping(api, patient):
    created = [notify(patient, f"N{number}") for number in range(5)]

    first = api.get("/api/notifications/?page_size=2")
    second = api.get(first.json()["next"])
    third = api.get(second.json()["next"])

    assert titles(first) == ["N4", "N3"]
    assert titles(second) == ["N2", "N1"]
    assert titles(third) == ["N0"]
    assert third.json()["next"] is None
    assert len(created) == 5


def test_previous_links_walk_back_to_the_first_page(api, patient):
    for number in range(5):
        notify(patient, f"N{number}", notification_type="medication" if number % 2 else "stock")

    first = api.get("/api/notifications/?page_size=2")
    second = api.get(first.json()["next"])
    third = api.get(second.json()["next"])
    back_to_second = api.get(third.json()["previous"])
    back_to_first = api.get(back_to_second.json()["previous"])

    assert first.json()["previous"] is None
    assert titles(back_to_second) == titles(second) == ["N2", "N1"]
    assert titles(back_to_first) == titles(first) == ["N4", "N3"]
    assert back_to_first.json()["previous"] is None
    assert api.get(back_to_first.json()["next"]).json() == second.json()


def test_filters_hold_across_pages(api, patient):
    for number in range(6):
        notify(patient, f"N{number}", notification_type="medication" if number % 2 else "stock")
    # Titles are encrypted at rest: found in Python, not by SQL.
    n3 = [r.pk for r in NotificationRecipient.objects.all() if r.notification.title == "N3"]
    NotificationRecipient.objects.filter(pk__in=n3).update(status="read")

    first = api.get("/api/notifications/?status=unread&type=medication&page_size=1")
    second = api.get(first.json()["next"])

    assert titles(first) == ["N5"]
    assert titles(second) == ["N1"]
    assert second.json()["next"] is None
    assert titles(api.get(second.json()["previous"])) == ["N5"]


def test_titles_are_rendered_in_the_callers_language(api_client_for, other_patient):
    NotificationService.send_medication_reminder(
        other_patient, "Metformin", "500mg", channels=["in_app"]
    )

    response = api_client_for(other_patient).get("/api/notifications/")

    assert response.status_code == 200
    (item,) = response.json()["results"]
    assert "Metformin" in item["title"]
    assert item["title"] != NotificationRecipient.objects.get().notification.title


@pytest.mark.parametrize("page_size", [5, 50])
def test_the_list_costs_at_most_three_queries_whatever_the_page_size(
    api, patient, page_size, django_assert_num_queries
):
    for number in range(50):
        notify(patient, f"N{number}", notification_type="medication" if number % 2 else "stock")
    NotificationService.send_medication_reminder(patient, "Aspirin", "100mg", channels=["in_app"])
    NotificationTemplate.objects.create(
        event="custom", language="en", part="title.txt", body="[{{ title }}]"
    )

    # The token's user, the page, and the admin's template overrides (just edited, so
    # read again): never a query per item.
    with django_assert_num_queries(3):
        response = api.get(f"/api/notifications/?page_size={page_size}")
    # The overrides are then kept for a few seconds: the user and the page.
    with django_assert_num_queries(2):
        again = api.get(f"/api/notifications/?page_size={page_size}")

    assert response.status_code == again.status_code == 200
    assert len(response.json()["results"]) == page_size
    assert response.json()["results"][1]["title"] == "[N49]"
    assert again.json() == response.json()


def test_anonymous_callers_get_401_with_a_token_challenge(api_client_for):
    response = api_client_for().get("/api/notifications/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


# --- State changes ----------------------------------------------------------------------------


def test_mark_read_is_idempotent_and_returns_the_item(api, patient):
    notification = notify(patient)

    first = api.post(f"/api/notifications/{notification.pk}/mark-read/")
    second = api.post(f"/api/notifications/{notification.pk}/mark-read/")

    assert first.status_code == 200
    assert first.json()["status"] == "read"
    assert first.json()["id"] == notification.pk
    assert second.json()["read_at"] == first.json()["read_at"]


def test_acknowledge_then_mark_read_never_moves_the_state_back(api, patient):
    notification = notify(patient, ack=True)

    acknowledged = api.post(f"/api/notifications/{notification.pk}/acknowledge/")
    again = api.post(f"/api/notifications/{notification.pk}/acknowledge/")
    read = api.post(f"/api/notifications/{notification.pk}/mark-read/")

    assert acknowledged.status_code == 200
    assert acknowledged.json()["status"] == "acknowledged"
    assert again.json()["acknowledged_at"] == acknowledged.json()["acknowledged_at"]
    assert read.json()["status"] == "acknowledged"


def test_acknowledging_a_notification_that_does_not_ask_is_a_409_with_the_reason(api, patient):
    notification = notify(patient, ack=False)

    response = api.post(f"/api/notifications/{notification.pk}/acknowledge/")

    assert response.status_code == 409
    assert response.json() == {"detail": "This notification does not ask for acknowledgment."}
    assert NotificationRecipient.objects.get().status == RecipientStatus.UNREAD


def test_the_refusal_is_in_afrikaans_for_an_afrikaans_caller(api_client_for, other_patient):
    notification = notify(other_patient, ack=False)

    response = api_client_for(other_patient).post(
        f"/api/notifications/{notification.pk}/acknowledge/"
    )

    assert response.status_code == 409
    assert response.json() == {"detail": "Hierdie kennisgewing vra nie vir 'n erkenning nie."}
    assert response["Content-Language"] == "af"


def test_dismissing_before_the_required_acknowledgment_is_a_409(api, patient):
    notification = notify(patient, ack=True)

    refused = api.post(f"/api/notifications/{notification.pk}/dismiss/")
    api.post(f"/api/notifications/{notification.pk}/acknowledge/")
    dismissed = api.post(f"/api/notifications/{notification.pk}/dismiss/")

    assert refused.status_code == 409
    assert refused.json() == {"detail": "Acknowledge this notification before dismissing it."}
    assert dismissed.status_code == 200
    assert dismissed.json()["status"] == "dismissed"


@pytest.mark.parametrize("action", ["mark-read", "acknowledge", "dismiss"])
def test_someone_elses_notification_is_not_found(api, other_patient, action):
    theirs = notify(other_patient, ack=True)

    response = api.post(f"/api/notifications/{theirs.pk}/{action}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert NotificationRecipient.objects.get().status == RecipientStatus.UNREAD


@pytest.mark.parametrize("action", ["mark-read", "acknowledge", "dismiss"])
def test_an_id_beyond_any_key_is_not_found(api, action):
    response = api.post(f"/api/notifications/{2**70}/{action}/")

    assert response.status_code == 404


@pytest.mark.parametrize("action", ["mark-read", "acknowledge", "dismiss", "unread-count"])
def test_anonymous_state_changes_are_401(api_client_for, patient, action):
    notification = notify(patient)
    path = (
        "/api/notifications/unread-count/"
        if action == "unread-count"
        else f"/api/notifications/{notification.pk}/{action}/"
    )
    client = api_client_for()

    response = client.get(path) if action == "unread-count" else client.post(path)

    assert response.status_code == 401


# --- Counts -----------------------------------------------------------------------------------


def test_unread_count_and_mark_all_read_count_only_the_callers(api, patient, other_patient):
    notify(patient)
    notify(patient)
    notify(other_patient)

    before = api.get("/api/notifications/unread-count/")
    marked = api.post("/api/notifications/mark-all-read/")
    after = api.get("/api/notifications/unread-count/")
    marked_again = api.post("/api/notifications/mark-all-read/")

    assert before.json() == {"unread": 2}
    assert marked.json() == {"updated": 2}
    assert after.json() == {"unread": 0}
    assert marked_again.json() == {"updated": 0}
    assert NotificationRecipient.objects.filter(status="unread").get().user == other_patient
    assert NotificationRecipient.objects.filter(read_at__lte=timezone.now()).count() == 2


@pytest.mark.parametrize(
    "value",
    [
        datetime.datetime(2026, 11, 28, 6, 0, tzinfo=datetime.UTC),
        datetime.datetime(2026, 11, 28, 6, 0, 0, 123456, tzinfo=datetime.UTC),
        datetime.datetime(2026, 3, 1, 23, 59, 59, tzinfo=ZoneInfo("Europe/London")),
    ],
)
@pytest.mark.parametrize("zone", ["Africa/Johannesburg", "UTC"])
def test_item_times_are_written_exactly_as_drf_writes_them(value, zone) -> None:
    from rest_framework.fields import DateTimeField

    from notifications.api.serializers import _iso

    with timezone.override(zone):
        assert _iso(value, timezone.get_current_timezone()) == DateTimeField().to_representation(
            value
        )
