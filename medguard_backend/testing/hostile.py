"""Hostile requests generated from the OpenAPI document and the URL patterns, for the tests.

Nothing here is a hand list of endpoints: operations, parameters, properties and their
declared types come from drf-spectacular's schema, and paths from Django's URL resolver, so a
new endpoint, field or page is probed the day it is added.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.regex_helper import normalize
from drf_spectacular.generators import SchemaGenerator

from notifications.api.parsers import MAX_JSON_DEPTH

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
API_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Longer than any string the API accepts (5,000 is the longest), under the 16 KB body limit.
OVERLONG = "x" * 9000

# Values for a path parameter, percent-encoded as they travel.
PATH_VALUES = (
    "null,null",
    "%00",
    "a%00b",
    "%ED%A0%80",  # a UTF-16 surrogate encoded in UTF-8: not valid UTF-8
    "%FF",
    "1" + "0" * 30,
    "-1",
    "1.5",
    "x" * 3000,
    "%2e%2e%2f",
)
# Pages outside the API (the admin's, chiefly) get the kinds that reach a query: a NUL, bytes
# that are not UTF-8, a number no key can hold and a non-number.
PAGE_PATH_VALUES = ("%00", "%ED%A0%80", "1" + "0" * 30, "null,null")
# Values for a query parameter.
QUERY_VALUES = (
    ("%00", "NUL"),
    ("a%00b", "NUL"),
    ("%ED%A0%80", ""),
    ("%FF", ""),
    ("9" * 40, ""),
    ("x" * 3000, ""),
    ("-1", ""),
    ("1.5", ""),
    ("true", ""),
    ("%5B%5D", ""),
)
# A JSON value of each type but the declared one.
WRONG_TYPES: dict[str, tuple[Any, ...]] = {
    "string": (12345, True, [], {}),
    "integer": ("12", True, 1.5, [], {}),
    "number": (True, [], {}),
    "boolean": ("true", 1, [], {}),
    "array": ("x", 5, {}),
    "object": ("x", 5, []),
    "": (True, [], {}),  # anyOf: no single type, none of these is one
}


@dataclass(frozen=True)
class Probe:
    method: str
    url: str
    what: str
    body: bytes | None = None
    content_type: str = "application/json"
    # A refusal must name one of these (a key of the JSON answer)...
    names: tuple[str, ...] = ()
    # ... and its `detail` must contain these words.
    detail_says: str = ""
    # Valid for some operations (an unknown query parameter is ignored): only "no 5xx".
    may_succeed: bool = False


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    url: str
    parameters: tuple[Mapping[str, Any], ...]
    body_schema: Mapping[str, Any] | None


def operations(path_values: Mapping[str, str]) -> Iterator[Operation]:
    """Every operation of the API's OpenAPI document, with its path parameters filled in
    from ``path_values`` (ids of real objects, so that a body reaches its serializer)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    for template, methods in schema["paths"].items():
        for method, operation in methods.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            yield Operation(
                method=method.upper(),
                template=template,
                url=template.format(**path_values),
                parameters=tuple(operation.get("parameters", ())),
                body_schema=_resolve(body["schema"], components) if body else None,
            )


