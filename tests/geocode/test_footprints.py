"""Footprint polygons in the overrides file: checked in metres, and the estate's geometry once recorded."""

from __future__ import annotations

import pyproj
import shapely

from geo.geocode.footprints import check_footprint
from geo.geocode.overrides import load_overrides, record_override

GEOD = pyproj.Geod(ellps="WGS84")
LON, LAT = 108.372, 30.845


def _square(lon: float, lat: float, half_m: float) -> shapely.Polygon:
    """A square of 2*half_m a side around a point, corners by geodesic offsets."""
    pts = []
    for az in (45.0, 135.0, 225.0, 315.0):
        x, y, _ = GEOD.fwd(lon, lat, az, half_m * 2 ** 0.5)
        pts.append((x, y))
    return shapely.Polygon(pts)


def test_a_square_around_the_point_passes_with_its_area():
    check = check_footprint(_square(LON, LAT, 40.0), LON, LAT)
    assert check.ok and check.distance_m == 0.0
    assert abs(check.area_m2 - 80.0 * 80.0) / 6400.0 < 0.01  # 80 m by 80 m, to 1 %


def test_far_tiny_huge_and_crossed_polygons_are_refused():
    x, y, _ = GEOD.fwd(LON, LAT, 90.0, 200.0)
    far = check_footprint(_square(x, y, 40.0), LON, LAT)
    assert not far.ok and 150 < far.distance_m < 170  # 200 m east, minus the 40 m half-width
    assert not check_footprint(_square(LON, LAT, 4.0), LON, LAT).ok  # 64 m²
    assert not check_footprint(_square(LON, LAT, 400.0), LON, LAT).ok  # 64 ha
    sq = _square(LON, LAT, 40.0).exterior.coords[:4]
    bowtie = shapely.Polygon([sq[0], sq[2], sq[1], sq[3]])
    crossed = check_footprint(bowtie, LON, LAT)
    assert not crossed.ok and not crossed.valid


def test_recorded_footprint_is_read_back_and_kept_when_the_point_moves(tmp_path):
    path = tmp_path / "geocode_overrides.csv"
    square = _square(LON, LAT, 40.0)
    record_override(path, "SH-01", LON, LAT, footprint=square, note="gate GPS")
    ov = load_overrides(path).by_id["SH-01"]
    assert ov.footprint.hausdorff_distance(square) < 1e-6  # stored to 7 decimals (about 1 cm)
    x, y, _ = GEOD.fwd(LON, LAT, 0.0, 10.0)
    record_override(path, "SH-01", x, y, note="moved 10 m")  # no footprint given: the earlier one stays
    assert load_overrides(path).by_id["SH-01"].footprint is not None
    record_override(path, "SH-01", x, y, note="no outline", clear_footprint=True)
    assert load_overrides(path).by_id["SH-01"].footprint is None


def test_a_bad_footprint_row_is_rejected_with_its_row(tmp_path):
    path = tmp_path / "geocode_overrides.csv"
    path.write_text(f"estate_id,lon,lat,datum,note,footprint\nSH-02,{LON},{LAT},wgs84,,POINT (1 2)\n", encoding="utf-8")
    ov = load_overrides(path)
    assert "SH-02" not in ov.by_id
    assert any("row 2" in p and "footprint" in p for p in ov.problems)
