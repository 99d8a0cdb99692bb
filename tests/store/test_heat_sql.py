"""The density layer's cells counted in SQL on PostGIS (geo.store.heat) against a NumPy binning of the same incidents."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyproj
import pytest

from geo.store.files import LAYER_FILES, read_layer_file
from geo.store.heat import incident_cells, incident_count


def _by_numpy(inc: pd.DataFrame, cell: float, *, categories=None, sources=None, years=None, hours=None) -> pd.DataFrame:
    """Independent: pandas parses the times (to Asia/Shanghai), pyproj projects, NumPy floors."""
    t = pd.to_datetime(inc["time"], utc=True).dt.tz_convert("Asia/Shanghai")
    lon, lat = pd.to_numeric(inc["lon"]).to_numpy(), pd.to_numeric(inc["lat"]).to_numpy()
    keep = np.isfinite(lon) & np.isfinite(lat)
    if categories is not None:
        keep &= inc["category"].isin(categories).to_numpy()
    if sources is not None:
        keep &= inc["source"].isin(sources).to_numpy()
    if years is not None:
        keep &= t.dt.year.between(*years).to_numpy()
    if hours is not None:
        keep &= t.dt.hour.isin(hours).to_numpy()
    x, y = pyproj.Transformer.from_crs(4326, 4545, always_xy=True).transform(lon[keep], lat[keep])
    frame = pd.DataFrame({"x_m": (np.floor(np.asarray(x) / cell) + 0.5) * cell, "y_m": (np.floor(np.asarray(y) / cell) + 0.5) * cell,
                          "category": inc["category"].to_numpy()[keep], "year": t.dt.year.to_numpy()[keep].astype(np.int64)})
    out = frame.groupby(["x_m", "y_m", "category", "year"]).size().rename("count").reset_index()
    return out[["x_m", "y_m", "category", "year", "count"]].sort_values(["year", "category", "x_m", "y_m"], ignore_index=True)


def test_sql_cells_equal_a_numpy_binning(store, data_dir):
    inc = read_layer_file(next(s for s in LAYER_FILES if s.layer == "incidents"), data_dir / "incidents.csv")
    if store.kind != "postgis":
        with pytest.raises(ValueError, match="PostGIS only"):
            incident_cells(store, cell_m=100.0)
        return
    assert incident_count(store) == 0
    store.append_rows("incidents", inc, author="a", reason="b")
    assert incident_count(store) == len(inc)
    cases = [
        {},
        {"categories": ["盗窃", "矛盾纠纷"], "sources": ["110"], "years": (2020, 2021), "hours": [*range(20, 24), *range(0, 6)]},
        {"hours": [12]},
    ]
    for case in cases:
        for cell in (100.0, 137.5):
            years = case.get("years", (None, None))
            got = incident_cells(store, cell_m=cell, categories=case.get("categories"), sources=case.get("sources"),
                                 start=years[0], end=years[1], hours=case.get("hours"))
            want = _by_numpy(inc, cell, **case)
            assert len(want) > 0 and got["count"].sum() == want["count"].sum()
            np.testing.assert_allclose(got[["x_m", "y_m"]].to_numpy(), want[["x_m", "y_m"]].to_numpy(), atol=1e-6)
            assert got["category"].tolist() == want["category"].tolist()
            assert got["year"].tolist() == want["year"].tolist() and got["count"].tolist() == want["count"].tolist()


def test_the_app_density_takes_the_cells_path_on_a_big_postgis(store_url, data_dir, tmp_path, monkeypatch):
    from geo import settings
    from geo.incidents.density import cell_error_bound, density_cube
    from geo.incidents.store import load_incidents
    from geo.maps import basemaps
    from geo.store import open_store, sources
    from geo.store.files import import_dir
    from ui import data

    with open_store(store_url) as store:
        import_dir(store, data_dir, author="a", reason="b")
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.setenv("SHAHE_STORE", store_url)
    monkeypatch.setattr(settings, "data_dir", here)
    monkeypatch.setattr(settings, "heat_sql_min_incidents", 100)  # low, so the shipped 9,116 incidents count as many
    points = load_incidents(data_dir / "incidents.csv")
    outline = data_dir / "basemap.geojson"
    area = basemaps.subdistrict_outline(outline)
    filters = {"categories": ["盗窃"], "start": 2020, "end": 2021, "hours": list(range(18, 24))}
    want = density_cube(points, area, **filters)
    if store_url.startswith("postgresql"):
        def no_points(*_a, **_k):
            raise AssertionError("the cells path must not read the incidents")

        monkeypatch.setattr(sources, "read_incidents", no_points)
    data.heat_density.clear()
    got, got_area = data.heat_density(str(here / "incidents.csv"), data.token("incidents", "incidents.csv"), ("盗窃",), (), (2020, 2021),
                                      tuple(range(18, 24)), str(outline), data.mtime_ns(outline))
    data.heat_density.clear()
    assert got_area.equals(area) and got.years == want.years and got.categories == want.categories
    assert got.n_incidents == want.n_incidents > 0 and np.array_equal(got.inside, want.inside)
    if not store_url.startswith("postgresql"):  # the embedded store always draws from the points
        np.testing.assert_array_equal(got.density, want.density)
        return
    # within the bound: per cell, the filtered incidents that can reach it (within h + half-diagonal), counted independently
    # 盗窃 is category 0; 2020-01-01 and 2022-01-01 00:00 local are 1577836800 and 1640995200 local seconds
    keep = ((points.category == 0) & (points.time_s >= 1577836800) & (points.time_s < 1640995200)
            & np.isin((points.time_s // 3600) % 24, range(18, 24)))
    x, y = pyproj.Transformer.from_crs(4326, 4545, always_xy=True).transform(points.lon[keep], points.lat[keep])
    cx, cy = (c[got.inside] for c in got.grid.centres())
    dist = np.hypot(cx[:, None] - np.asarray(x)[None, :], cy[:, None] - np.asarray(y)[None, :])
    year = (points.time_s[keep].astype("datetime64[s]").astype("datetime64[Y]").astype(int) + 1970)
    for k, yr in enumerate(got.years, start=1):
        reach = (dist[:, year == yr] <= 300.0 + 100.0 / np.sqrt(2.0)).sum(axis=1)
        diff = np.abs(got.density[1, k] - want.density[1, k])
        assert (diff <= reach * cell_error_bound(100.0, 300.0) + 1e-9).all()
        assert diff.max() > 0  # the cells path was taken: the values differ, within the bound


def test_sql_times_are_local_whatever_their_offset(store, data_dir):
    if store.kind != "postgis":
        return  # counted in SQL on PostGIS only (the embedded store's refusal is tested above)
    inc = read_layer_file(next(s for s in LAYER_FILES if s.layer == "incidents"), data_dir / "incidents.csv").head(3).copy()
    # the same local moment, 2021-01-01 00:30 in Shahe, written three ways; then a naive 2020-12-31 23:30 (local)
    inc["time"] = ["2020-12-31T16:30:00Z", "2021-01-01T00:30:00+08:00", "2021-01-01T00:30:00"]
    late = inc.head(1).assign(incident_id="X-late", time="2020-12-31T23:30:00")
    store.append_rows("incidents", pd.concat([inc, late], ignore_index=True), author="a", reason="b")
    got = incident_cells(store, cell_m=1000.0)
    assert dict(zip(got["year"], got.groupby("year")["count"].transform("sum"), strict=True)) == {2020: 1, 2021: 3}
    assert incident_cells(store, cell_m=1000.0, hours=[0])["count"].sum() == 3
    assert incident_cells(store, cell_m=1000.0, hours=[23])["count"].sum() == 1
    assert incident_cells(store, cell_m=1000.0, start="2021-01-01", end="2021-01-01")["count"].sum() == 3


def test_sql_cells_of_a_box_are_those_of_its_incidents(store, data_dir):
    if store.kind != "postgis":
        return  # counted in SQL on PostGIS only (the embedded store's refusal is tested above)
    inc = read_layer_file(next(s for s in LAYER_FILES if s.layer == "incidents"), data_dir / "incidents.csv")
    store.append_rows("incidents", inc, author="a", reason="b")
    box = (108.360, 30.835, 108.375, 30.850)
    lon, lat = pd.to_numeric(inc["lon"]), pd.to_numeric(inc["lat"])
    inside = inc[lon.between(box[0], box[2]) & lat.between(box[1], box[3])]
    got = incident_cells(store, cell_m=100.0, bounds=box)
    want = _by_numpy(inside, 100.0)
    assert 0 < len(inside) < len(inc) and got["count"].tolist() == want["count"].tolist()
    np.testing.assert_allclose(got[["x_m", "y_m"]].to_numpy(), want[["x_m", "y_m"]].to_numpy(), atol=1e-6)
