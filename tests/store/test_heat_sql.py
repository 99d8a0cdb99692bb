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
