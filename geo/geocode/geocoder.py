"""The geocoder: overrides first, then the provider; and building ``estates.geojson`` from the ledger.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from geo import io, settings
from geo._validate import is_blank
from geo.errors import DataFileError, GeocodeError, GeoError
from geo.geocode.address import describe_ignored, outside_reason, parse_address
from geo.geocode.gazetteer import OfflineProvider
from geo.geocode.names import EstateNames, NameMatch
from geo.geocode.online import make_provider
from geo.geocode.overrides import Overrides, load_overrides
from geo.geocode.result import APPROXIMATE_NOTE, GeocodeResult, address_parts, failed_result
from geo.schemas import ESTATES, GEOCODE_QUALITIES

# --- the geocoder -------------------------------------------------------------------------


class Geocoder:
    """Overrides first, then one provider; keeps both loaded for a batch.

    Parameters
    ----------
    provider
        A provider name (see :func:`make_provider`) or object with
        ``geocode(parsed) -> GeocodeResult`` and ``source``; default
        :data:`geo.settings.geocode_provider`.
    overrides
        An :class:`Overrides`, a path, or None for the default file.
    names
        Estate names for an address without a house number: an
        :class:`~geo.geocode.names.EstateNames`, a ledger path, or None for
        ``data/ledger.csv`` (read when first needed).
    """

    def __init__(self, provider=None, *, overrides: Overrides | str | os.PathLike | None = None,
                 names: EstateNames | str | os.PathLike | None = None):
        self.provider = make_provider(provider) if provider is None or isinstance(provider, str) else provider
        self.overrides = overrides if isinstance(overrides, Overrides) else load_overrides(overrides)
        self._names = names
        self._memo: dict[str, GeocodeResult] = {}

    @property
    def names(self) -> EstateNames:
        """The ledger's estate names (read on first use)."""
        if not isinstance(self._names, EstateNames):
            self._names = EstateNames.from_ledger(self._names)
        return self._names

    @property
    def problems(self) -> list[str]:
        """Rejected override rows, one message each."""
        return list(self.overrides.problems)

    def geocode(self, address: str, *, estate_id: str | None = None, strict: bool = False, by_name: bool = True) -> GeocodeResult:
        """Geocode one address; see :func:`geocode_address` (``by_name=False``: no fallback to the ledger's names)."""
        address = "" if is_blank(address) else str(address)
        ov, rejected = self.overrides.find(address, estate_id)
        # An estate name before the road (和谐小区凤仙路328号): the address is what follows it.
        named = self.names.match(address) if by_name and address else None
        try:
            parsed = parse_address(address)
            if named is not None and named.extra:
                try:
                    parsed = replace(parse_address("".join(named.prefix) + named.extra), raw=address)
                except GeocodeError:
                    named = None
            else:
                named = None
            if named is None and by_name and parsed.extra:  # ... or after the number (凤仙路328号和谐小区)
                tail = self.names.match(parsed.extra)
                named = tail if tail is not None and not tail.prefix and not tail.extra else None
        except GeocodeError as exc:
            if ov is None:
                named = self._by_name(address, str(exc), estate_id=estate_id) if by_name else None
                if named is not None and (named.ok or not strict):
                    return named
                if strict and named is not None:
                    raise GeocodeError(named.note) from exc
                if strict:
                    raise
                return failed_result("parser", str(exc), address=address, estate_id=estate_id)
            parsed = None
        if ov is not None:
            conv = f", converted from {ov.datum.upper()}" if ov.datum != "wgs84" else ""
            note = f"surveyed position from {self.overrides.path.name} row {ov.row}{conv}" + (f": {ov.note}" if ov.note else "")
            return GeocodeResult(ov.lon, ov.lat, "surveyed", f"override:{self.overrides.path.name}", note=note, address=address,
                                 estate_id=estate_id, **address_parts(parsed))
        reason = outside_reason(parsed)
        if reason:
            if strict:
                raise GeocodeError(f"address {address!r}: {reason}")
            return failed_result("parser", f"{reason}; this tool geocodes Shahe addresses only", parsed, address=address, estate_id=estate_id)
        key = parsed.canonical
        if key not in self._memo:
            self._memo[key] = self.provider.geocode(parsed)
        result = replace(self._memo[key], address=address, estate_id=estate_id)
        if parsed.extra and result.ok and not (named is not None and parsed.extra == named.name):
            result = _ignoring(result, parsed.extra, parsed.canonical)
        if named is not None and result.ok:
            result = self._with_name(result, named, parsed.canonical)
        if rejected:
            result = replace(result, note=f"{result.note}; override ignored: {rejected}")
        if strict and not result.ok:
            raise GeocodeError(f"address {address!r}: {result.note}")
        return result

    def _with_name(self, result: GeocodeResult, named: NameMatch, canonical: str) -> GeocodeResult:
        """A point for an address that also names a ledger estate: the name agrees with the ledger, or it is noted as not used."""
        rows = [eid for eid, addr in named.rows if _canonical(addr) == canonical]
        if rows:
            return replace(result, note=f"{result.note}; the name {named.name} agrees with {self.names.source} ({', '.join(rows)} is at {canonical})")
        listed = "; ".join(f"{eid} {addr}" for eid, addr in named.rows)
        lowered = _ignoring(result, named.name, canonical)
        return replace(lowered, note=f"{lowered.note} ({self.names.source} lists {named.name} at {listed}, not at {canonical})")

    def _by_name(self, address: str, reason: str, *, estate_id: str | None) -> GeocodeResult | None:
        """An address without a house number that names a ledger estate: that estate's address, said so; None when no name matches.

        A name at several addresses is refused with the list, unless ``estate_id`` picks one of them.
        """
        match = self.names.match(address)
        if match is None:
            return None
        where = outside_reason(match.prefix)
        if where:
            return failed_result("parser", f"{where}; this tool geocodes Shahe addresses only", address=address, estate_id=estate_id)
        rows = [r for r in match.rows if r[0] == estate_id] or list(match.rows)
        if len(rows) > 1:
            listed = "; ".join(f"{eid} {addr}" for eid, addr in rows)
            note = (f"{reason}. The name {match.name} stands at {len(rows)} addresses in {self.names.source}: {listed}; "
                    "give the address (or the estate id) of the one you mean")
            return failed_result(f"names:{self.names.source}", note, address=address, estate_id=estate_id)
        eid, ledger_address = rows[0]
        found = self.geocode(ledger_address, estate_id=eid, by_name=False)
        said = f"{address!r} gives no road and house number; {self.names.source} lists {match.name} ({eid}) at {ledger_address}, so "
        if not found.ok:
            return replace(found, address=address, estate_id=estate_id, note=f"{said}that address was tried and failed: {found.note}")
        found = replace(found, address=address, estate_id=estate_id, note=f"{said}placed at that address: {found.note}")
        return _ignoring(found, match.extra, ledger_address) if match.extra else found

    def geocode_many(self, addresses: Iterable[str], *, ids: Iterable[str | None] | None = None, progress: bool = False) -> list[GeocodeResult]:
        """Geocode a batch; a bad address gives a failed result and the batch goes on."""
        addresses = list(addresses)
        ids = [None] * len(addresses) if ids is None else list(ids)
        if len(ids) != len(addresses):
            msg = f"ids has {len(ids)} items but addresses has {len(addresses)}; give one id per address"
            raise ValueError(msg)
        from tqdm import tqdm

        results = []
        for addr, eid in tqdm(list(zip(addresses, ids, strict=True)), desc="geocoding", unit="address", disable=not progress, file=sys.stderr):
            try:
                results.append(self.geocode(addr, estate_id=eid))
            except GeoError as exc:  # a broken provider file etc. is reported on the row, not raised
                results.append(failed_result(getattr(self.provider, "source", "?"), str(exc), address=str(addr), estate_id=eid))
        return results


