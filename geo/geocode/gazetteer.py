"""The offline geocoder: house numbers interpolated along the road centrelines of the gazetteer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyproj
from shapely.geometry import LineString

from geo import crs as _crs
from geo import io, settings
from geo._validate import is_blank as _blank
from geo.errors import DataFileError
from geo.geocode.address import ParsedAddress
from geo.geocode.result import GeocodeResult, address_parts, failed_result, in_extent
from geo.schemas import ROADS

# --- offline gazetteer ------------------------------------------------------------------


@dataclass(frozen=True)
class _Segment:
    road: str
    segment_id: str
    line_m: LineString  # metric CRS
    left: tuple[int, int] | None
    right: tuple[int, int] | None

    def side_for(self, number: float, *, parity_of: int | None = None) -> str | None:
        """The side whose range spans ``number`` and has the parity of ``parity_of`` (default ``number``)."""
        parity_of = number if parity_of is None else parity_of
        for side, rng in (("left", self.left), ("right", self.right)):
            if rng is None:
                continue
            lo, hi = min(rng), max(rng)
            if lo <= number <= hi and (parity_of - rng[0]) % 2 == 0:
                return side
        return None


def _gazetteer_problems(props: list[dict], geoms: list, locations: list[str]) -> list[str]:
    """Problems only a gazetteer has: a segment without its road, not one line, or a bad house-number range."""
    problems = []
    for p, geom, loc in zip(props, geoms, locations, strict=True):
        where = loc + (f" ({p['segment_id']})" if not _blank(p.get("segment_id")) else "")
        if _blank(p.get("road")):
            problems.append(f"{where}, field 'road': missing; every segment needs its road name")
        gtype = getattr(geom, "geom_type", None)
        if gtype == "MultiLineString":
            problems.append(f"{where}: geometry is a MultiLineString; a segment is one LineString (split multi-part roads into segments)")
        for side in ("left", "right"):
            lo, hi = p.get(f"{side}_from"), p.get(f"{side}_to")
            if _blank(lo) and _blank(hi):
                continue
            try:
                lo_i, hi_i = int(lo), int(hi)
                ok = lo_i == float(lo) and hi_i == float(hi) and lo_i > 0 and hi_i > 0 and (hi_i - lo_i) % 2 == 0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                problems.append(
                    f"{where}, fields '{side}_from'/'{side}_to': {lo!r}..{hi!r} is not a range of positive whole numbers of one parity; "
                    "give both ends (e.g. 1 and 99) or leave both empty"
                )
    return problems


class Gazetteer:
    """Road centrelines with house-number ranges, for address interpolation.

    Each feature of the file is one LineString segment with properties
    ``road``, ``segment_id``, ``left_from``, ``left_to``, ``right_from``,
    ``right_to`` (house numbers at the first and last vertex on each side;
    null when the side has none) and ``approximate``. Left and right are taken
    facing the direction in which the line is drawn; numbers on one side step
    by 2 (odd on one side, even on the other).

    Parameters
    ----------
    segments
        The segments, with lines in :data:`geo.settings.metric_crs`.
    name
        File name, for ``source``.
    version
        The file's top-level ``version`` member.
    """

    def __init__(self, segments: list[_Segment], *, name: str = "gazetteer", version: str = "?", metric_crs: str | None = None):
        self.segments = segments
        self.name = name
        self.version = version
        self.metric_crs = metric_crs or settings.metric_crs
        self._to_lonlat = pyproj.Transformer.from_crs(self.metric_crs, settings.storage_crs, always_xy=True)
        self.by_road: dict[str, list[_Segment]] = {}
        for seg in segments:
            self.by_road.setdefault(seg.road, []).append(seg)

    @property
    def source(self) -> str:
        """Text for ``geocode_source``."""
        return f"offline:{self.name}@v{self.version} (approximate, not surveyed)"

    @classmethod
    def from_file(cls, path: str | os.PathLike | None = None) -> Gazetteer:
        """Read and check a gazetteer GeoJSON file.

        Parameters
        ----------
        path
            Default :data:`geo.settings.gazetteer_path`, else ``data/gazetteer.geojson``.

        Raises
        ------
        DataFileError
            If the file is missing or not a FeatureCollection.
        SchemaError
            With every bad feature (missing road, bad numbers, not a line).
        """
        path = Path(path or settings.gazetteer_path or settings.data_path("gazetteer.geojson"))
        if not path.is_file():
            msg = f"{path}: no gazetteer file; run 'python scripts/make_gazetteer.py' or point settings.gazetteer_path at your own"
            raise DataFileError(msg)
        # The shared reader checks types, geometry and coordinates and converts a declared
        # GCJ-02/BD-09 file to WGS-84; _gazetteer_problems adds what only a gazetteer needs,
        # reported in the same pass.
        roads = io.read_features(path, ROADS, extra_checks=_gazetteer_problems)
        fwd = _crs.lonlat_to_metric_transformer()
        segments: list[_Segment] = []
        records = roads.drop(columns=roads.geometry.name).to_dict("records")
        for i, (props, geom) in enumerate(zip(records, roads.geometry, strict=True)):
            sid = props.get("segment_id")
            road = str(props["road"]).strip()
            sides = {side: None if _blank(props.get(f"{side}_from")) else (int(props[f"{side}_from"]), int(props[f"{side}_to"]))
                     for side in ("left", "right")}
            coords = np.asarray(geom.coords)[:, :2]
            x, y = fwd.transform(coords[:, 0], coords[:, 1])
            segments.append(_Segment(road, str(sid) if not _blank(sid) else f"{road}/{i}", LineString(np.column_stack([x, y])),
                                     sides["left"], sides["right"]))
        return cls(segments, name=path.name, version=str(roads.attrs["metadata"].get("version", "?")))

    def locate(self, parsed: ParsedAddress, *, side_offset_m: float | None = None, sub_setback_m: float | None = None,
               max_setback_m: float | None = None) -> GeocodeResult:
        """Place an address by interpolating its house number along its road.

        The point lies at the fraction ``(n - from) / (to - from)`` of the
        segment whose range on one side holds ``n``, moved ``side_offset_m``
        to that side, plus ``sub_setback_m`` per sub-number (附N号 stand behind
        the street front; for a list 附1、2、3 the mean is used), the setback
        capped at ``max_setback_m``. A range 431-441号 is placed at its middle
        number, ``n = (431 + 441) / 2 = 436``, on the side of its ends (on the
        centreline when its ends are on opposite sides, e.g. 12-13号). Every
        point is checked against :data:`geo.settings.shahe_bounds`.

        Parameters
        ----------
        parsed
            The parsed address.
        side_offset_m, sub_setback_m, max_setback_m
            Metres; defaults from :mod:`geo.settings` (``geocode_side_offset_m``,
            ``geocode_sub_setback_m``, ``geocode_max_setback_m``).

        Returns
        -------
        GeocodeResult
            ``interpolated`` when a range holds the number, ``partial`` when
            the setback was capped, ``road`` (middle of the road) when the road
            is known but no range holds the number, ``failed`` when the road is
            not in the gazetteer or the point falls outside Shahe's extent.
        """
        if side_offset_m is None:
            side_offset_m = settings.geocode_side_offset_m
        if sub_setback_m is None:
            sub_setback_m = settings.geocode_sub_setback_m
        if max_setback_m is None:
            max_setback_m = settings.geocode_max_setback_m
        segs = self.by_road.get(parsed.road)
        if not segs:
            known = "、".join(sorted(self.by_road))
            return failed_result(
                self.source,
                f"road {parsed.road!r} is not in the gazetteer {self.name} (it has {known}); add the road there or the point to the overrides file",
                parsed,
            )
        anchors, lead, quality = self._find(parsed)
        if not anchors:
            return self._road_middle(parsed, segs)
        both_sides = parsed.is_range and (parsed.number_to - parsed.number) % 2 == 1
        sub_k = float(np.mean(parsed.sub_numbers)) if parsed.sub_numbers else 0.0
        setback = sub_setback_m * sub_k
        capped = setback > max_setback_m
        if capped:
            wanted, setback, quality = setback, max_setback_m, "partial"
        offset = 0.0 if both_sides else side_offset_m + setback
        points, parts = [], []
        for seg, side, (lo, hi), n in anchors:
            t = 0.5 if lo == hi else (n - lo) / (hi - lo)
            points.append(_offset_point(seg.line_m, t, offset, left=(side == "left")))
            if both_sides:
                where = f"on the centreline of segment {seg.segment_id}, since the range has numbers on both sides of the road"
            else:
                where = f"on the {side} side of segment {seg.segment_id}, {side_offset_m:g} m from the centreline"
            parts.append(f"between numbers {lo} and {hi} {where}")
        x, y = np.mean(points, axis=0)
        lon, lat = self._to_lonlat.transform(x, y)
        sub = ""
        if parsed.sub_numbers and capped:
            sub = (f"; 附{parsed.sub_number}号 would stand {wanted:g} m behind the street front ({sub_setback_m:g} m per sub-number); "
                   f"set back only {max_setback_m:g} m, the cap (settings.geocode_max_setback_m): check the sub-number")
        elif parsed.sub_numbers and not both_sides:
            sub = f"; 附{parsed.sub_number}号 set back {setback:g} m behind the street front"
        note = f"{lead}interpolated {' and '.join(parts)}{sub}; road position approximate, not surveyed"
        return self._checked(float(lon), float(lat), quality, note, parsed)

    def _find(self, parsed: ParsedAddress) -> tuple[list[tuple], str, str]:
        """Where to interpolate: (segment, side, range, number) per anchor point, a note on a range, and the quality.

        A single number has one anchor. A range has its middle number as anchor;
        when no segment spans the middle (it falls between two segments), the
        point is halfway between its two ends; when only one end is in the
        gazetteer, that end, with quality ``partial``.
        """
        road = parsed.road
        if not parsed.is_range:
            hit = self._holding(road, parsed.number, parsed.number)
            return ([] if hit is None else [(*hit, parsed.number)]), "", "interpolated"
        a, b = parsed.number, parsed.number_to
        middle = (a + b) / 2.0
        hit = self._holding(road, middle, a)
        if hit is not None:
            return [(*hit, middle)], f"range {a}-{b} placed at its middle number {middle:g}: ", "interpolated"
        ends = [(*h, end) for end in (a, b) if (h := self._holding(road, end, end)) is not None]
        if len(ends) == 2:
            return ends, f"range {a}-{b} placed halfway between the points of {a} and {b} (no segment spans its middle {middle:g}): ", "interpolated"
        if ends:
            end = ends[0][-1]
            why = f"range {a}-{b} runs beyond the numbers of {road} in the gazetteer, so placed at {end}, the end it has: "
            return ends, why, "partial"
        return [], "", "interpolated"

    def _holding(self, road: str, number: float, parity_of: int) -> tuple[_Segment, str, tuple[int, int]] | None:
        """The first segment side of ``road`` whose numbers, of the parity of ``parity_of``, span ``number``."""
        for seg in self.by_road.get(road, []):
            side = seg.side_for(number, parity_of=parity_of)
            if side is not None:
                return seg, side, getattr(seg, side)
        return None

    def _road_middle(self, parsed: ParsedAddress, segs: list[_Segment]) -> GeocodeResult:
        """Road known, number not in any range: the middle of the road, said plainly."""
        ranges = sorted(r for s in segs for r in (s.left, s.right) if r is not None)
        total = sum(s.line_m.length for s in segs)
        half, acc = total / 2.0, 0.0
        for seg in segs:
            if acc + seg.line_m.length >= half:
                pt = seg.line_m.interpolate(half - acc)
                break
            acc += seg.line_m.length
        lon, lat = self._to_lonlat.transform(pt.x, pt.y)
        if ranges:
            span = f"{min(min(r) for r in ranges)}–{max(max(r) for r in ranges)}"
            why = f"number {parsed.number_text} is outside the numbered ranges of {parsed.road} in the gazetteer ({span})"
        else:
            why = f"{parsed.road} has no house numbers in the gazetteer"
        return self._checked(float(lon), float(lat), "road", f"{why}; placed at the middle of the road", parsed)

    def _checked(self, lon: float, lat: float, quality: str, note: str, parsed: ParsedAddress) -> GeocodeResult:
        """The result, or ``failed`` with the reason when the point lies outside Shahe's extent."""
        if not in_extent(lon, lat, margin_deg=0.0):
            west, south, east, north = settings.shahe_bounds
            return failed_result(
                self.source,
                f"the point found ({lon:.6f}, {lat:.6f}) lies outside Shahe's extent ({west}-{east} E, {south}-{north} N; "
                f"settings.shahe_bounds), so it is not used: {note}. Check the gazetteer {self.name} or add the point to the overrides file",
                parsed,
            )
        return GeocodeResult(lon, lat, quality, self.source, note=note, **address_parts(parsed))


