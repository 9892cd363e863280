"""Re-encrypting every encrypted column under the current key, in batches, while the
application runs.

Each batch is one short transaction: the rows are read and locked (``SELECT ... FOR
UPDATE``, so a concurrent edit waits a few milliseconds instead of being overwritten with the
value read before it), decrypted with whichever key opens them (MultiFernet), and written
back with ``bulk_update``, which encrypts with the first key; blind indexes are rewritten
with the first index key at the same time. Two queries per batch, whatever its size.
Readers never stop: until a row's turn comes, its old token still opens with the old key,
which stays in ``FIELD_ENCRYPTION_KEYS`` until the command has finished.

The data migrations that first encrypted existing rows call the same function.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps as global_apps
from django.db import models, transaction
from django.db.models import TextField, Value
from django.db.models.functions import Cast

from . import keys
from .fields import BlindIndexField, is_encrypted

BATCH_SIZE = 500


@dataclass(frozen=True)
class EncryptedModel:
    model: type[models.Model]
    fields: tuple[str, ...]  # encrypted fields
    indexes: tuple[BlindIndexField, ...]

    @property
    def label(self) -> str:
        return self.model._meta.label


def encrypted_models(apps: Any = global_apps) -> list[EncryptedModel]:
    """Every model with an encrypted field or a blind index, in a stable order."""
    found = []
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
        fields = tuple(f.name for f in model._meta.concrete_fields if is_encrypted(f))
        indexes = tuple(f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField))
        if fields or indexes:
            found.append(EncryptedModel(model, fields, indexes))
    return found


def of_model(model: type[models.Model]) -> EncryptedModel:
    fields = tuple(f.name for f in model._meta.concrete_fields if is_encrypted(f))
    indexes = tuple(f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField))
    return EncryptedModel(model, fields, indexes)


def reencrypt_batches(target: EncryptedModel, batch_size: int = BATCH_SIZE) -> Iterator[int]:
    """Re-encrypt ``target``'s rows batch by batch, in primary-key order; yields the size of
    each batch written."""
    model = target.model
    sources = {index.source for index in target.indexes}
    read = sorted({*target.fields, *sources})
    written = [*target.fields, *(index.name for index in target.indexes)]
    manager = model._base_manager
    last_pk: Any = None
    while True:
        with transaction.atomic():
            rows = manager.select_for_update().order_by("pk").only("pk", *read)
            if last_pk is not None:
                rows = rows.filter(pk__gt=last_pk)
            batch = list(rows[:batch_size])
            if not batch:
                return
            for row in batch:
                for index in target.indexes:
                    setattr(row, index.attname, index.index_of(row))
            manager.bulk_update(batch, written, batch_size=len(batch))
        last_pk = batch[-1].pk
        yield len(batch)


def reencrypt(target: EncryptedModel, batch_size: int = BATCH_SIZE) -> int:
    return sum(reencrypt_batches(target, batch_size))


def stale_rows(target: EncryptedModel) -> int:
    """Rows holding a value not under the current key (an older key, or in clear) or a blind
    index not under the current index key: what a rotation has left to do. Reads every row,
    so it costs a scan of the table (and a decryption per indexed value)."""
    model = target.model
    stale: set[Any] = set()
    if target.fields:
        stored = {f"stored_{name}": Cast(name, output_field=TextField()) for name in target.fields}
        rows = model._base_manager.annotate(**stored).values_list("pk", *stored).order_by()
        stale.update(
            pk
            for pk, *values in rows.iterator(chunk_size=2000)
            if not all(keys.is_current(v or "") for v in values)
        )
    if target.indexes:
        sources = sorted({index.source for index in target.indexes})
        indexed = model._base_manager.only("pk", *sources, *(i.name for i in target.indexes))
        stale.update(
            row.pk
            for row in indexed.order_by().iterator(chunk_size=2000)
            if any(index.index_of(row) != getattr(row, index.attname) for index in target.indexes)
        )
    return len(stale)


def decrypt_in_place(target: EncryptedModel, batch_size: int = BATCH_SIZE) -> int:
    """Write every encrypted value back in clear: only for unapplying the migrations that
    encrypted them (the columns go back to their old types after this)."""
    model = target.model
    manager = model._base_manager
    fields: list[Any] = [model._meta.get_field(name) for name in target.fields]
    count = 0
    last_pk: Any = None
    while True:
        rows = manager.order_by("pk").only("pk", *target.fields)
        if last_pk is not None:
            rows = rows.filter(pk__gt=last_pk)
        batch = list(rows[:batch_size])
        if not batch:
            return count
        for row in batch:
            for field in fields:
                plain = field.get_prep_value(getattr(row, field.attname))
                text = None if plain is None else field.to_plain_text(plain)
                # An expression is written as it is: the field does not encrypt it. Put in
                # the instance's dict: a field's descriptor (a phone number's) would parse it.
                row.__dict__[field.attname] = Value(text, output_field=TextField())
        manager.bulk_update(batch, list(target.fields), batch_size=len(batch))
        last_pk = batch[-1].pk
        count += len(batch)


def encrypt_existing_rows(app_label: str, *model_names: str) -> Any:
    """A migration's RunPython pair: encrypt ``model_names``' rows (and fill their blind
    indexes), or write them back in clear when unapplied."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        for name in model_names:
            reencrypt(of_model(apps.get_model(app_label, name)))

    def backwards(apps: Any, schema_editor: Any) -> None:
        for name in model_names:
            decrypt_in_place(of_model(apps.get_model(app_label, name)))

    return forwards, backwards