def _canonical(address: str) -> str:
    """The ledger spelling of an address, or the text itself when it does not parse."""
    try:
        return parse_address(address).canonical
    except GeocodeError:
        return address


#: Quality of a point that leaves words of its address unused.
_LOWERED = {"exact": "partial", "interpolated": "partial"}


def _ignoring(result: GeocodeResult, extra: str, placed: str) -> GeocodeResult:
    """The result with its quality lowered and a note naming the words it did not use."""
    note = f"{result.note}; {describe_ignored(extra)}: the point is that of {placed}, not of the place these words describe"
    return replace(result, quality=_LOWERED.get(result.quality, result.quality), note=note)


def geocode_address(address: str, *, provider=None, estate_id: str | None = None, strict: bool = False) -> GeocodeResult:
    """Geocode one address: overrides first, then the provider.

    Parameters
    ----------
    address
        A Shahe address, e.g. ``"凤仙路457号附1号"`` (prefix, full-width digits and spaces allowed).
    provider
        ``"offline"`` (default, :data:`geo.settings.geocode_provider`), ``"amap"``,
        ``"tianditu"``, or a provider object.
    estate_id
        Id of the estate, to find an override by id.
    strict
        Raise :class:`~geo.errors.GeocodeError` instead of returning a failed result.

    Returns
    -------
    GeocodeResult
        WGS-84 lon/lat (None when failed), quality, source, parsed parts and a note.

    Raises
    ------
    GeocodeError
        For a configuration problem (unknown provider, missing key, broken
        gazetteer), or any failure when ``strict``.
    """
    return Geocoder(provider).geocode(address, estate_id=estate_id, strict=strict)


