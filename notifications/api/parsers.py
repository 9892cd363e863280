"""The API's one parser: JSON, bounded in size and depth, and refusing text no field can hold.

Every check here runs before a serializer sees the body, so no endpoint can forget one:
a nested array 5,000 deep (Python's decoder recurses and would raise RecursionError), a NUL
character (PostgreSQL refuses it in text), a lone UTF-16 surrogate like ``"\\ud800"`` (it
cannot be encoded back, so an error message echoing it would fail), bytes that are not
UTF-8, and numbers too large to be finite.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser

# Deeper than any body the API documents (a Web Push subscription's `keys` is the deepest,
# at 2), with room for clients that wrap; far below Python's recursion limit.
MAX_JSON_DEPTH = 10

# What changes the nesting: brackets, and the quotes and escapes that put them inside strings.
_STRUCTURAL = re.compile(r'[\[\]{}"\\]')
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "payload_too_large"


class _BoundedStream:
    """Reads at most ``limit`` bytes, then refuses: a body without (or lying about) its
    Content-Length cannot make the parser hold more than that in memory."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream = stream
        self._remaining = limit

    def read(self, size: int = -1) -> bytes:
        want = self._remaining + 1 if size is None or size < 0 else min(size, self._remaining + 1)
        chunk = self._stream.read(want)
        self._remaining -= len(chunk)
        if self._remaining < 0:
            raise PayloadTooLarge
        return chunk


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in ``text`` (0 for a scalar), counted without
    decoding it."""
    depth = deepest = 0
    in_string = False
    escaped_until = -1  # the character after a backslash is taken literally
    for match in _STRUCTURAL.finditer(text):
        position, char = match.start(), match.group()
        if position <= escaped_until:
            continue
        if in_string:
            if char == "\\":
                escaped_until = position + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# Larger than any id (2**63) or quantity the API takes; Python would parse up to 4,300 digits.
MAX_INTEGER_DIGITS = 30


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise ParseError(_("A number in the request body is too large."))
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ParseError(_("A number in the request body is too large."))
    return value


def _check_text(value: Any) -> None:
    """Refuse a NUL or a lone surrogate in any string or key of the decoded body (depth is
    already bounded, so the recursion is too)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ParseError(_("Text in the request body cannot contain a NUL character."))
        if _LONE_SURROGATE.search(value):
            raise ParseError(
                _("Text in the request body contains an unpaired UTF-16 surrogate escape.")
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def decode_json_body(raw: bytes) -> Any:
    """The JSON in ``raw``, or a ParseError (400) that says what is wrong with it."""
    try:
        # RFC 8259: JSON exchanged between systems is UTF-8, whatever charset is claimed.
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError(_("The request body is not valid UTF-8.")) from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise ParseError(
            _("The JSON body is nested deeper than %(depth)d levels.") % {"depth": MAX_JSON_DEPTH}
        )
    try:
        data = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
            strict=True,
        )
    except ParseError:
        raise
    except (ValueError, RecursionError) as error:
        # RecursionError cannot happen below MAX_JSON_DEPTH; caught as a last line anyway.
        raise ParseError(
            _("The request body is not valid JSON: %(error)s") % {"error": error}
        ) from None
    _check_text(data)
    return data


class BoundedJSONParser(BaseParser):
    """JSON with a size bound (``API_MAX_BODY_BYTES``) and a depth bound (``MAX_JSON_DEPTH``).
    Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not apply: DRF reads the request stream, not
    ``request.body``."""

    media_type = "application/json"

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = int(getattr(settings, "API_MAX_BODY_BYTES", 16 * 1024))
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and str(declared).isdigit() and int(declared) > limit:
            raise PayloadTooLarge
        return decode_json_body(_BoundedStream(stream, limit).read())
