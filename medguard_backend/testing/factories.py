"""factory_boy factories shared by every app's tests."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from notifications.models import PushDevice, UserNotificationPreferences


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"Patient{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    user_type = "patient"
    preferred_language = "en"
    timezone = "Africa/Johannesburg"
    phone = ""
    # A number given here stands for one staff entered: verified, as the admin makes it.
    phone_verified = factory.LazyAttribute(lambda user: bool(user.phone))
    password = factory.django.Password("long-test-password-1")


class PreferencesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserNotificationPreferences
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)


class PushDeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PushDevice

    user = factory.SubFactory(UserFactory)
    kind = PushDevice.Kind.EXPO
    token = factory.Sequence(lambda n: f"ExponentPushToken[test-{n:06d}]")
    platform = "android"
