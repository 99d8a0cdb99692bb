"""The map's heat layer payload, estate labels/groups and measure/full-screen tools (geo.maps.heat_layer,
geo.maps.estate_marks, geo.maps.controls.add_tools), as written into the page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
from jinja2.utils import htmlsafe_json_dumps

from geo import io
from geo.incidents.density import density_classes, density_cube
from geo.incidents.store import IncidentArrays
from geo.maps import heat_layer, mapview

DATA = Path(__file__).resolve().parents[1] / "data" / "map"
TO_LONLAT = pyproj.Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)


@pytest.fixture
def cube_area():
    area = shapely.box(108.36, 30.835, 108.38, 30.85)
    rng = np.random.default_rng(3)
    n = 40
    inc = IncidentArrays(lon=rng.uniform(108.36, 108.38, n), lat=rng.uniform(30.835, 30.85, n),
                         time_s=rng.integers(1_577_836_800, 1_640_995_200, n, dtype=np.int64),  # 2020-2021
                         category=rng.integers(0, 2, n).astype(np.int8), subcategory=np.full(n, -1, dtype=np.int8),
                         source=np.zeros(n, dtype=np.int8))
    return density_cube(inc, area), area


class TestPayload:
    def test_cells_and_classes(self, cube_area):
        cube, area = cube_area
        p = heat_layer.heat_payload(cube, area, lang="en")
        kept = [c for s, n in zip(p["cells"][::2], p["cells"][1::2], strict=True) for c in range(s, s + n)]
        assert kept == np.flatnonzero(cube.inside).tolist()
        assert len(p["classes"]) == 1 + len(cube.categories) and all(len(row) == 1 + len(cube.years) for row in p["classes"])
        want = "".join(str(v) for v in density_classes(cube.density[1, 2], cube.scales[1]))
        assert p["classes"][1][2] == want
        assert p["cats"][0] == "all categories" and p["text"]["all_years"] == "all years (yearly mean)"
        assert heat_layer.heat_payload(cube, area, lang="zh")["cats"][0] == "全部类别"

    def test_affine_places_corners_within_a_metre(self, cube_area):
        cube, _ = cube_area
        (a, b, c, d, e, f), err = heat_layer.grid_affine(cube)
        assert err < 1.0
        g = cube.grid
        for i, j in ((0, 0), (g.nx, 0), (g.nx, g.ny), (7, 5)):
            lon, lat = TO_LONLAT.transform(g.x0 + i * g.cell_m, g.y0 + j * g.cell_m)
            dy = (a * i + b * j + c - lat) * 111_320
            dx = (d * i + e * j + f - lon) * 111_320 * np.cos(np.radians(lat))
            assert np.hypot(dx, dy) < 1.0

    def test_gcj02_display_moves_the_grid(self, cube_area):
        cube, _ = cube_area
        wgs, _ = heat_layer.grid_affine(cube, "wgs84")
        gcj, err = heat_layer.grid_affine(cube, "gcj02")
        assert err < 5.0
        # GCJ-02 is shifted by a few hundred metres in this area
        assert 100 < abs(gcj[2] - wgs[2]) * 111_320 + abs(gcj[5] - wgs[5]) * 95_000 < 1_000


class TestMapPage:
    @pytest.fixture
    def estates(self):
        gdf = io.read_estates(DATA / "estates.geojson")
        gdf["status"] = gdf["x_status"]
        return gdf

    def test_heat_layer_legend_and_controls(self, estates, cube_area):
        cube, area = cube_area
        for lang, measure_locale, title in (("zh", "cn", "全屏显示"), ("en", "en", "Full screen")):
            payload = heat_layer.heat_payload(cube, area, lang=lang)
            page = mapview.build_map(estates, heat_grid=payload, lang=lang).get_root().render()
            assert 'class=\\"heat-legend\\"' in page  # inside the legend's JSON string
            assert "heat-period" in page and "heat-category" in page
            assert re.search(r'"localization":\s*"' + measure_locale + '"', page)
            for unit in ("feet", "miles", "acres"):
                assert f'"{unit}"' not in page
            assert '"primaryLengthUnit": "meters"' in page and '"secondaryAreaUnit": "hectares"' in page
            assert json.dumps(title)[1:-1] in page or title in page

    def test_labels_and_groups_name_every_estate(self, estates):
        page = mapview.build_map(estates).get_root().render()
        assert "estateLabelPane" in page
        for _, row in estates.iterrows():
            label = f"{row['estate_id']} {row['name']}"
            assert str(htmlsafe_json_dumps(label)) in page  # as a JSON string, with < > & ' escaped
        assert "<img src=x" not in page
        assert "estateLabelPane" not in mapview.build_map(estates, labels=False).get_root().render()
        assert "L.Control.Measure" not in mapview.build_map(estates, tools=False).get_root().render()
