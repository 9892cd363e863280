"""The admin's search over encrypted columns.

SQL cannot search a column of tokens, so a ``search_fields`` entry that ends at an encrypted
field is answered in Python: the newest ``ENCRYPTED_SEARCH_SCAN`` rows of the model that holds
it are read and decrypted, and those whose value contains the search term (case-insensitive)
match. The other entries stay SQL (``icontains``), and a row matching either is shown.
Bounded so that a search costs at most a few hundred milliseconds on a table of millions:
older rows are found by their other columns (id, idempotency key, username).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from .fields import is_encrypted

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
    return Q(**{f"{to_pk}__in": pks})


class EncryptedSearchAdmin(admin.ModelAdmin):
    """A ModelAdmin whose ``search_fields`` may name encrypted columns (see module)."""

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
