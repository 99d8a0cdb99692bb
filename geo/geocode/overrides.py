"""Surveyed positions (``data/geocode_overrides.csv``) that win over every provider.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import shapely

from geo import crs as _crs
from geo import io, settings
from geo._lock import store_lock
from geo._validate import is_blank, lonlat_problem, parse_degrees
from geo.errors import DatumError, GeocodeError
from geo.geocode.address import normalize_address, parse_address
from geo.geocode.footprints import check_footprint, parse_footprint
from geo.geocode.result import in_extent

# --- overrides ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Override:
    lon: float
    lat: float
    datum: str
    note: str
    row: int
    footprint: object = None  # a WGS-84 shapely polygon, or None


@dataclass
class Overrides:
    """Surveyed positions that win over every provider.

    Attributes
    ----------
    by_id, by_address
        Good rows keyed by estate id and by canonical address.
    problems
        One message per rejected row (file, row, field, fix).
    rejected
        Keys (estate id or canonical address) of rejected rows -> reason, so the
        affected address's note can say its override was ignored.
    """

    path: Path | None = None
    by_id: dict[str, _Override] = field(default_factory=dict)
    by_address: dict[str, _Override] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)

    def find(self, address: str, estate_id: str | None) -> tuple[_Override | None, str | None]:
        """Return (override, rejection reason) for an address/id."""
        key = address_key(address)
        if estate_id and estate_id in self.by_id:
            return self.by_id[estate_id], None
        if key in self.by_address:
            return self.by_address[key], None
        return None, self.rejected.get(estate_id) or self.rejected.get(key)


def address_key(address: str) -> str:
    """Key that matches one address however it is written (prefix, full-width, spacing)."""
    try:
        return parse_address(address).canonical
    except GeocodeError:
        return normalize_address(address or "")


def load_overrides(path: io.Source | None = None, *, name: str | None = None) -> Overrides:
    """Read the overrides table; a bad row is reported and skipped, never fatal.

    Columns: ``estate_id`` and/or ``address`` (one is needed), ``lon``, ``lat``
    (degrees), ``datum`` (``wgs84``/``cgcs2000`` when empty, ``gcj02``, ``bd09``),
    ``note``, and optionally ``footprint`` (the estate's outline as WKT in
    WGS-84, checked by :func:`geo.geocode.footprints.check_footprint`).
    CSV (UTF-8 or GB18030) or XLSX. Lines starting with ``#`` are comments.

    Parameters
    ----------
    path
        Default :data:`geo.settings.geocode_overrides_path`, else ``data/geocode_overrides.csv``.
        A missing file means no overrides. Bytes or a binary file object are
        read as the table (``name`` then gives its file name).
    name
        The file's name for messages.

    Returns
    -------
    Overrides
    """
    if path is None:
        path = settings.geocode_overrides_path or settings.data_path("geocode_overrides.csv")
    if isinstance(path, (str, os.PathLike)):
        path = Path(path)
        out = Overrides(path=path)
        if not path.is_file():
            return out
        label = name or path.name
    else:
        out = Overrides()
        label = name or "geocode_overrides.csv"
    df = io.read_table(path, name=name if isinstance(path, Path) else label)
    missing = [c for c in ("lon", "lat") if c not in df.columns]
    if missing or not ({"estate_id", "address"} & set(df.columns)):
        out.problems.append(f"{out.path or label}: needs columns estate_id and/or address, lon, lat (datum, note optional); missing {missing or ['estate_id/address']}")
        return out
    for i, rec in enumerate(df.to_dict("records"), start=2):
        where = f"{label} row {i}"
        first = rec.get(df.columns[0])
        if isinstance(first, str) and first.lstrip().startswith("#"):
            continue  # a comment line
        get = lambda k, rec=rec: "" if is_blank(rec.get(k)) else str(rec.get(k)).strip()  # noqa: E731
        eid, addr = get("estate_id"), get("address")
        keys = [k for k in (eid, address_key(addr) if addr else "") if k]
        row_problems = []
        if not keys:
            row_problems.append("field 'estate_id'/'address': both empty; give the estate id (e.g. SH-01) or the address")
        lon, lat = parse_degrees(get("lon")), parse_degrees(get("lat"))
        if lon is None or lat is None:
            lon = lat = None
            row_problems.append(f"fields 'lon'/'lat': {get('lon')!r}, {get('lat')!r} are not numbers of degrees")
        try:
            datum = _crs.normalize_datum(get("datum") or "wgs84")
        except DatumError as exc:
            row_problems.append(f"field 'datum': {exc}")
            datum = None
        if lon is not None and lat is not None and not row_problems:
            if (side := lonlat_problem(lon, lat)) == "swapped":
                row_problems.append(f"fields 'lon'/'lat': ({lon}, {lat}) look swapped (latitude first); put longitude in 'lon' and latitude in 'lat'")
            elif side == "outside":
                row_problems.append(f"fields 'lon'/'lat': ({lon}, {lat}) lie outside China; check the numbers")
            else:
                lon, lat = _crs.convert(lon, lat, src=datum, dst="wgs84")
                if not in_extent(lon, lat):
                    row_problems.append(f"fields 'lon'/'lat': ({lon:.6f}, {lat:.6f}) WGS-84 lie outside the subdistrict's extent; check the numbers and the datum")
        footprint = None
        if get("footprint") and not row_problems:
            footprint, problem = _footprint(get("footprint"), lon, lat, where=where)
            if problem:
                row_problems.append(problem)
        if row_problems:
            reason = f"{where}: " + "; ".join(row_problems)
            out.problems.append(reason)
            for k in keys:
                out.rejected[k] = reason
            continue
        ov = _Override(float(lon), float(lat), datum, get("note"), i, footprint)
        if eid:
            out.by_id[eid] = ov
        if addr:
            out.by_address[address_key(addr)] = ov
    return out


def _footprint(text: str, lon: float, lat: float, *, where: str):
    """(polygon, None) for a good footprint of the point (WGS-84), else (None, the reason)."""
    try:
        polygon = parse_footprint(text, where=where)
    except GeocodeError as exc:
        return None, str(exc).removeprefix(f"{where}, ")
    check = check_footprint(polygon, lon, lat)
    if not check.ok:
        return None, "field 'footprint': " + "; ".join(check.problems)
    return polygon, None


#: Columns of the overrides file, in the order :func:`record_override` writes them (``footprint`` follows when used).
OVERRIDE_COLUMNS = ("estate_id", "address", "lon", "lat", "datum", "note")


def read_override_table(path: str | os.PathLike) -> pd.DataFrame:
    """The overrides file as a table of text (every column of :data:`OVERRIDE_COLUMNS`); empty when the file is missing."""
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame(columns=list(OVERRIDE_COLUMNS))
    df = io.read_table(path)
    for col in OVERRIDE_COLUMNS:
        if col not in df.columns:
            df[col] = ""
    return df


#: Layer of the store that holds the overrides.
OVERRIDES_LAYER = "geocode_overrides"


def record_override(path: str | os.PathLike, estate_id: str, lon: float, lat: float, *, datum: str = "wgs84", note: str = "",
                    address: str = "", author: str = "", store=None, footprint=None, clear_footprint: bool = False) -> pd.DataFrame:
    """Record (or replace) the surveyed position of one estate in the overrides file (and the store, when one is in use).

    The new table is checked by :func:`load_overrides` before anything is
    written; the file is replaced atomically, so a rejected row leaves it as it was.

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
    footprint
        The estate's outline (shapely polygon, WGS-84), written as WKT in the
        ``footprint`` column; None keeps the footprint recorded before (if any).
    clear_footprint
        Drop the footprint recorded before.
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
    from geo.store.api import active_store

    path = Path(path)
    datum = _crs.normalize_datum(datum)
    with store_lock(path):  # another recorder waits, then reads what this one wrote
        if store is None:
            store = active_store(path.parent)
        base = None
        if store is not None and store.layer_version(OVERRIDES_LAYER):
            stored, base = store.read_layer(OVERRIDES_LAYER)
            table = stored.fillna("").astype(str)
            for col in OVERRIDE_COLUMNS:
                if col not in table.columns:
                    table[col] = ""
        else:
            table = read_override_table(path)
            base = 0 if store is not None else None
        before = table[table["estate_id"].astype(str) == str(estate_id)]
        table = table[table["estate_id"].astype(str) != str(estate_id)]
        row = {"estate_id": str(estate_id), "address": str(address or ""), "lon": f"{float(lon):.7f}", "lat": f"{float(lat):.7f}",
               "datum": datum, "note": str(note or "")}
        if footprint is not None:
            row["footprint"] = shapely.to_wkt(footprint, rounding_precision=settings.coordinate_precision)
        elif not clear_footprint and "footprint" in before.columns and len(before):
            row["footprint"] = str(before["footprint"].iloc[-1] or "")
        if "footprint" in row and "footprint" not in table.columns:
            table = table.assign(footprint="")
        extra = [c for c in table.columns if c not in OVERRIDE_COLUMNS]
        table = pd.concat([table, pd.DataFrame([row])], ignore_index=True)[[*OVERRIDE_COLUMNS, *extra]]
        table = table.fillna("").astype(str)
        suffix = path.suffix.lower() if path.suffix.lower() in {".csv", ".xlsx"} else ".csv"
        checked = load_overrides(io.table_bytes(table, suffix, name=path.name), name=path.name)
        reason = checked.rejected.get(str(estate_id))
        if reason or str(estate_id) not in checked.by_id:
            msg = f"{path.name}: the position of {estate_id} was not recorded: {reason or 'the row was not accepted'}"
            raise GeocodeError(msg)
        if store is not None:
            saved = pd.DataFrame({c: table[c].where(table[c] != "", None) for c in table.columns})
            saved.attrs["metadata"] = {}
            store.replace_layer(OVERRIDES_LAYER, saved, base_version=base, author=author.strip() or "(register view)",
                                reason=f"surveyed position of {estate_id}: {note}".strip().rstrip(":"))
        io.write_table(table, path)
    return table
