"""Token authentication for the mobile app: DRF's tokens, looked up in one lean query.

DRF finds the token through the ORM with its user joined, and building that query costs
about a millisecond of Python on every request, more than the database spends answering
it. The question never changes, so it is asked in SQL written once: the user behind this
token. Same tokens, same answers and messages as DRF's ``TokenAuthentication``.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from medguard_backend.db_rows import Conversion, conversions, converted


@functools.cache
def _user_by_token(vendor: str) -> tuple[str, tuple[str, ...], tuple[Conversion, ...]]:
    """The lookup's SQL, the user's field names in its column order, and their conversions
    on this database."""
    users, tokens = get_user_model()._meta, Token._meta
    fields = users.concrete_fields
    q = connection.ops.quote_name
    selected = ", ".join(f"{q('u')}.{q(field.column)}" for field in fields)
    # Quoted names from the models' own metadata; the token is a parameter.
    sql = (
        f"SELECT {selected} "  # noqa: S608
        f"FROM {q(users.db_table)} {q('u')} "
        f"INNER JOIN {q(tokens.db_table)} {q('t')} "
        f"ON {q('t')}.{q(tokens.get_field('user').column)} = {q('u')}.{q(users.pk.column)} "
        f"WHERE {q('t')}.{q(tokens.pk.column)} = %s"
    )
    return sql, tuple(field.attname for field in fields), conversions(fields)


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        sql, names, row_conversions = _user_by_token(connection.vendor)
        with connection.cursor() as cursor:
            cursor.execute(sql, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = get_user_model().from_db(connection.alias, names, converted(row, row_conversions))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, Token(key=key, user=user)
