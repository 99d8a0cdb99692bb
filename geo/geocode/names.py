"""Estate names of the ledger, for an address that gives a name and no house number (花园小区).

People often name the estate instead of its address. The ledger knows each
estate's printed address, so a name that the ledger lists once stands for that
address. A name listed at several addresses (花园小区 stands at eight) is not
guessed: :meth:`EstateNames.match` returns every address and the geocoder
refuses with the list.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from geo import io, settings
from geo._validate import is_blank as _blank
from geo.geocode.address import admin_tokens, normalize_address

__all__ = ["EstateNames", "NameMatch"]


@dataclass(frozen=True)
class NameMatch:
    """A ledger name found in an address.

    Attributes
    ----------
    name
        The estate name as the ledger prints it.
    rows
        ``(estate_id, address)`` of every ledger row with that name (in the
        prefix's community, when the text names one), in ledger order,
        one per distinct address.
    prefix
        Administrative tokens before the name (e.g. ``("凤仙路社区",)``).
    extra
        Text after the name (e.g. ``"3栋"``), which the geocoder does not use.
    """

    name: str
    rows: tuple[tuple[str, str], ...]
    prefix: tuple[str, ...] = ()
    extra: str = ""


class EstateNames:
    """Estate names of the ledger and their addresses.

    Parameters
    ----------
    rows
        ``(estate_id, name, community, address)`` per ledger row.
    source
        File name, for notes.
    """

    def __init__(self, rows: list[tuple[str, str, str, str]], *, source: str = "ledger"):
        self.rows = [(str(e), normalize_address(n), str(c), str(a)) for e, n, c, a in rows]
        self.source = source
        # Longest names first, so 二小区 is not found inside a longer name.
        self._names = sorted({r[1] for r in self.rows if r[1]}, key=len, reverse=True)

    @classmethod
    def from_ledger(cls, path: str | os.PathLike | None = None) -> EstateNames:
        """Read the ledger's ``estate_id``, ``name``, ``community`` and ``address``; an absent file gives no names.

        Parameters
        ----------
        path
            Default ``data/ledger.csv``.
        """
        path = Path(path or settings.data_path("ledger.csv"))
        if not path.is_file():
            return cls([], source=path.name)
        return cls.from_frame(io.read_table(path), source=path.name)

    @classmethod
    def from_frame(cls, df, *, source: str = "ledger") -> EstateNames:
        """Names of a ledger already read (columns ``estate_id``, ``name``, ``address``, optional ``community``)."""
        if not {"estate_id", "name", "address"} <= set(df.columns):
            return cls([], source=source)
        rows = []
        for rec in df.to_dict("records"):
            if _blank(rec.get("name")) or _blank(rec.get("address")):
                continue
            community = "" if _blank(rec.get("community")) else str(rec["community"]).strip()
            rows.append((str(rec["estate_id"]).strip(), str(rec["name"]).strip(), community, str(rec["address"]).strip()))
        return cls(rows, source=source)

    def match(self, text: str) -> NameMatch | None:
        """Find a ledger name in an address, preceded by nothing but administrative names.

        Parameters
        ----------
        text
            An address, e.g. ``"凤仙路社区花园小区"``, ``"和谐小区3栋"``.

        Returns
        -------
        NameMatch or None
            None when no ledger name is found or other words stand before it.
        """
        folded = normalize_address(text)
        for name in self._names:
            at = folded.find(name)
            if at < 0:
                continue
            prefix = admin_tokens(folded[:at])
            if prefix is None:
                continue
            community = next((t for t in prefix if t.endswith("社区")), None)
            rows, seen = [], set()
            for eid, n, comm, addr in self.rows:
                if n == name and (community is None or comm == community) and addr not in seen:
                    seen.add(addr)
                    rows.append((eid, addr))
            if rows:
                return NameMatch(name, tuple(rows), prefix, folded[at + len(name) :])
        return None
