"""Surveyed positions typed in the register view (pure functions; unit-tested).

A position is recorded as one row of ``data/geocode_overrides.csv`` (columns
``estate_id, address, lon, lat, datum, note``, the columns
:func:`geo.geocode.load_overrides` reads), checked by that same loader before
the file is replaced atomically under the store lock (:func:`geo._lock.store_lock`,
so two editors recording at once both keep their rows); then ``data/estates.geojson`` is rebuilt with
:func:`geo.geocode.build_estates`, so the estate's point has quality ``surveyed``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo import geocode, io
from geo._lock import store_lock
from geo.crs import normalize_datum
from geo.errors import GeocodeError

COLUMNS = ("estate_id", "address", "lon", "lat", "datum", "note")
#: Layer of the store that holds the overrides.
LAYER = "geocode_overrides"


def read_overrides(path: str | Path) -> pd.DataFrame:
    """The overrides table (text columns); empty with :data:`COLUMNS` when the file is missing."""
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame(columns=list(COLUMNS))
    df = io.read_table(path)
    for col in COLUMNS:
        if col not in df.columns:
            df[col] = ""
    return df


def record_override(path: str | Path, estate_id: str, lon: float, lat: float, *, datum: str = "wgs84", note: str = "",
                    address: str = "", author: str = "", store=None) -> pd.DataFrame:
    """Record (or replace) the surveyed position of one estate.

    Parameters
    ----------
    path
        The overrides file (``data/geocode_overrides.csv``).
    estate_id
        Estate id, e.g. ``SH-01``; an earlier row for it is replaced.
    lon, lat
        Degrees in ``datum``.
    datum
        ``wgs84`` (also CGCS2000/Tianditu), ``gcj02`` (AMap, Tencent) or ``bd09`` (Baidu).
    note
        Who surveyed, how, when.
    address
        The estate's address (kept for reference).
    author
        Who records it (for the store's audit trail; default "(register view)").
    store
        The store in use (default :func:`geo.store.api.active_store` of the file's folder).
        With a store, the table is read from and saved to its ``geocode_overrides``
        layer with the version it was read at, so two people recording at once
        cannot lose either's row: the later one gets "someone else saved; reload".

    Returns
    -------
    pandas.DataFrame
        The table as written.

    Raises
    ------
    GeocodeError
        When the loader rejects the row (swapped or out-of-area coordinates,
        unknown datum); the file is left unchanged.
    """
    path = Path(path)
    datum = normalize_datum(datum)
    with store_lock(path):  # another recorder waits, then reads what this one wrote
        if store is None:
            from geo.store.api import active_store

            store = active_store(path.parent)
        base = None
        if store is not None and store.layer_version(LAYER):
            stored, base = store.read_layer(LAYER)
            table = stored.fillna("").astype(str)
            for col in COLUMNS:
                if col not in table.columns:
                    table[col] = ""
        else:
            table = read_overrides(path)
            base = 0 if store is not None else None
        table = table[table["estate_id"].astype(str) != str(estate_id)]
        row = {"estate_id": str(estate_id), "address": str(address or ""), "lon": f"{float(lon):.7f}", "lat": f"{float(lat):.7f}",
               "datum": datum, "note": str(note or "")}
        table = pd.concat([table, pd.DataFrame([row])], ignore_index=True)[[*COLUMNS, *[c for c in table.columns if c not in COLUMNS]]]
        table = table.fillna("").astype(str)
        with tempfile.TemporaryDirectory() as tmp:
            candidate = Path(tmp) / path.name
            io.write_table(table, candidate)
            checked = geocode.load_overrides(candidate)
        reason = checked.rejected.get(str(estate_id))
        if reason or str(estate_id) not in checked.by_id:
            msg = f"{path.name}: the position of {estate_id} was not recorded: {reason or 'the row was not accepted'}"
            raise GeocodeError(msg)
        if store is not None:
            saved = pd.DataFrame({c: table[c].where(table[c] != "", None) for c in table.columns})
            saved.attrs["metadata"] = {}
            store.replace_layer(LAYER, saved, base_version=base, author=author.strip() or "(register view)",
                                reason=f"surveyed position of {estate_id}: {note}".strip().rstrip(":"))
        io.write_table(table, path)
    return table


def rebuild_estates(ledger_path: str | Path, out_path: str | Path) -> gpd.GeoDataFrame:
    """Geocode the ledger again (overrides first) and replace the estates file atomically."""
    return geocode.build_estates(ledger_path, out_path)
