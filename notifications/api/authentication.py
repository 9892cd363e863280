"""Token authentication for the mobile app: hashed, expiring tokens, looked up in one query.

Tokens are django-rest-knox's: the database keeps a SHA-512 digest of each token and its
first 15 characters to find it by (``token_key``), never the token itself, and each token
expires (``REST_KNOX["TOKEN_TTL"]``). The header stays ``Authorization: Token <token>``.

Knox's own lookup costs two ORM queries plus a pass over all of the user's tokens on every
request; building ORM queries costs about a millisecond of Python, more than the database
spends answering. The question never changes, so it is asked in SQL written once: the user
behind tokens with this key, with the digests and expiries to check here.
"""

from __future__ import annotations

import binascii
import functools
from hmac import compare_digest
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox import auth
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS
from rest_framework import exceptions

from medguard_backend.db_rows import Conversion, conversions, converted


@functools.cache
def _user_by_token_key(vendor: str) -> tuple[str, tuple[str, ...], tuple[Conversion, ...]]:
    """The lookup's SQL, the user's field names in its column order (then the token's
    digest and expiry), and their conversions on this database."""
    users, tokens = get_user_model()._meta, AuthToken._meta
    fields = users.concrete_fields
    q = connection.ops.quote_name
    selected = ", ".join(f"{q('u')}.{q(field.column)}" for field in fields)
    digest, expiry = tokens.get_field("digest"), tokens.get_field("expiry")
    # Quoted names from the models' own metadata; the token key is a parameter.
    sql = (
        f"SELECT {selected}, {q('t')}.{q(digest.column)}, {q('t')}.{q(expiry.column)} "  # noqa: S608
        f"FROM {q(users.db_table)} {q('u')} "
        f"INNER JOIN {q(tokens.db_table)} {q('t')} "
        f"ON {q('t')}.{q(tokens.get_field('user').column)} = {q('u')}.{q(users.pk.column)} "
        f"WHERE {q('t')}.{q(tokens.get_field('token_key').column)} = %s"
    )
    return (
        sql,
        tuple(field.attname for field in fields),
        conversions([*fields, digest, expiry]),
    )


class TokenAuthentication(auth.TokenAuthentication):
    def authenticate_credentials(self, token: bytes) -> tuple[Any, AuthToken]:
        invalid = exceptions.AuthenticationFailed(_("Invalid token."))
        try:
            key = token.decode()
            digest = hash_token(key)
        except (UnicodeDecodeError, TypeError, ValueError, binascii.Error):
            raise invalid from None
        sql, names, row_conversions = _user_by_token_key(connection.vendor)
        with connection.cursor() as cursor:
            cursor.execute(sql, [key[: CONSTANTS.TOKEN_KEY_LENGTH]])
            rows = cursor.fetchall()
        now = timezone.now()
        for row in rows:
            *values, token_digest, expiry = converted(row, row_conversions)
            if not compare_digest(digest, token_digest):
                continue
            # Expired tokens stay refused until the cleanup task deletes them.
            if expiry is not None and expiry < now:
                raise invalid
            user = get_user_model().from_db(connection.alias, names, values)
            if not user.is_active:
                raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
            auth_token = AuthToken(
                digest=token_digest,
                token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH],
                user=user,
                expiry=expiry,
            )
            auth_token._state.adding = False
            return user, auth_token
        raise invalid


class TokenScheme(OpenApiAuthenticationExtension):
    """The schema's security scheme for these tokens: as DRF's tokens were described."""

    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Token-based authentication with required prefix "Token"',
        }
