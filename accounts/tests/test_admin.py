from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_staff_can_edit_a_users_medguard_fields_in_the_admin(admin_client: Client) -> None:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("johan", password="x-long-password-1")
    response = admin_client.get(f"/admin/accounts/user/{user.pk}/change/")

    assert response.status_code == 200
    for field in ("user_type", "preferred_language", "timezone", "phone"):
        assert f'name="{field}"' in response.content.decode()
