"""The caller's language for API responses: `Accept-Language` when the client sent one
(LocaleMiddleware has activated it), else the user's preferred language."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext_noop
from rest_framework.request import Request
from rest_framework.views import APIView

from notifications.rendering.messages import language_of


class CallerLanguageMixin(APIView):
    """For DRF views (mixed in before GenericAPIView and the like). Runs right after
    authentication, before permissions, throttles and validation, so every message they
    produce is in the caller's language."""

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)
        if "HTTP_ACCEPT_LANGUAGE" not in request.META and request.user.is_authenticated:
            language = language_of(request.user)
            translation.activate(language)
            request._request.LANGUAGE_CODE = language


# Django REST framework ships no Afrikaans catalogue. These are its messages this API can
# return; marked here so `makemessages` keeps them in locale/af (the project catalogue is
# consulted for every domain "django" string, DRF's included).
DRF_MESSAGES = (
    gettext_noop("This field is required."),
    gettext_noop("This field may not be null."),
    gettext_noop("This field may not be blank."),
    gettext_noop("Must be a valid boolean."),
    gettext_noop("Not a valid string."),
    gettext_noop("Ensure this field has no more than {max_length} characters."),
    gettext_noop('"{input}" is not a valid choice.'),
    gettext_noop("Time has wrong format. Use one of these formats instead: {format}."),
    gettext_noop("Enter a valid URL."),
    gettext_noop('Expected a list of items but got type "{input_type}".'),
    gettext_noop("This list may not be empty."),
    gettext_noop("Ensure this field has no more than {max_length} elements."),
    gettext_noop("Invalid data. Expected a dictionary, but got {datatype}."),
    gettext_noop("Incorrect authentication credentials."),
    gettext_noop("Authentication credentials were not provided."),
    gettext_noop("You do not have permission to perform this action."),
    gettext_noop("Not found."),
    gettext_noop('Method "{method}" not allowed.'),
    gettext_noop("Could not satisfy the request Accept header."),
    gettext_noop('Unsupported media type "{media_type}" in request.'),
    gettext_noop("Request was throttled."),
    gettext_noop("Invalid token."),
    gettext_noop("Invalid token header. No credentials provided."),
    gettext_noop("Invalid token header. Token string should not contain spaces."),
    gettext_noop("Invalid token header. Token string should not contain invalid characters."),
    gettext_noop("User inactive or deleted."),
    gettext_noop("Unable to log in with provided credentials."),
    gettext_noop('Must include "username" and "password".'),
    # Django's own Afrikaans catalogue leaves this one (a form's choice error) empty.
    gettext_noop("Select a valid choice. %(value)s is not one of the available choices."),
)