def geocode_many(addresses: Iterable[str], *, provider=None, ids: Iterable[str | None] | None = None, progress: bool = False,
                 on_problem: Callable[[str], None] | None = None, names: EstateNames | str | os.PathLike | None = None,
                 overrides=None) -> list[GeocodeResult]:
    """Geocode many addresses with one provider; never raises on a single address.

    Parameters
    ----------
    addresses
        Addresses.
    provider
        As in :func:`geocode_address`.
    ids
        Estate ids, one per address (or None), for overrides by id.
    progress
        Show a progress bar (tqdm) on standard error.
    on_problem
        Called with each rejected override row's message (default: ignored;
        the affected rows' notes say so too).
    names
        Estate names for addresses without a house number (see :class:`Geocoder`).
    overrides
        The overrides file or :class:`Overrides` (default as in :class:`Geocoder`).

    Returns
    -------
    list of GeocodeResult
        One per address, in order.
    """
    geocoder = Geocoder(provider, names=names, overrides=overrides)
    for p in geocoder.problems:
        if on_problem is not None:
            on_problem(p)
    return geocoder.geocode_many(addresses, ids=ids, progress=progress)


# --- estates ---------------------------------------------------------------------------------

_INT_FIELDS = ("seq", "batch_year", "buildings", "units")


