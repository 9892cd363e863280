"""Error shapes for the OpenAPI document, shared by every endpoint's ``@extend_schema``.

Two shapes, as DRF produces them: ``{"detail": "..."}`` (401, 403, 404, 413, 429 and
refused state changes) and, for invalid input, an object keyed by field name (or query
parameter, or ``non_field_errors``) whose values are lists of messages — nested objects for
nested fields. A malformed JSON body gives ``{"detail": ...}`` on the same 400.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

VALIDATION_ERROR_COMPONENT = "ValidationError"
VALIDATION_ERROR_REF = {"$ref": f"#/components/schemas/{VALIDATION_ERROR_COMPONENT}"}


class DetailErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="A message in the caller's language.")


def add_error_components(result: dict[str, Any], **_: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: the field-keyed validation error component (a
    serializer cannot say "any key")."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[VALIDATION_ERROR_COMPONENT] = {
        "type": "object",
        "description": (
            "Invalid input: messages (in the caller's language) under the name of each "
            "field or query parameter at fault; `non_field_errors` for the input as a whole; "
            "`detail` when the body is not valid JSON."
        ),
        "additionalProperties": {
            "anyOf": [
                {"type": "array", "items": {"type": "string"}},
                {"type": "object"},
                {"type": "string"},
            ]
        },
        "example": {
            "quiet_hours_start": ["Time has wrong format. Use one of these formats instead: hh:mm."]
        },
    }
    return result


def refuse_extra_request_properties(result: dict[str, Any], **_: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: every request body's object (and the objects
    nested in it) says ``additionalProperties: false``, as the server refuses unknown keys
    (``StrictFieldsMixin``) for every body it reads."""
    schemas = result.get("components", {}).get("schemas", {})
    pending = [
        media["schema"]
        for operations in result.get("paths", {}).values()
        for operation in operations.values()
        if isinstance(operation, dict)
        for media in operation.get("requestBody", {}).get("content", {}).values()
        if "schema" in media
    ]
    seen: set[str] = set()
    while pending:
        schema = pending.pop()
        reference = schema.get("$ref", "")
        if reference:
            name = reference.rsplit("/", 1)[-1]
            if name not in seen and name in schemas:
                seen.add(name)
                pending.append(schemas[name])
            continue
        if schema.get("type") == "object" or "properties" in schema:
            schema["additionalProperties"] = False
        pending.extend(schema.get("properties", {}).values())
        for key in ("allOf", "anyOf", "oneOf"):
            pending.extend(schema.get(key, []))
        if isinstance(schema.get("items"), dict):
            pending.append(schema["items"])
    return result


def detail_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(DetailErrorSerializer, description=description)


UNAUTHENTICATED = detail_response("No or invalid credentials.")
FORBIDDEN = detail_response("Not allowed (CSRF failure for a session, or not staff).")
NOT_FOUND = detail_response("Not found, or not yours.")
THROTTLED = detail_response("Too many requests; retry after the `Retry-After` header's seconds.")
TOO_LARGE = detail_response("The body is larger than the API accepts.")
INVALID = OpenApiResponse(VALIDATION_ERROR_REF, description="Invalid input.")

# Every authenticated endpoint can answer these.
COMMON: dict[int, OpenApiResponse] = {401: UNAUTHENTICATED, 403: FORBIDDEN, 429: THROTTLED}
# ... and endpoints that read a JSON body these too.
WITH_BODY: dict[int, OpenApiResponse] = {**COMMON, 400: INVALID, 413: TOO_LARGE}
