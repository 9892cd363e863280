"""Authentication, CSRF, throttling, body size and the caller's language, across the API."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django.utils.dateparse import parse_datetime
from django_redis.cache import RedisCache
from knox.models import AuthToken
from rest_framework.request import Request
from rest_framework.test import APIClient

from notifications.api.throttles import LocalBatches, UserThrottle, WriteRateThrottle
from notifications.models import UserNotificationPreferences

pytestmark = pytest.mark.django_db

PASSWORD = "long-test-password-1"  # the UserFactory's


def test_the_app_logs_in_with_username_and_password_and_gets_a_token(api_client_for, patient):
    response = api_client_for().post(
        "/api/auth/token/", {"username": "thandi", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
    token = response.json()["token"]
    [stored] = AuthToken.objects.filter(user=patient)
    assert len(token) == 64
    assert token not in (stored.digest, stored.token_key)  # kept hashed, never in plain text
    assert stored.expiry == parse_datetime(response.json()["expiry"])
    assert (
        api_client_for()
        .get("/api/notifications/unread-count/", HTTP_AUTHORIZATION=f"Token {token}")
        .status_code
        == 200
    )


def test_a_wrong_password_is_a_400_without_a_token(api_client_for, patient):
    response = api_client_for().post(
        "/api/auth/token/", {"username": "thandi", "password": "guess"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}
    assert not AuthToken.objects.exists()


def test_password_guessing_is_throttled_per_address(api_client_for, patient):
    client = api_client_for()
    statuses = [
        client.post(
            "/api/auth/token/", {"username": "thandi", "password": f"guess{n}"}, format="json"
        ).status_code
        for n in range(11)
    ]

    assert statuses == [400] * 10 + [429]


def test_writes_are_throttled_before_reads(api, monkeypatch):
    monkeypatch.setitem(WriteRateThrottle.THROTTLE_RATES, "user_write", "2/min")

    writes = [api.post("/api/notifications/mark-all-read/").status_code for _ in range(3)]
    read = api.get("/api/notifications/unread-count/")

    assert writes == [200, 200, 429]
    assert read.status_code == 200


def test_a_throttled_response_says_when_to_retry(api, monkeypatch):
    monkeypatch.setitem(WriteRateThrottle.THROTTLE_RATES, "user_write", "1/min")
    api.post("/api/notifications/mark-all-read/")

    response = api.post("/api/notifications/mark-all-read/")

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60


def test_concurrent_requests_are_each_counted_against_the_budget(patient, monkeypatch):
    # DRF's own throttle rewrites one list of timestamps per request, so racing requests
    # overwrite each other's and get past the limit; a counter must not lose one.
    monkeypatch.setitem(UserThrottle.THROTTLE_RATES, "user", "40/min")
    cache.clear()
    request = Request(RequestFactory().get("/api/notifications/"))
    request.user = patient

    def attempts(_: int) -> list[bool]:
        return [UserThrottle().allow_request(request, None) for _ in range(10)]

    with ThreadPoolExecutor(max_workers=6) as pool:
        allowed = [ok for batch in pool.map(attempts, range(6)) for ok in batch]

    assert allowed.count(True) == 40
    assert allowed.count(False) == 20


def in_a_process(batches: LocalBatches, **attributes: object) -> type[UserThrottle]:
    """UserThrottle as one server process runs it: with its own local counts."""
    return type("ProcessThrottle", (UserThrottle,), {"local_batches": batches, **attributes})


def read_request(user) -> Request:
    request = Request(RequestFactory().get("/api/notifications/"))
    request.user = user
    return request


@pytest.fixture
def budget_600_a_minute(monkeypatch):
    monkeypatch.setitem(UserThrottle.THROTTLE_RATES, "user", "600/min")
    cache.clear()


def test_a_busy_client_is_counted_in_batches_of_ten(patient, budget_600_a_minute):
    throttle = in_a_process(LocalBatches(size=10, max_delay=60))
    request = read_request(patient)

    assert all(throttle().allow_request(request, None) for _ in range(25))
    # Added to the shared count at requests 1, 11 and 21; four wait for the next batch.
    assert cache.get(throttle().get_cache_key(request, None)) == 21


def test_processes_counting_in_batches_share_one_budget(patient, budget_600_a_minute):
    first, second = (in_a_process(LocalBatches(size=10, max_delay=60)) for _ in range(2))
    request = read_request(patient)

    allowed = [
        process().allow_request(request, None) for _ in range(400) for process in (first, second)
    ]

    # The other process's unshared batch (at most 9) is the most it can overshoot by.
    assert 600 <= allowed.count(True) <= 609
    assert not any(allowed[-100:])


def test_a_refusal_is_checked_against_the_shared_count(patient, budget_600_a_minute):
    throttle = in_a_process(LocalBatches(size=10, max_delay=60))
    request = read_request(patient)
    assert [throttle().allow_request(request, None) for _ in range(601)].count(True) == 600

    cache.clear()  # the window ends

    # The process still counts 600 of its own, but asks before refusing.
    assert throttle().allow_request(request, None)


def test_an_unreachable_cache_does_not_take_the_api_down(patient, budget_600_a_minute):
    unreachable = RedisCache(
        "redis://127.0.0.1:1/0", {"OPTIONS": {"IGNORE_EXCEPTIONS": True}}
    )  # nothing listens on port 1: refused at once
    request = read_request(patient)
    batched = in_a_process(LocalBatches(), cache=unreachable)
    exact = type("ExactThrottle", (WriteRateThrottle,), {"cache": unreachable})
    write = Request(RequestFactory().post("/api/notifications/mark-all-read/"))
    write.user = patient

    assert all(batched().allow_request(request, None) for _ in range(30))
    assert all(exact().allow_request(write, None) for _ in range(3))


def test_a_deactivated_users_token_is_a_401(api_client_for, patient):
    client = api_client_for(patient)
    patient.is_active = False
    patient.save()

    response = client.get("/api/notifications/")

    assert response.status_code == 401
    assert response.json() == {"detail": "User inactive or deleted."}


def test_an_invalid_token_is_a_401(api_client_for):
    client = api_client_for()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.get("/api/notifications/")

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_session_clients_must_send_the_csrf_token_on_writes(patient):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(patient)

    read = client.get("/api/notification-preferences/")
    write = client.patch(
        "/api/notification-preferences/", {"sms_notifications_enabled": True}, format="json"
    )

    assert read.status_code == 200
    assert write.status_code == 403
    assert write.json()["detail"].startswith("CSRF Failed")
    assert not UserNotificationPreferences.objects.exists()


def test_session_clients_with_the_csrf_token_may_write(patient):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(patient)
    client.get("/admin/login/")  # sets the CSRF cookie, as any page with a form does
    token = client.cookies["csrftoken"].value

    response = client.patch(
        "/api/notification-preferences/",
        {"sms_notifications_enabled": True},
        format="json",
        HTTP_X_CSRFTOKEN=token,
    )

    assert response.status_code == 200
    assert UserNotificationPreferences.objects.get(user=patient).sms_notifications_enabled


def test_a_body_over_the_limit_is_a_413(api, settings):
    settings.API_MAX_BODY_BYTES = 100

    response = api.patch(
        "/api/notification-preferences/",
        data=json.dumps({"quiet_hours_start": "22:00", "padding": "x" * 200}),
        content_type="application/json",
    )

    assert response.status_code == 413
    assert not UserNotificationPreferences.objects.exists()


def test_a_body_that_is_not_json_is_refused(api):
    malformed = api.patch(
        "/api/notification-preferences/", data="{not json", content_type="application/json"
    )
    form = api.patch(
        "/api/notification-preferences/",
        data="a=b",
        content_type="application/x-www-form-urlencoded",
    )

    assert malformed.status_code == 400
    assert list(malformed.json()) == ["detail"]
    assert form.status_code == 415


def test_anonymous_errors_follow_accept_language(api_client_for):
    response = api_client_for().get("/api/notifications/", HTTP_ACCEPT_LANGUAGE="af")

    assert response.status_code == 401
    assert response.json() == {"detail": "Geen aanmeldbewyse is verskaf nie."}


def test_an_afrikaans_callers_not_found_is_in_afrikaans(api_client_for, other_patient):
    response = api_client_for(other_patient).post("/api/notifications/999999/mark-read/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Nie gevind nie."}


def test_an_afrikaans_patient_is_refused_staff_tools_in_afrikaans(api_client_for, other_patient):
    response = api_client_for(other_patient).get("/api/staff/notifications/1/delivery-report/")

    assert response.status_code == 403
    assert response.json() == {"detail": "Jy het nie toestemming om dit te doen nie."}


def test_a_filter_error_is_in_afrikaans_for_accept_language_af(api):
    response = api.get("/api/notifications/?status=gone", HTTP_ACCEPT_LANGUAGE="af")

    assert response.status_code == 400
    assert response.json() == {"status": ['"gone" is nie \'n geldige keuse nie.']}
