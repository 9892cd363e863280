from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.parsers import JSONParser


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


class BoundedJSONParser(JSONParser):
    """JSON with a size bound (``API_MAX_BODY_BYTES``). Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    does not apply: DRF reads the request stream, not ``request.body``."""

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
        return super().parse(_BoundedStream(stream, limit), media_type, parser_context)  # type: ignore[arg-type]
