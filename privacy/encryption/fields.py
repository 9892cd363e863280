"""Model fields whose column holds a Fernet token instead of the value.

A value is encrypted in ``get_db_prep_value``, the one door every write goes through (``save``,
``bulk_create``, ``bulk_update``, ``QuerySet.update``, and ``medguard_backend.row_inserts``,
which calls it too), and decrypted in ``from_db_value``, which the ORM and the hand-written
readers (``medguard_backend.db_rows``) apply. The column is ``text`` whatever the field's
``max_length``: a token is longer than its value; ``max_length`` still limits what a form or
``full_clean`` accepts.

An encrypted column cannot be compared in SQL (each token is different, even for one
value), so the fields accept only ``isnull`` and comparisons with "" (kept as "": see
``keys.encrypt``); anything else raises instead of silently finding nothing. A value the
system must find by equality has a ``BlindIndexField`` beside it.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.db.models.lookups import Exact, IsNull
from phonenumber_field.modelfields import PhoneNumberField

from . import keys


class EncryptedColumnLookupError(TypeError):
    pass


class EmptyOnlyExact(Exact):
    """``field=""`` (is it empty?) is the one comparison a token column can answer."""

    def get_db_prep_lookup(self, value: Any, connection: Any) -> Any:
        if value not in ("", None):
            field = self.lhs.output_field
            raise EncryptedColumnLookupError(
                f"{field.model._meta.label}.{field.name} is encrypted: look it up by its "
                "blind index, not by value"
            )
        return super().get_db_prep_lookup(value, connection)


class EncryptedMixin:
    """Shared by every encrypted field: ``text`` column, encrypt on write, decrypt on read."""

    encrypted = True

    def get_internal_type(self) -> str:
        return "TextField"

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)  # type: ignore[attr-defined]
        if value is None or hasattr(value, "as_sql"):
            return value
        return keys.encrypt(self.to_plain_text(value))

    def to_plain_text(self, prepared: Any) -> str:
        return str(prepared)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return value
        return keys.decrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return IsNull
        if lookup_name == "exact":
            return EmptyOnlyExact
        return None

    def get_transform(self, lookup_name: str) -> Any:
        return None


class EncryptedCharField(EncryptedMixin, models.CharField):
    pass


class EncryptedTextField(EncryptedMixin, models.TextField):
    pass


class EncryptedEmailField(EncryptedMixin, models.EmailField):
    pass


class EncryptedPhoneNumberField(EncryptedMixin, PhoneNumberField):
    """An E.164 number (``PhoneNumberField``'s normalisation), encrypted."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return PhoneNumberField.from_db_value(
            self, super().from_db_value(value, expression, connection), expression, connection
        )


class EncryptedJSONField(EncryptedMixin, models.JSONField):
    """A JSON document, encrypted whole: its keys cannot be queried in SQL."""

    def to_plain_text(self, prepared: Any) -> str:
        return json.dumps(prepared, cls=self.encoder)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        # JSONField.get_prep_value only unwraps expressions; the document is dumped here.
        if value is None or hasattr(value, "as_sql"):
            return value
        return keys.encrypt(self.to_plain_text(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return value
        if not isinstance(value, str):  # still the jsonb column of before the migration
            return value
        return json.loads(keys.decrypt(value), cls=self.decoder)

    def select_format(self, compiler: Any, sql: str, params: Any) -> Any:
        return models.Field.select_format(self, compiler, sql, params)


class BlindIndexField(models.CharField):
    """The keyed hash (``keys.blind_index``) of another field's value, kept in step on
    ``save()`` and ``bulk_create`` (``pre_save``). Where rows are changed otherwise
    (``QuerySet.update``, raw SQL), the writer sets it too; ``rotate_encryption_keys``
    rewrites every index with the current key.

    Find rows by value with ``blind_match(Model, "source", value)``.
    """

    def __init__(self, *args: Any, source: str = "", **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", keys.BLIND_INDEX_LENGTH)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        # Rows written by COPY or raw SQL without the column (bench/) have no value to hash.
        kwargs.setdefault("db_default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for option in ("max_length", "blank", "default", "db_default", "editable"):
            kwargs.pop(option, None)
        return name, path, args, kwargs

    @property
    def purpose(self) -> str:
        return f"{self.model._meta.label_lower}.{self.source}"

    def source_field(self) -> Any:
        return self.model._meta.get_field(self.source)

    def plain(self, value: Any) -> str:
        """The source's value as it is stored (a phone number in E.164), before encryption."""
        prepared = self.source_field().get_prep_value(value)
        return "" if prepared is None else str(prepared)

    def index_of(self, instance: models.Model) -> str:
        source = self.source_field()
        return keys.blind_index(self.purpose, self.plain(getattr(instance, source.attname)))

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = self.index_of(model_instance)
        setattr(model_instance, self.attname, value)
        return value

    def indexes_of(self, value: Any) -> list[str]:
        return list(keys.blind_indexes(self.purpose, self.plain(value)))


def index_field(model: type[models.Model], source: str) -> BlindIndexField:
    for field in model._meta.concrete_fields:
        if isinstance(field, BlindIndexField) and field.source == source:
            return field
    raise LookupError(f"{model._meta.label}.{source} has no blind index")


def blind_match(model: type[models.Model], source: str, value: Any) -> models.Q:
    """The condition "``source`` equals ``value``" on ``model``, answered by its blind index
    (one IN over the index keys: old hashes still match while they rotate)."""
    field = index_field(model, source)
    return models.Q(**{f"{field.name}__in": field.indexes_of(value)})


def is_encrypted(field: Any) -> bool:
    return getattr(field, "encrypted", False) is True