def _offset_point(line: LineString, t: float, offset_m: float, *, left: bool) -> tuple[float, float]:
    """Point at fraction ``t`` of ``line`` moved ``offset_m`` to its left or right (planar metres)."""
    coords = np.asarray(line.coords)
    seglen = np.hypot(*np.diff(coords, axis=0).T)
    target = t * seglen.sum()
    k = int(np.searchsorted(np.cumsum(seglen), target, side="left"))
    k = min(k, len(seglen) - 1)
    before = seglen[:k].sum()
    (x0, y0), (x1, y1) = coords[k], coords[k + 1]
    f = (target - before) / seglen[k]
    dx, dy = (x1 - x0) / seglen[k], (y1 - y0) / seglen[k]
    nx, ny = (-dy, dx) if left else (dy, -dx)
    return x0 + f * (x1 - x0) + offset_m * nx, y0 + f * (y1 - y0) + offset_m * ny


class OfflineProvider:
    """The default provider: interpolation along the shipped (approximate) gazetteer.

    Parameters
    ----------
    gazetteer
        A :class:`Gazetteer`, a path to one, or None for the default file.
    """

    name = "offline"

    def __init__(self, gazetteer: Gazetteer | str | os.PathLike | None = None):
        self.gazetteer = gazetteer if isinstance(gazetteer, Gazetteer) else _load_gazetteer(gazetteer)

    @property
    def source(self) -> str:
        return self.gazetteer.source

    def geocode(self, parsed: ParsedAddress) -> GeocodeResult:
        """Return the interpolated position of a parsed address."""
        return self.gazetteer.locate(parsed)


_GAZETTEER_CACHE: dict[tuple, Gazetteer] = {}


def _load_gazetteer(path) -> Gazetteer:
    path = Path(path or settings.gazetteer_path or settings.data_path("gazetteer.geojson"))
    try:
        st = path.stat()
    except OSError:
        return Gazetteer.from_file(path)  # raises the proper message
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size, settings.metric_crs)
    if key not in _GAZETTEER_CACHE:
        _GAZETTEER_CACHE.clear()
        _GAZETTEER_CACHE[key] = Gazetteer.from_file(path)
    return _GAZETTEER_CACHE[key]
