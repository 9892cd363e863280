"""Staff reading a patient's data in the Django admin is recorded in the patient's audit
trail, like the API's reads; and the admin still searches the encrypted columns."""

from __future__ import annotations

import pytest
from django.test import Client

from medguard_backend.testing.factories import UserFactory
from medications.models import Medicine
from medications.tests.factories import SupplyFactory
from notifications.services import NotificationService
from privacy.encryption.search import ENCRYPTED_SEARCH_SCAN
from privacy.models import AuditEntry

from .people import MEDICINE

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_staff(db):
    return UserFactory(
        username="zanele", user_type="staff", is_staff=True, is_superuser=True, phone=""
    )


@pytest.fixture
def admin(admin_staff) -> Client:
    client = Client()
    client.force_login(admin_staff)
    return client


def entries() -> list[tuple[object, ...]]:
    return list(
        AuditEntry.objects.order_by("subject_id", "pk").values_list(
            "subject__username", "actor__username", "actor_role", "action", "resource", "what"
        )
    )


def test_opening_a_patients_supply_in_the_admin_is_recorded_in_their_audit_trail(
    admin, patient, api_client_for
) -> None:
    supply = SupplyFactory(patient=patient, medicine__name=MEDICINE)

    page = admin.get(f"/admin/medications/supply/{supply.pk}/change/", REMOTE_ADDR="192.0.2.7")

    assert page.status_code == 200
    assert MEDICINE in page.content.decode()
    assert entries() == [
        ("thandi", "zanele", "staff", "read", "medications", "admin change medications.supply")
    ]
    [entry] = AuditEntry.objects.all()
    assert (entry.object_id, entry.ip_address) == (str(supply.pk), "192.0.2.7")
    # The patient sees it in their own audit list.
    mine = api_client_for(patient).get("/api/me/audit/").json()["results"]
    assert [(e["actor"], e["what"]) for e in mine] == [
        ("zanele", "admin change medications.supply")
    ]


def test_a_list_page_records_one_read_per_patient_it_shows(admin, patient) -> None:
    other = UserFactory(username="pieter", phone="")
    SupplyFactory(patient=patient)
    SupplyFactory(patient=patient)
    SupplyFactory(patient=other)

    assert admin.get("/admin/medications/supply/").status_code == 200

    # Ordered by the subject's id: the patient's account is the older.
    assert entries() == [
        ("thandi", "zanele", "staff", "read", "medications", "admin list medications.supply"),
        ("pieter", "zanele", "staff", "read", "medications", "admin list medications.supply"),
    ]


def test_a_person_record_and_a_notification_in_the_admin_are_recorded_too(admin, patient) -> None:
    notice = NotificationService.create_notification("Clinic closed", "Friday", "system", "low")
    NotificationService.send_notification_to_users([patient], notice, ["in_app"])

    assert admin.get(f"/admin/accounts/user/{patient.pk}/change/").status_code == 200
    assert admin.get(f"/admin/notifications/notification/{notice.pk}/change/").status_code == 200

    assert sorted(e[-1] for e in entries()) == [
        "admin change accounts.user",
        "admin change notifications.notification",
    ]
    assert {e[0] for e in entries()} == {"thandi"}


def test_staff_looking_at_their_own_record_or_an_empty_list_records_nothing(
    admin, admin_staff
) -> None:
    assert admin.get(f"/admin/accounts/user/{admin_staff.pk}/change/").status_code == 200
    assert admin.get("/admin/medications/supply/").status_code == 200
    assert admin.get("/admin/medications/supply/999999/change/").status_code == 302

    assert entries() == []


def test_the_admin_searches_encrypted_titles_medicine_names_and_phone_numbers(
    admin, patient
) -> None:
    NotificationService.create_notification("Clinic closed on Friday", "", "system", "low")
    NotificationService.create_notification("Pharmacy open", "", "system", "low")
    SupplyFactory(patient=patient, medicine__name=MEDICINE)

    titles = admin.get("/admin/notifications/notification/", {"q": "CLOSED"}).content.decode()
    assert "Clinic closed on Friday" in titles
    assert "Pharmacy open" not in titles
    supplies = admin.get("/admin/medications/supply/", {"q": "zyvox"}).context["cl"]
    assert [s.patient for s in supplies.result_list] == [patient]
    people = admin.get("/admin/accounts/user/", {"q": "082 555 0147"}).context["cl"]
    assert [u.username for u in people.result_list] == ["thandi"]


def test_an_exact_medicine_name_is_found_in_any_row_and_the_page_says_what_partial_covers(
    admin, patient
) -> None:
    """Beyond the newest rows the scan reads, the blind index still finds the whole name."""
    SupplyFactory(patient=patient, medicine__name=MEDICINE)
    # Newer medicines push Zyvoxolin out of the rows a partial search reads.
    Medicine.objects.bulk_create(
        Medicine(name=f"Other medicine {n}") for n in range(ENCRYPTED_SEARCH_SCAN)
    )

    exact = admin.get("/admin/medications/supply/", {"q": MEDICINE}).context["cl"]
    partial = admin.get("/admin/medications/supply/", {"q": "zyvox"})

    assert [s.patient for s in exact.result_list] == [patient]
    assert list(partial.context["cl"].result_list) == []
    assert "the whole value typed exactly is found in any record" in partial.content.decode()


def test_the_people_page_says_a_phone_number_is_found_only_whole(admin) -> None:
    page = admin.get("/admin/accounts/user/").content.decode()

    assert "type the whole number" in page
