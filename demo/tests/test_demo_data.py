from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from notifications.models import Delivery, Notification

User = get_user_model()
pytestmark = pytest.mark.django_db


def test_demo_data_loads_twice_without_duplicates() -> None:
    call_command("load_demo_data")
    call_command("load_demo_data")

    assert sorted(User.objects.values_list("username", flat=True)) == [
        "admin",
        "johan",
        "naledi",
        "thandi",
    ]
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.user_type == "staff"
    assert User.objects.get(username="johan").preferred_language == "af"
    assert User.objects.get(username="thandi").check_password("medguard-demo")
    # The demo notifications went through the pipeline once, however often it is loaded.
    assert Notification.objects.filter(idempotency_key="demo-welcome").count() == 1
    assert Delivery.objects.filter(recipient__user__username="thandi", channel="email").exists()
    deliveries = Delivery.objects.count()
    call_command("load_demo_data")
    assert Delivery.objects.count() == deliveries
