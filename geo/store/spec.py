"""The declaration of a record table (:class:`TableSpec`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from geo.errors import SchemaError
from geo.store import values as _v

__all__ = ["RESERVED", "TableSpec"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
#: Column names the store uses itself.
RESERVED = {"fid", "geometry", "version", "updated_at", "updated_by"}


@dataclass(frozen=True)
class TableSpec:
    """A record table declared by its user.

    Attributes
    ----------
    name
        Table name: lower-case letters, digits and ``_``, starting with a letter
        (not ``store_``/``gpkg_``).
    key
        Name of the key column (text, unique).
    columns
        Column name -> type: ``str``, ``int``, ``float``, ``bool``, or ``dict``/``list``
        (stored as JSON). Every column may be empty (None).
    geometry
        Geometry type of the ``geometry`` column (``"POINT"``, ``"POLYGON"``,
        ``"GEOMETRY"``, ...), WGS-84; None for a table without geometry.
    """

    name: str
    key: str
    columns: dict[str, type] = field(default_factory=dict)
    geometry: str | None = None

    def kinds(self) -> list[tuple[str, str]]:
        """``[(column, kind), ...]`` of the declared columns, the key first."""
        where = f"table {self.name!r}"
        for n in (self.name, self.key, *self.columns):
            if not _NAME.match(n):
                msg = f"{where}: name {n!r} must be lower-case letters, digits and '_' starting with a letter (at most 41)"
                raise SchemaError(msg)
        if self.name.startswith(("store_", "gpkg_", "rtree_")):
            msg = f"{where}: names starting with store_, gpkg_ or rtree_ are the store's own; choose another"
            raise SchemaError(msg)
        clash = sorted(RESERVED & {self.key, *self.columns})
        if clash or self.key in self.columns:
            msg = f"{where}: column(s) {clash or [self.key]} are reserved or repeat the key; rename them"
            raise SchemaError(msg)
        return [(self.key, "text")] + [(c, _v.kind_of(t, where=f"{where}, column {c!r}")) for c, t in self.columns.items()]