def _resolve(schema: Mapping[str, Any], components: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with ``$ref`` and single ``allOf`` replaced by what they point at, nested
    properties included."""
    if "$ref" in schema:
        return _resolve(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    if len(schema.get("allOf", ())) == 1:
        return _resolve(
            {**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}}, components
        )
    resolved = dict(schema)
    if "properties" in schema:
        resolved["properties"] = {
            name: _resolve(value, components) for name, value in schema["properties"].items()
        }
    return resolved


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def whole_body_probes(method: str, url: str) -> Iterator[Probe]:
    """Bodies that are wrong as a whole: refused before any field is read."""

    def probe(what: str, body: bytes, says: str = "", content_type: str = "application/json"):
        return Probe(method, url, what, body, content_type, detail_says=says)

    yield probe("arrays nested 5,000 deep", b"[" * 5000 + b"]" * 5000, "nested deeper")
    yield probe("objects nested 990 deep", b'{"a":' * 990 + b"1" + b"}" * 990, "nested deeper")
    depth = MAX_JSON_DEPTH + 1
    yield probe(f"arrays nested {depth} deep", b"[" * depth + b"]" * depth, "nested deeper")
    yield probe("invalid UTF-8", b'{"a": "\xff\xfe"}', "UTF-8")
    yield probe("Latin-1 declared", b'{"a": "\xe9"}', "UTF-8", "application/json; charset=latin-1")
    yield probe("a lone surrogate escape", b'"\\ud800"', "surrogate")
    yield probe("a lone surrogate in a key", b'{"\\udfff": 1}', "surrogate")
    yield probe("a NUL in a key", b'{"a\\u0000": 1}', "NUL")
    yield probe("an infinite number", b'{"a": 1e999}', "too large")
    yield probe("a 40-digit number", b'{"a": ' + b"9" * 40 + b"}", "too large")
    yield probe("NaN", b'{"a": NaN}', "not valid JSON")
    yield probe("truncated JSON", b'{"a": ', "not valid JSON")
    yield probe("a body over the limit", _json({"a": "x" * 20000}), "too large")
    for what, body in (("an array", b"[]"), ("a string", b'"x"'), ("a number", b"1")):
        yield probe(f"{what} instead of an object", body)
    yield probe("null instead of an object", b"null")
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
    ):
        yield probe(f"sent as {content_type}", b"{}", "Unsupported media type", content_type)
    yield probe("a body without a content type", b"{}", "application/json", "")


def property_probes(method: str, url: str, schema: Mapping[str, Any]) -> Iterator[Probe]:
    """One wrong value at a time in each property the body schema declares (and in each
    property of a nested object): refused naming the (top-level) property."""
    for name, declared in schema.get("properties", {}).items():
        if declared.get("readOnly"):
            continue

        def probe(what: str, body: bytes, says: str = "", top: str = name) -> Probe:
            names = () if says else (top,)
            return Probe(method, url, f"{top}: {what}", body, names=names, detail_says=says)

        yield probe("a NUL", _json({name: "a\x00b"}), "NUL")
        yield probe("a lone surrogate", b'{"%s": "\\ud800"}' % name.encode(), "surrogate")
        yield probe("an overlong string", _json({name: OVERLONG}))
        yield probe("2**64", _json({name: 2**64}))
        for wrong in WRONG_TYPES[declared.get("type", "")]:
            yield probe(f"{json.dumps(wrong)} for a {declared.get('type')}", _json({name: wrong}))
        for inner, inner_declared in declared.get("properties", {}).items():
            for wrong in WRONG_TYPES[inner_declared.get("type", "")]:
                yield probe(f"{inner}: {json.dumps(wrong)}", _json({name: {inner: wrong}}))
            yield probe(f"{inner}: overlong", _json({name: {inner: OVERLONG}}))


def body_probes(operation: Operation) -> Iterator[Probe]:
    yield from whole_body_probes(operation.method, operation.url)
    if operation.body_schema is not None:
        yield from property_probes(operation.method, operation.url, operation.body_schema)
    else:
        # No body documented: any field is unknown and refused by name.
        yield Probe(operation.method, operation.url, "a field", _json({"user": 3}), names=("user",))


def query_probes(operation: Operation) -> Iterator[Probe]:
    """Each query parameter with each hostile value: refused naming it (or in ``detail``,
    as a bad pagination cursor is)."""
    for parameter in operation.parameters:
        if parameter["in"] != "query":
            continue
        name = parameter["name"]
        for value, says in QUERY_VALUES:
            yield Probe(
                operation.method,
                f"{operation.url}?{name}={value}",
                f"?{name}={value[:20]}",
                names=() if says else (name, "detail"),
                detail_says=says,
            )


def url_templates() -> list[str]:
    """Every URL pattern of the project as a path with ``{name}`` for each parameter."""
    found: list[str] = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for entry in patterns:
            part = _template(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + part)
            else:
                found.append("/" + prefix + part)

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


def _template(pattern: Any) -> str:
    if isinstance(pattern, RoutePattern):
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern))
    if not isinstance(pattern, RegexPattern):
        raise TypeError(f"an URL pattern of an unknown kind: {pattern!r}")
    format_string, _params = normalize(pattern.regex.pattern)[0]
    return re.sub(r"%\((\w+)\)s", r"{\1}", format_string)


def path_probes(templates: list[str], path_values: Mapping[str, str]) -> Iterator[Probe]:
    """Each path parameter of each URL pattern with each hostile value, and a NUL or invalid
    UTF-8 after each path and in its query string; every method under /api/, GET elsewhere
    (a page's POST would change data through the admin)."""
    for template in templates:
        api = template.startswith("/api/")
        methods = API_METHODS if api else ("GET",)
        names = re.findall(r"{(\w+)}", template)
        values = {name: path_values.get(name, "1") for name in names}
        base = template.format(**values)
        cases: list[tuple[str, str, str, bool]] = [
            (base.rstrip("/") + "%00/", "a NUL after the path", "NUL", False),
            (base + "?q=%00", "a NUL in the query", "NUL", False),
            (base + "?q=%ED%A0%80", "invalid UTF-8 in the query", "", True),
        ]
        for name in names:
            for value in PATH_VALUES if api else PAGE_PATH_VALUES:
                url = template.format(**{**values, name: value})
                cases.append((url, f"{name}={value[:20]}", "", False))
        for url, what, says, may_succeed in cases:
            for method in methods:
                body = b"{}" if method in WRITE_METHODS else None
                yield Probe(method, url, what, body, detail_says=says, may_succeed=may_succeed)
