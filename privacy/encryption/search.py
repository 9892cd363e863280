"""The admin's search over encrypted columns.

SQL cannot search a column of tokens, so a ``search_fields`` entry that ends at an encrypted
field is answered in Python: the newest ``ENCRYPTED_SEARCH_SCAN`` rows of the model that holds
it are read and decrypted, and those whose value contains the search term (case-insensitive)
match. The other entries stay SQL (``icontains``), and a row matching either is shown.
Bounded so that a search costs at most a few hundred milliseconds on a table of millions:
older rows are found by their other columns (id, idempotency key, username).

Where the encrypted field has a blind index (a medicine's name, a person's phone number),
the whole value typed is also looked up by its index, in every row however old: an exact
search finds any row, a partial one only among the newest. ``search_help_text`` says so on
the page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .fields import blind_match, index_field, is_encrypted

# Rows read per encrypted column and search: ~30 microseconds each to decrypt.
ENCRYPTED_SEARCH_SCAN = 5000


def _resolve(model: type[models.Model], path: str) -> tuple[type[models.Model], Any, str]:
    """The model holding the last field of ``path``, that field, and the path to that
    model's primary key from ``model`` ("pk" for ``model`` itself)."""
    parts = path.lstrip("^=@").split("__")
    holder: Any = model
    for part in parts[:-1]:
        holder = holder._meta.get_field(part).related_model
    field = holder._meta.get_field(parts[-1])
    to_pk = "__".join([*parts[:-1], "pk"])
    return holder, field, to_pk


def is_encrypted_path(model: type[models.Model], path: str) -> bool:
    try:
        return is_encrypted(_resolve(model, path)[1])
    except (AttributeError, LookupError):  # a path the admin's own check reports
        return False


def encrypted_contains(model: type[models.Model], path: str, term: str) -> Q:
    """Rows of ``model`` whose encrypted ``path`` contains ``term``, among the newest rows
    of the model that holds it."""
    holder, field, to_pk = _resolve(model, path)
    wanted = term.casefold()
    newest = holder._default_manager.order_by("-pk").values_list("pk", field.name)
    pks = [pk for pk, value in newest[:ENCRYPTED_SEARCH_SCAN] if wanted in str(value).casefold()]
    return Q(**{f"{to_pk}__in": pks}) | encrypted_equals(holder, field.name, to_pk, term)


def encrypted_equals(holder: type[models.Model], name: str, to_pk: str, term: str) -> Q:
    """Rows whose encrypted ``name`` is exactly ``term``, in any row: by its blind index,
    where it has one (else nothing: the scan above is all there is)."""
    try:
        exact = blind_match(holder, name, term)
    except LookupError:  # no blind index on this field
        return Q(pk__in=[])
    except (ValidationError, ValueError, TypeError):  # not a value of that field (a phone)
        return Q(pk__in=[])
    return Q(**{f"{to_pk}__in": holder._default_manager.filter(exact).values("pk")})


def has_blind_index(model: type[models.Model], path: str) -> bool:
    holder, field, _to_pk = _resolve(model, path)
    try:
        index_field(holder, field.name)
    except LookupError:
        return False
    return True


class EncryptedSearchAdmin(admin.ModelAdmin):
    """A ModelAdmin whose ``search_fields`` may name encrypted columns (see module)."""

    def get_search_help_text(self) -> Any:
        """What a search over encrypted columns covers, unless the admin says it itself."""
        if self.search_help_text is not None:
            return self.search_help_text
        encrypted = [p for p in self.search_fields if is_encrypted_path(self.model, p)]
        if not encrypted:
            return None
        if all(has_blind_index(self.model, p) for p in encrypted):
            return format_lazy(
                _(
                    "Encrypted fields: the whole value typed exactly is found in any record; "
                    "part of a value only among the newest {count} records."
                ),
                count=f"{ENCRYPTED_SEARCH_SCAN:,}",
            )
        return format_lazy(
            _(
                "Encrypted fields are searched among the newest {count} records only; "
                "find older ones by their other fields."
            ),
            count=f"{ENCRYPTED_SEARCH_SCAN:,}",
        )

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        # Shown under the search box.
        changelist.search_help_text = self.get_search_help_text()
        return changelist

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        return [
            path
            for path in super().get_search_fields(request)
            if not is_encrypted_path(self.model, path)
        ]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        encrypted = [p for p in self.search_fields if is_encrypted_path(self.model, p)]
        if not term or not encrypted:
            return results, may_have_duplicates
        matches = Q(pk__in=[])
        for path in encrypted:
            matches |= encrypted_contains(self.model, path, term)
        found = queryset.filter(matches)
        if self.get_search_fields(request):
            found = results | found
        return found, may_have_duplicates or any("__" in path for path in encrypted)
