"""What every compatibility module shares: the catalog, field reads and absent fields.

Upstream APIs return dicts with a fixed set of keys. The catalog may hold only some of
them (for instance mean accuracies but no losses), so results are :class:`Fields`: a
plain ``dict`` of the values the catalog holds whose missing keys raise
:class:`MissingField`, naming the field and the source whose ingest would provide it,
instead of a made-up value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nasdb.errors import LookupMiss, NasdbError, UnknownName


class MissingField(NasdbError, KeyError):
    """An upstream field the catalog does not hold (a ``KeyError``, as for any absent key)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class BadKey(NasdbError, KeyError):
    """An unknown dataset or ``hp`` where upstream's dict lookup raises ``KeyError``."""

    def __str__(self) -> str:
        return str(self.args[0])


class Fields(dict):
    """An upstream result dict; absent fields raise :class:`MissingField` saying why."""

    def __init__(self, values=(), absent: dict[str, str] | None = None):
        super().__init__(values)
        self.absent = dict(absent or {})

    def __missing__(self, key):
        if key in self.absent:
            raise MissingField(self.absent[key])
        raise KeyError(key)


@dataclass(frozen=True)
class Field:
    """Where one upstream field lives: a catalog metric, and the sources holding it, best first."""

    task: str | None
    metric: str
    sources: tuple[str, ...]
    fidelity: int | None = None
    device: str | None = None
    scale: float = 1.0


def connect(home):
    """The catalog at ``home``, else at ``$NASDB_HOME`` (upstream data-file paths are not read)."""
    import nasdb

    return nasdb.connect(home)


class Reader:
    """Single values of one space through the vectorised columns of ``Database.lookup``."""

    def __init__(self, db, space: str):
        self.db = db
        self.space = space
        self._keys: dict[tuple, object] = {}
        self._seeds: dict[Field, list[int]] = {}

    def _key(self, field: Field, source: str, seed):
        memo = (field, source, seed)
        if memo not in self._keys:
            kw = {"seed": seed} if seed is not None else {}
            if field.fidelity is not None:
                kw["fidelity"] = field.fidelity
            if field.device is not None:
                kw["device"] = field.device
            try:
                key = self.db.resolve(
                    self.space, task=field.task, metric=field.metric, source=source, **kw
                )
            except UnknownName:
                key = None
            self._keys[memo] = key
        return self._keys[memo]

    def value(self, field: Field, index: int, seed: int | None = None) -> float | None:
        """The field's value for one architecture, None where no source holds it."""
        for source in field.sources:
            key = self._key(field, source, seed)
            if key is None:
                continue
            v = float(self.db.column(key)[index : index + 1][0])
            if not math.isnan(v):
                return v * field.scale
        return None

    def seeds(self, field: Field) -> list[int]:
        """The per-seed values the catalog holds for this field (its first source that has any)."""
        if field not in self._seeds:
            self._seeds[field] = self._find_seeds(field)
        return self._seeds[field]

    def _find_seeds(self, field: Field) -> list[int]:
        for source in field.sources:
            seeds = sorted(
                k.seed
                for k in self.db.keys()
                if k.space == self.space
                and k.source == source
                and k.metric == field.metric
                and k.task == field.task
                and k.seed is not None
                and (field.fidelity is None or k.fidelity == field.fidelity)
            )
            if seeds:
                return seeds
        return []

    def fields(
        self, table: dict[str, Field], index: int, what: str, seed: int | None = None
    ) -> Fields:
        """Every field of ``table`` the catalog holds; the others say which source to ingest."""
        out, absent = {}, {}
        for name, field in table.items():
            v = self.value(field, index, seed)
            if v is None:
                absent[name] = missing_message(name, field, what)
            else:
                out[name] = v
        return Fields(out, absent)


def missing_message(name: str, field: Field, what: str) -> str:
    source = field.sources[0]
    return (
        f"{name!r} of {what} is not in the catalog; source {source} provides it "
        f"(run: nasdb ingest {source} --source DIR)"
    )


def check_index(index, size: int, exc=IndexError) -> int:
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
        raise exc(f"architecture index must be an integer in 0..{size - 1}, got {index!r}")
    if not 0 <= index < size:
        raise exc(f"architecture index {index} is outside 0..{size - 1}")
    return int(index)


__all__ = [
    "BadKey",
    "Field",
    "Fields",
    "LookupMiss",
    "MissingField",
    "Reader",
    "connect",
    "check_index",
]
