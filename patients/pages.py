"""What every patient page shares: signed in, in the user's own language and time zone,
never cached; an id that is not the user's is a 404."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from notifications.api.base import MAX_ID
from notifications.web.views import in_users_locale

if TYPE_CHECKING:
    from accounts.models import User

View = Callable[..., HttpResponse]


def personal_page(view: View) -> View:
    """Signed in, rendered in the user's locale; ids beyond the database's range are a 404
    (not a 500 from an integer the database cannot hold)."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if any(isinstance(v, int) and v > MAX_ID for v in kwargs.values()):
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(in_users_locale(checked))


def me(request: HttpRequest) -> User:
    return cast("User", request.user)
