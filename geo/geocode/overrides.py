"""Surveyed positions (``data/geocode_overrides.csv``) that win over every provider.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from geo import crs as _crs
from geo import io, settings
from geo._validate import is_blank, lonlat_problem, parse_degrees
from geo.errors import DatumError, GeocodeError
from geo.geocode.address import normalize_address, parse_address
from geo.geocode.result import in_extent

# --- overrides ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Override:
    lon: float
    lat: float
    datum: str
    note: str
    row: int


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


def load_overrides(path: str | os.PathLike | None = None) -> Overrides:
    """Read the overrides table; a bad row is reported and skipped, never fatal.

    Columns: ``estate_id`` and/or ``address`` (one is needed), ``lon``, ``lat``
    (degrees), ``datum`` (``wgs84``/``cgcs2000`` when empty, ``gcj02``, ``bd09``),
    ``note``. CSV (UTF-8 or GB18030) or XLSX. Lines starting with ``#`` are comments.

    Parameters
    ----------
    path
        Default :data:`geo.settings.geocode_overrides_path`, else ``data/geocode_overrides.csv``.
        A missing file means no overrides.

    Returns
    -------
    Overrides
    """
    path = Path(path or settings.geocode_overrides_path or settings.data_path("geocode_overrides.csv"))
    out = Overrides(path=path)
    if not path.is_file():
        return out
    df = io.read_table(path)
    missing = [c for c in ("lon", "lat") if c not in df.columns]
    if missing or not ({"estate_id", "address"} & set(df.columns)):
        out.problems.append(f"{path}: needs columns estate_id and/or address, lon, lat (datum, note optional); missing {missing or ['estate_id/address']}")
        return out
    for i, rec in enumerate(df.to_dict("records"), start=2):
        where = f"{path.name} row {i}"
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
        if row_problems:
            reason = f"{where}: " + "; ".join(row_problems)
            out.problems.append(reason)
            for k in keys:
                out.rejected[k] = reason
            continue
        ov = _Override(float(lon), float(lat), datum, get("note"), i)
        if eid:
            out.by_id[eid] = ov
        if addr:
            out.by_address[address_key(addr)] = ov
    return out