def build_estates(ledger_path: str | os.PathLike | None = None, out_path: str | os.PathLike | None = None, *, provider=None,
                  progress: bool = False, on_problem: Callable[[str], None] | None = None,
                  data_dir: str | os.PathLike | None = None) -> gpd.GeoDataFrame:
    """Geocode the ledger into the estates layer.

    Every ledger field is kept; the geocode fields of :data:`geo.schemas.ESTATES`
    are added; ``synthetic`` is true for every position that is not surveyed.

    Parameters
    ----------
    ledger_path
        Default ``data/ledger.csv``.
    out_path
        GeoJSON to write (atomically), then read back with
        :func:`geo.io.read_estates` to check it; None writes nothing.
    provider
        As in :func:`geocode_address`.
    progress
        Show a progress bar.
    on_problem
        Called with each rejected override row's message.
    data_dir
        Data folder whose ``ledger.csv`` (when ``ledger_path`` is None),
        ``geocode_overrides.csv`` and ``gazetteer.geojson`` (offline provider)
        are used; default the files :mod:`geo.settings` names.

    Returns
    -------
    geopandas.GeoDataFrame
        One point per ledger row, WGS-84 (EPSG:4326); the footprint polygon
        instead where the overrides file gives one.

    Raises
    ------
    GeocodeError
        After the whole batch, when any row failed (each listed with its
        reason); nothing is written then.
    """
    folder = Path(data_dir) if data_dir is not None else None
    ledger_path = Path(ledger_path or (folder / "ledger.csv" if folder else settings.data_path("ledger.csv")))
    overrides = None
    if folder is not None:
        overrides = folder / "geocode_overrides.csv"
        if str(provider or settings.geocode_provider).strip().lower() == "offline":
            provider = OfflineProvider(folder / "gazetteer.geojson")
    df = io.read_table(ledger_path)
    for col in ("estate_id", "address"):
        if col not in df.columns:
            msg = f"{ledger_path}: no '{col}' column; the ledger needs estate_id and address"
            raise DataFileError(msg)
    # A row without a house number may stand at the address of another row of the same name in this ledger.
    names = EstateNames.from_frame(df, source=ledger_path.name)
    results = geocode_many(df["address"].tolist(), provider=provider, ids=df["estate_id"].tolist(), progress=progress, on_problem=on_problem,
                           names=names, overrides=overrides)
    failed = [f"row {i} ({r.estate_id}, {r.address}): {r.note}" for i, r in enumerate(results, start=2) if not r.ok]
    if failed:
        msg = f"{ledger_path}: {len(failed)} of {len(results)} addresses could not be placed; add them to the overrides file or fix the gazetteer"
        msg += "\n" + "\n".join(f"  - {f}" for f in failed)
        raise GeocodeError(msg)
    known = set(ESTATES.field_index)
    props: dict[str, list] = {}
    for col in df.columns:
        name = col if col in known else f"x_{col}"
        values = df[col].tolist()
        if col in _INT_FIELDS:
            values = [None if is_blank(v) else int(str(v).strip()) for v in values]
        else:
            values = [None if is_blank(v) else str(v) for v in values]
        props[name] = values
    props["geocode_quality"] = [r.quality for r in results]
    props["geocode_source"] = [r.source for r in results]
    props["geocode_road"] = [r.road for r in results]
    props["geocode_number"] = [r.number for r in results]
    props["geocode_sub_number"] = [r.sub_number for r in results]
    props["geocode_note"] = [r.note for r in results]
    props["synthetic"] = [r.quality != "surveyed" for r in results]
    frame = pd.DataFrame(props)
    for col in _INT_FIELDS:
        if col in frame:
            frame[col] = frame[col].astype("Int64")
    # A surveyed footprint (overrides file, checked when read) is the estate's geometry; its point stays in the overrides file.
    footprints = load_overrides(overrides).by_id
    geoms = []
    for eid, r in zip(df["estate_id"].astype(str), results, strict=True):
        ov = footprints.get(eid)
        geoms.append(ov.footprint if ov is not None and ov.footprint is not None and r.quality == "surveyed" else Point(r.lon, r.lat))
    gdf = gpd.GeoDataFrame(frame, geometry=geoms, crs=settings.storage_crs)
    if out_path is not None:
        io.write_geojson(gdf, out_path, metadata={"synthetic": any(props["synthetic"]), "note": APPROXIMATE_NOTE})
        io.read_estates(out_path)
    return gdf


def quality_summary(results: Iterable[GeocodeResult]) -> dict[str, int]:
    """Count results per quality, in the order of :data:`geo.schemas.GEOCODE_QUALITIES`."""
    counts = Counter(r.quality for r in results)
    return {q: counts.get(q, 0) for q in GEOCODE_QUALITIES}
