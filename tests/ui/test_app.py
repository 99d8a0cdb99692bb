"""The Streamlit app, driven with Streamlit's AppTest against a temporary copy of data/, and its pure helpers."""

from __future__ import annotations

import io as _stdio
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyproj
import pytest
import shapely

from geo import io as gio
from geo import report, settings
from geo.crs import convert
from geo.errors import GeocodeError
from geo.routes.shared import open_route_store

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
DATA = ROOT / "data"
HOSTILE = "<img src=x onerror=alert(1)>"
GEOD = pyproj.Geod(ellps="WGS84")

pytestmark = pytest.mark.skipif(not (DATA / "estates.geojson").exists(), reason="shipped estates missing")


@pytest.fixture
def data_dir(shipped_data, monkeypatch):
    """A copy of the shipped data the app runs against (the app is told by SHAHE_DATA_DIR; no engine setting)."""
    out = shipped_data
    monkeypatch.setenv("SHAHE_DATA_DIR", str(out))
    monkeypatch.delenv("SHAHE_EDITOR_PASSWORD", raising=False)
    return out


def _app():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(APP, default_timeout=120)


def _run(at):
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _view(at, name: str):
    at.sidebar.radio(key="view").set_value(name)
    return _run(at)


def _frame(at, *columns: str, without: tuple[str, ...] = ()) -> pd.DataFrame:
    """The one table on the page (a data grid or a static table) that has every column in ``columns`` and none of ``without``."""
    shown = [*at.dataframe, *at.table]
    found = [d.value for d in shown if set(columns) <= set(d.value.columns) and not set(without) & set(d.value.columns)]
    assert len(found) == 1, [list(d.value.columns) for d in shown]
    return found[0]


def _estates() -> gpd.GeoDataFrame:
    return gio.read_estates(settings.data_path("estates.geojson"))


def _expected_table(**rule) -> pd.DataFrame:
    est = _estates()
    routes = gio.read_routes(settings.data_path("patrol_routes.geojson"))
    return report.coverage_table(est, routes, **rule)


def _offset_line(lon: float, lat: float, *, east_m: float, length_m: float) -> list[list[float]]:
    """A north-south line ``east_m`` east of a point, ``length_m`` long, by geodesic offsets."""
    x, y, _ = GEOD.fwd(lon, lat, 90.0, east_m)
    x1, y1, _ = GEOD.fwd(x, y, 0.0, length_m / 2)
    x0, y0, _ = GEOD.fwd(x, y, 180.0, length_m / 2)
    return [[x0, y0], [x1, y1]]


# --- views --------------------------------------------------------------------------------


class TestOverview:
    def test_counts_match_the_engine(self, data_dir):
        at = _run(_app())
        expected = _expected_table()["status"].value_counts()
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["已覆盖"] == str(expected.get("covered", 0))
        assert metrics["应延伸覆盖"] == str(expected.get("coverable", 0))
        assert metrics["盲区"] == str(expected.get("gap", 0))
        uncovered = _frame(at, "建议", without=("覆盖队伍",))
        assert len(uncovered) == int((expected.index != "covered").astype(int) @ expected.to_numpy())
        assert any("合成" in w.value for w in at.warning)  # incident figures are labelled synthetic

    def test_both_readings_side_by_side(self, data_dir):
        at = _run(_app())
        both = _frame(at, "一般解读", "严格解读（都应）").set_index("覆盖状态")
        for column, strict in (("一般解读", False), ("严格解读（都应）", True)):
            expected = _expected_table(strict=strict)["status"].value_counts()
            assert both.loc["已覆盖", column] == expected.get("covered", 0)
            assert both.loc["应延伸覆盖", column] == expected.get("coverable", 0)
            assert both.loc["盲区", column] == expected.get("gap", 0)
        assert any("都应" in c.value and "每支队伍" in c.value for c in at.caption)
        at.sidebar.multiselect(key="f_communities").set_value(["申明社区"])  # the counts follow the filters
        _run(at)
        both = _frame(at, "一般解读", "严格解读（都应）")
        ledger = gio.read_table(data_dir / "ledger.csv")
        assert both["一般解读"].sum() == both["严格解读（都应）"].sum() == int((ledger["community"] == "申明社区").sum())
        at.button_group(key="lang").set_value("en")
        _run(at)
        assert len(_frame(at, "Default reading", "Strict reading (都应)")) == 3
        assert any("every team within the rule radius" in c.value for c in at.caption)

    def test_risk_ranking_beside_the_plan(self, data_dir):
        from geo import incidents
        from geo.incidents import risk

        at = _run(_app())
        shown = _frame(at, "综合得分")
        expected = risk.risk_table(incidents.load_incidents(settings.data_path("incidents.csv")), _estates())
        assert shown["编号"].tolist() == expected["estate_id"].astype(str).tolist()
        assert shown["排名"].tolist() == list(range(1, 25))
        assert shown["建议批次"].value_counts().to_dict() == {2022: 8, 2023: 8, 2024: 8}
        ledger = pd.read_csv(settings.data_path("ledger.csv"), dtype=str).set_index("estate_id")["batch_year"].astype(int)
        assert (shown["方案批次"] == shown["编号"].map(ledger)).all()
        assert set(shown["与方案比较"]) <= {"一致", "方案排得更晚", "方案排得更早"}
        assert any("（权重 盗窃=2、其他侵财=1、其他刑事=1、矛盾纠纷=1、其他110警情=0.5）" in c.value for c in at.caption)
        at.button_group(key="lang").set_value("en")
        _run(at)
        caption = next(c.value for c in at.caption if c.value.startswith("Method: incidents within"))
        # the weights named as the table's columns are, listed the English way (they were raw keys joined by "、")
        assert "(weights theft=2, other property crime=1, other criminal=1, disputes=1, other 110 calls=0.5)" in caption, caption
        assert "、" not in caption

    def test_event_study_chart_with_method_and_caveat(self, data_dir):
        import json

        from geo import incidents
        from geo.incidents.did import event_study

        at = _run(_app())
        charts = [json.loads(e.proto.spec) for e in at.get("vega_lite_chart")]
        es_charts = [c for c in charts if "ratio_low" in json.dumps(c)]
        # Only the 2022 batch has enough months after its window with a not-yet-rectified comparison.
        assert len(es_charts) == 1
        fields = json.dumps(es_charts[0])
        assert all(f in fields for f in ('"rel_month"', '"ratio"', '"ratio_low"', '"ratio_high"'))
        expected = event_study(incidents.load_incidents(settings.data_path("incidents.csv")), _estates())
        after = expected[(expected["window"] == "2022-01..2022-11") & (expected["phase"] == "after")]["ratio"].dropna()
        assert len(after) == 13 and after.mean() < 1  # the chart's data: the 2022 batch fell below its controls' course
        caption = next(c.value for c in at.caption if c.value.startswith("窗口 2022-01..2022-11"))
        assert "方法" in caption and "校正" in caption and "注意" in caption and "泊松" in caption
        at.button_group(key="lang").set_value("en")
        _run(at)
        caption = next(c.value for c in at.caption if c.value.startswith("Window 2022-01..2022-11"))
        assert "Method:" in caption and "Correction:" in caption and "Caveat:" in caption and "parallel trends" in caption
        # the y axis title on two lines: on one it was longer than the chart is high and was cut off
        spec = json.dumps([json.loads(e.proto.spec) for e in at.get("vega_lite_chart")])
        assert '"title": ["Observed / expected", "(1 = no change)"]' in spec

    def test_english_switch(self, data_dir):
        at = _run(_app())
        at.button_group(key="lang").set_value("en")
        _run(at)
        assert at.title[0].value == "Shahe old-estate patrol coverage"


class TestFilters:
    def test_community_filter_changes_tables(self, data_dir):
        at = _view(_run(_app()), "map")
        assert len(_frame(at, "覆盖队伍", "定位质量")) == 24
        at.sidebar.multiselect(key="f_communities").set_value(["申明社区"])
        _run(at)
        table = _frame(at, "覆盖队伍", "定位质量")
        ledger = gio.read_table(data_dir / "ledger.csv")
        assert len(table) == int((ledger["community"] == "申明社区").sum())
        assert set(table["社区"]) == {"申明社区"}

    def test_status_filter(self, data_dir):
        at = _view(_run(_app()), "map")
        at.sidebar.multiselect(key="f_statuses").set_value(["gap"])
        _run(at)
        expected = _expected_table()
        assert list(_frame(at, "覆盖队伍", "定位质量")["编号"]) == list(expected.loc[expected["status"] == "gap", "estate_id"])

    def test_radius_changes_statuses(self, data_dir):
        at = _run(_app())
        at.sidebar.number_input(key="f_radius_m").set_value(3000.0)
        _run(at)
        expected = _expected_table(radius_m=3000.0)["status"].value_counts()
        assert {m.label: m.value for m in at.metric}["盲区"] == str(expected.get("gap", 0))

    def test_heat_layer_follows_its_filters(self, data_dir):
        from geo import incidents

        at = _view(_run(_app()), "map")
        at.toggle(key="heat_on").set_value(True)
        at.toggle(key="hotspots_on").set_value(True)
        at.toggle(key="heat_night").set_value(True)
        at.multiselect(key="heat_categories").set_value(["盗窃"])
        _run(at)
        inc = incidents.load_incidents(data_dir / "incidents.csv")
        hour = (inc.time_s // 3600) % 24
        located = np.isfinite(inc.lon) & np.isfinite(inc.lat)
        night = (hour >= 20) | (hour < 6)
        want = int((located & night & (inc.category == incidents.CATEGORY_NAMES.index("盗窃"))).sum())
        captions = [c.value for c in at.caption if c.value.startswith("热力图")]
        assert captions and f"{want} 起警情" in captions[0]
        kb = float(captions[0].split("发送 ")[1].split(" KB")[0])
        assert 1 <= kb <= 200  # every year and category as density classes per cell, never the raw incidents

    def test_estate_detail_escapes_names(self, data_dir):
        path = data_dir / "patrol_routes.geojson"
        doc = json.loads(path.read_text(encoding="utf-8"))
        for f in doc["features"]:
            if f["properties"]["team_id"] == "PS-SMB":
                f["properties"]["team"] = HOSTILE
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        at = _view(_run(_app()), "map")
        at.selectbox(key="selected_estate").set_value("SH-02")
        _run(at)
        texts = [m.value for m in at.markdown] + [c.value for c in at.caption]
        assert not any(HOSTILE in s for s in texts)  # never raw HTML in Markdown
        pairs = _frame(at, "义务")
        assert any(HOSTILE in str(v) for v in pairs["队伍"])  # shown as text in the table


class TestEditorRole:
    def test_no_password_means_no_save(self, data_dir):
        at = _view(_run(_app()), "edit")
        assert any("SHAHE_EDITOR_PASSWORD" in w.value for w in at.warning)
        assert not [b for b in at.button if b.key == "save_routes"]
        assert not [w for w in at.text_input if w.key == "editor_password"]  # no login form either

    @pytest.mark.parametrize(("view", "zh", "en"), [
        ("edit", "调整路线需要编辑权限", "editing routes needs the editor role"),
        ("register", "修正小区位置需要编辑权限", "correcting estate positions needs the editor role"),
        ("progress", "记录整治工作需要编辑权限", "recording rectification work needs the editor role"),
    ])
    def test_each_view_says_what_the_editor_role_allows_there(self, data_dir, monkeypatch, view, zh, en):
        # the rectification records and the register said "editing routes needs the editor role"
        monkeypatch.setenv("SHAHE_EDITOR_PASSWORD", "right-one")
        at = _view(_run(_app()), view)
        assert [i.value for i in at.info if "只读视图" in i.value] == [f"只读视图：{zh}（口令由管理员在 Streamlit secrets 或环境变量 SHAHE_EDITOR_PASSWORD 中设置）。"]
        at.button_group(key="lang").set_value("en")
        _run(at)
        assert [i.value for i in at.info if "Read-only view" in i.value] == [
            f"Read-only view: {en} (password set by the administrator in Streamlit secrets or SHAHE_EDITOR_PASSWORD)."]

    def test_wrong_password_is_refused(self, data_dir, monkeypatch):
        monkeypatch.setenv("SHAHE_EDITOR_PASSWORD", "right-one")
        at = _view(_run(_app()), "edit")
        at.text_input(key="editor_password").set_value("wrong")
        at.button[[b.label for b in at.button].index("登录编辑")].click()
        _run(at)
        assert any(e.value == "口令错误" for e in at.error)
        assert not [b for b in at.button if b.key == "save_routes"]

    def test_save_and_restore_round_trip(self, data_dir, monkeypatch):
        monkeypatch.setenv("SHAHE_EDITOR_PASSWORD", "right-one")
        routes_path = data_dir / "patrol_routes.geojson"
        original = routes_path.read_bytes()
        est = _estates()
        gap = _expected_table().query("status == 'gap'")["estate_id"].iloc[0]
        pt = est.loc[est["estate_id"] == gap].geometry.iloc[0]
        line = {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": _offset_line(pt.x, pt.y, east_m=40, length_m=300)}}

        at = _view(_run(_app()), "edit")
        at.text_input(key="editor_password").set_value("right-one")
        at.button[[b.label for b in at.button].index("登录编辑")].click()
        _run(at)
        assert any("已登录" in s.value for s in at.success)
        at.text_area(key="draft_geojson_text").set_value(json.dumps(line))
        at.radio(key="team_mode").set_value("new")
        _run(at)
        at.text_input(key="new_team_id").set_value("PS-NEW")
        at.text_input(key="new_team_name").set_value("新巡逻组")
        at.selectbox(key="new_team_org").set_value("police")
        at.selectbox(key="new_team_shift").set_value("night")
        _run(at)
        changes = _frame(at, "调整前")
        assert list(changes["编号"]) == [gap]
        assert list(changes["调整前"]) == ["盲区"] and list(changes["调整后"]) == ["已覆盖"]
        assert routes_path.read_bytes() == original  # nothing saved by a preview
        save = next(b for b in at.button if b.key == "save_routes")
        assert not save.disabled  # enabled with a draft: the click that commits the reason must not be swallowed
        save.click()
        _run(at)
        assert any("填写修改人和修改原因" in e.value for e in at.error)  # author and reason missing: refused in the callback
        assert routes_path.read_bytes() == original
        at.text_input(key="edit_author").set_value("张警官")
        at.text_input(key="edit_reason").set_value("覆盖盲区")
        _run(at)
        next(b for b in at.button if b.key == "save_routes").click()
        _run(at)
        assert any("第 2 版" in s.value for s in at.success)
        saved = gio.read_routes(routes_path)
        new = saved[saved["team_id"] == "PS-NEW"]
        assert len(new) == 1 and new["shift"].iloc[0] == "night"
        assert shapely.equals_exact(new.geometry.iloc[0], shapely.LineString(line["geometry"]["coordinates"]), tolerance=1e-7)
        versions = open_route_store(routes_path).versions()
        assert [(v.number, v.author, v.reason) for v in versions][1] == (2, "张警官", "覆盖盲区")
        # After the save the app shows the new coverage: the gap is covered.
        _view(at, "overview")
        assert {m.label: m.value for m in at.metric}["盲区"] == "0"

        _view(at, "edit")
        at.selectbox(key="restore_version").set_value(1)
        _run(at)
        next(b for b in at.button if b.key == "restore_button").click()
        _run(at)
        assert routes_path.read_bytes() == original
        assert open_route_store(routes_path).versions()[-1].restored_from == 1

    def test_upload_gpx_in_gcj02(self, data_dir, monkeypatch):
        """The uploaded GCJ-02 track reaches the draft in WGS-84: checked against published test vectors."""
        from geo.routes import edits

        # Public vectors (WGS-84 -> GCJ-02), the same as tests/test_crs.py: the track is written in GCJ-02.
        vectors = [((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
                   ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069))]
        points = "".join(f'<trkpt lat="{g[1]!r}" lon="{g[0]!r}"></trkpt>' for _, g in vectors)
        gpx = ('<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">'
               f"<trk><name>vectors</name><trkseg>{points}</trkseg></trk></gpx>").encode()
        seen = []
        real = edits.lines_from_upload

        def spy(name, data, *, datum="wgs84"):
            seen.append((name, datum, real(name, data, datum=datum)))
            return seen[-1][2]

        monkeypatch.setattr(edits, "lines_from_upload", spy)
        monkeypatch.setenv("SHAHE_EDITOR_PASSWORD", "pw")
        at = _view(_run(_app()), "edit")
        at.radio(key="draft_datum").set_value("gcj02")
        at.file_uploader[0].set_value(("vectors.gpx", gpx, "application/gpx+xml"))
        _run(at)
        # The vectors lie in Shanghai and Beijing: converted, then refused as not in Shahe, in one sentence.
        assert [e.value for e in at.error] == ["这条线不在沙河街道（离每个老旧小区都超过 5 公里）：请检查所选坐标系，以及坐标是否为经度、纬度；草稿未保存。"]
        name, datum, lines = seen[-1]
        assert (name, datum, len(lines)) == ("vectors.gpx", "gcj02", 1)
        got = shapely.get_coordinates(lines[0])
        want = np.array([w for w, _ in vectors])
        assert np.abs(got - want).max() < 1e-6  # the inverse is iterative: about 1e-7 degrees (1 cm)

    def test_bad_paste_is_reported(self, data_dir):
        at = _view(_run(_app()), "edit")
        at.text_area(key="draft_geojson_text").set_value('{"type": "Point", "coordinates": [108.37, 30.84]}')
        _run(at)
        assert [e.value for e in at.error] == ["这是面或点，不是线：巡逻路线请画成线（LineString）；草稿未保存。"]  # one sentence, Chinese only

    def test_one_point_line_is_one_clear_sentence_and_the_draft_stays(self, data_dir):
        routes_path = data_dir / "patrol_routes.geojson"
        original = routes_path.read_bytes()
        text = '{"type": "LineString", "coordinates": [[108.37, 30.84]]}'
        at = _view(_run(_app()), "edit")
        at.text_area(key="draft_geojson_text").set_value(text)
        _run(at)  # used to end in an uncaught GEOS exception
        assert len(at.error) == 1 and "只有一个点" in at.error[0].value
        assert not at.exception
        assert at.text_area(key="draft_geojson_text").value == text
        assert routes_path.read_bytes() == original


class TestRegister:
    def test_record_surveyed_position(self, data_dir, monkeypatch):
        monkeypatch.setenv("SHAHE_EDITOR_PASSWORD", "pw")
        at = _view(_run(_app()), "register")
        assert any("近似" in w.value for w in at.warning)
        assert len(_frame(at, "经度", "定位说明")) == 24
        at.text_input(key="editor_password").set_value("pw")
        at.button[[b.label for b in at.button].index("登录编辑")].click()
        _run(at)
        at.selectbox(key="reg_estate").set_value("SH-06")
        _run(at)
        lon_gcj, lat_gcj = 108.3700000, 30.8500000
        at.number_input(key="reg_lon:SH-06").set_value(lon_gcj)
        at.number_input(key="reg_lat:SH-06").set_value(lat_gcj)
        at.radio(key="reg_datum").set_value("gcj02")
        at.text_input(key="reg_note").set_value("GPS 2024-05")
        _run(at)
        next(b for b in at.button if b.key == "record_override").click()
        _run(at)
        assert any("修改人和说明" in e.value for e in at.error)  # who records it is asked for
        assert not (data_dir / "geocode_overrides.csv").read_text(encoding="utf-8").strip().count("\n")
        at.text_input(key="reg_author").set_value("测量员")
        _run(at)
        next(b for b in at.button if b.key == "record_override").click()
        _run(at)
        assert any("SH-06" in s.value for s in at.success), [e.value for e in at.error]
        rows = gio.read_table(data_dir / "geocode_overrides.csv")
        assert list(rows["estate_id"]) == ["SH-06"] and rows["datum"].iloc[0] == "gcj02"
        est = gio.read_estates(data_dir / "estates.geojson")
        row = est[est["estate_id"] == "SH-06"].iloc[0]
        assert row["geocode_quality"] == "surveyed"
        want_lon, want_lat = convert(lon_gcj, lat_gcj, src="gcj02", dst="wgs84")
        _, _, dist = GEOD.inv(row.geometry.x, row.geometry.y, float(want_lon), float(want_lat))
        assert dist < 0.05
        # GCJ-02 is a few hundred metres off here: the stored point is not the typed one.
        _, _, shift = GEOD.inv(row.geometry.x, row.geometry.y, lon_gcj, lat_gcj)
        assert 200 < shift < 800
        assert (data_dir.parent / "data" / "ledger.csv").read_bytes() == (DATA / "ledger.csv").read_bytes()


# --- pure helpers -----------------------------------------------------------------------------


class TestHelpers:
    def test_password_check(self):
        from ui.auth import check_password

        assert check_password("s3cret", "s3cret")
        assert not check_password("s3cret ", "s3cret")
        assert not check_password("", None)
        assert not check_password("anything", "")

    def test_estate_at(self):
        from ui.planner import estate_at

        est = _estates()
        pt = est.geometry.iloc[3]
        lon, lat, _ = GEOD.fwd(pt.x, pt.y, 45.0, 20.0)
        assert estate_at(est, lat, lon) == est["estate_id"].iloc[3]
        far_lon, far_lat, _ = GEOD.fwd(pt.x, pt.y, 45.0, 5000.0)
        assert estate_at(est, far_lat, far_lon) is None

    def test_markdown_escape(self):
        from ui.tables import md

        text = md(HOSTILE + " *b* [x](javascript:alert(1))")
        assert "<" not in text.replace("\\<", "") and "[" not in text.replace("\\[", "")

    def test_override_rejects_swapped_coordinates(self, tmp_path):
        from ui import overrides

        path = tmp_path / "geocode_overrides.csv"
        path.write_text("estate_id,address,lon,lat,datum,note\n", encoding="utf-8")
        before = path.read_bytes()
        with pytest.raises(GeocodeError):
            overrides.record_override(path, "SH-01", 30.84, 108.37)
        assert path.read_bytes() == before

    def test_override_replaces_earlier_row(self, tmp_path):
        from ui import overrides

        path = tmp_path / "geocode_overrides.csv"
        overrides.record_override(path, "SH-01", 108.37, 30.84)
        overrides.record_override(path, "SH-02", 108.371, 30.841)
        overrides.record_override(path, "SH-01", 108.372, 30.842, note="again")
        rows = gio.read_table(path)
        assert sorted(rows["estate_id"]) == ["SH-01", "SH-02"]
        assert rows.loc[rows["estate_id"] == "SH-01", "lon"].iloc[0] == "108.3720000"


class TestExports:
    def _table(self):
        return _expected_table()

    def test_csv_has_bom_and_every_estate(self):
        from ui.exports import report_bytes

        data = report_bytes(self._table(), "csv", "k")
        assert data.startswith(b"\xef\xbb\xbf")
        df = pd.read_csv(_stdio.BytesIO(data), encoding="utf-8-sig")
        assert len(df) == 24 and {"status", "lon", "lat", "approximate_position"} <= set(df.columns)

    def test_xlsx_opens(self):
        from ui.exports import report_bytes

        data = report_bytes(self._table(), "xlsx", "k2")
        wb = openpyxl.load_workbook(_stdio.BytesIO(data))
        assert wb.active.max_row == 25

    def test_geojson_is_marked_synthetic(self):
        from ui.exports import estates_geojson_bytes

        doc = json.loads(estates_geojson_bytes(self._table(), "k3"))
        assert doc["synthetic"] is True and len(doc["features"]) == 24
        assert {f["properties"]["status"] for f in doc["features"]} <= {"covered", "coverable", "gap"}

    def test_map_html_is_offline(self):
        from geo.maps import mapview, offline
        from geo.maps.vector_layer import page_features
        from ui.exports import map_html_bytes

        if not (offline.VENDOR_DIR / offline.MANIFEST_NAME).exists():
            pytest.skip("map assets not vendored (run ./run setup)")
        html = map_html_bytes(mapview.build_map(self._table(), gio.read_routes(DATA / "patrol_routes.geojson"))).decode("utf-8")
        assert offline.find_remote_urls(html) == []
        markers = [f for f in page_features(html) if f["options"].get("className", "").startswith("estate-marker")]
        assert len(markers) >= 24


# --- review fixes -------------------------------------------------------------------------------


def _write_json(path: Path, doc: dict) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _gap_estate() -> str:
    return _expected_table().query("status == 'gap'")["estate_id"].iloc[0]


class TestReviewFixes:
    def test_draft_lines_follow_the_amap_datum(self):
        from ui.maps import draft_lines_for_map

        line = shapely.LineString([(108.37, 30.84), (108.372, 30.841)])
        assert draft_lines_for_map([line], "offline")[0].equals(line)
        shifted = draft_lines_for_map([line], "amap")[0]
        want_lon, want_lat = convert([108.37, 108.372], [30.84, 30.841], src="wgs84", dst="gcj02")
        got = list(shifted.coords)
        for (x, y), wx, wy in zip(got, want_lon, want_lat, strict=True):
            assert abs(x - wx) < 1e-9 and abs(y - wy) < 1e-9
        _, _, moved = GEOD.inv(108.37, 30.84, *got[0])
        assert 200 < moved < 800  # the GCJ-02 offset here is a few hundred metres

    def test_route_errors_name_the_routes_file(self):
        from geo.errors import SchemaError
        from ui import data

        doc = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"route_id": "R-1"}, "geometry": {"type": "LineString", "coordinates": [[108.37, 30.84], [108.371, 30.841]]}},
        ]}
        with pytest.raises(SchemaError) as info:
            data.routes_from_text(json.dumps(doc), "my_routes.geojson")
        texts = [info.value.summary, *info.value.problems]
        assert info.value.problems
        assert not any("/tmp" in s or "\\tmp" in s or "tmp" in s.split("my_routes")[0] for s in texts), texts
        assert any("my_routes.geojson" in s for s in texts)

    def test_load_error_lists_each_problem_once(self, data_dir):
        path = data_dir / "patrol_routes.geojson"
        doc = json.loads(path.read_text(encoding="utf-8"))
        for f in doc["features"][:2]:
            del f["properties"]["team_id"]
        _write_json(path, doc)
        at = _app()
        at.run()
        assert at.error
        text = at.error[0].value
        lines = [s for s in text.splitlines() if s.startswith("- ")]
        assert len(lines) >= 2
        for line in lines:
            assert text.count(line) == 1, line
        assert "tmp" not in text and "patrol\\_routes\\.geojson" in text

    def test_footprints_keep_their_cover_default(self, data_dir):
        """A footprint 50 m from a route is not covered by the default (30 m for footprints), only nearby."""
        base = _expected_table()["status"].value_counts()
        gap = _gap_estate()
        est_path = data_dir / "estates.geojson"
        doc = json.loads(est_path.read_text(encoding="utf-8"))
        feat = next(f for f in doc["features"] if f["properties"]["estate_id"] == gap)
        lon, lat = feat["geometry"]["coordinates"]
        corners = [GEOD.fwd(lon, lat, az, 10.0 * 2 ** 0.5)[:2] for az in (45.0, 135.0, 225.0, 315.0)]
        feat["geometry"] = {"type": "Polygon", "coordinates": [[*map(list, corners), list(corners[0])]]}
        _write_json(est_path, doc)
        routes_path = data_dir / "patrol_routes.geojson"
        rdoc = json.loads(routes_path.read_text(encoding="utf-8"))
        new = json.loads(json.dumps(rdoc["features"][0]))
        new["properties"].update(route_id="R-T5", team_id="PS-T5", team="测试组", shift="all")
        new["geometry"] = {"type": "LineString", "coordinates": _offset_line(lon, lat, east_m=60.0, length_m=200.0)}
        rdoc["features"].append(new)
        _write_json(routes_path, rdoc)
        at = _run(_app())
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["已覆盖"] == str(base.get("covered", 0))
        assert metrics["应延伸覆盖"] == str(base.get("coverable", 0) + 1)
        assert any("楼栋轮廓 30 米" in c.value for c in at.caption)
        at.sidebar.number_input(key="f_cover_m").set_value(120.0)  # a chosen value applies to every estate
        _run(at)
        assert {m.label: m.value for m in at.metric}["已覆盖"] == str(base.get("covered", 0) + 1)

    def test_texts_follow_the_radius(self, data_dir):
        at = _view(_run(_app()), "map")
        assert len(_frame(at, "1公里内队伍", "定位质量")) == 24
        at.sidebar.number_input(key="f_radius_m").set_value(500.0)
        _run(at)
        table = _frame(at, "500米内队伍", "定位质量")
        gaps = table[table["覆盖状态"] == "盲区"]
        assert len(gaps) and gaps["建议"].str.startswith("500米内无巡防队伍").all()
        assert _frame(at, "500米内小区数") is not None

    def test_exported_map_holds_only_the_shift_routes(self, data_dir):
        from geo.maps import offline
        from ui import data, downloads

        if not (offline.VENDOR_DIR / offline.MANIFEST_NAME).exists():
            pytest.skip("map assets not vendored (run ./run setup)")
        routes = gio.read_routes(data_dir / "patrol_routes.geojson")
        text = (data_dir / "patrol_routes.geojson").read_text(encoding="utf-8")
        est = data_dir / "estates.geojson"
        ids = tuple(_estates()["estate_id"].astype(str))
        rule = data.Rule(1000.0, None, False, "day")
        html = downloads._map_html(str(est), data.mtime_ns(est), text, rule, ids, True).decode("utf-8")
        day = set(routes.loc[routes["shift"].isin(["day", "all"]), "route_id"])
        night = set(routes.loc[routes["shift"] == "night", "route_id"])
        assert day and night
        assert all(r in html for r in day)
        assert not any(r in html for r in night)
        html_500 = downloads._map_html(str(est), data.mtime_ns(est), text, data.Rule(500.0, None, False, None), ids, True).decode("utf-8")
        assert "500米" in html_500 and "1公里" not in html_500  # band, legend and popups name the chosen radius

    def test_bands_of_a_shift(self, data_dir):
        from ui import data

        routes = gio.read_routes(data_dir / "patrol_routes.geojson")
        text = (data_dir / "patrol_routes.geojson").read_text(encoding="utf-8")
        bands = data.route_bands(text, 1000.0, None, "night")
        want = set(routes.loc[routes["shift"].isin(["night", "all"]), "team_id"])
        assert set(bands["team_id"]) == want

    def test_nan_numbers_show_a_dash(self):
        from ui.tables import number_text

        assert number_text(float("nan"), ".3g") == "—"
        assert number_text(None) == "—"
        assert number_text(0.012345, ".3g") == "0.0123"

    def test_geojson_of_surveyed_estates_is_not_marked_synthetic(self):
        from ui.exports import estates_geojson_bytes

        table = _expected_table()
        table["geocode_quality"] = "surveyed"
        table["synthetic"] = False
        doc = json.loads(estates_geojson_bytes(table, "k-surveyed"))
        assert "synthetic" not in doc and "note" not in doc
        table.loc[table.index[0], "geocode_quality"] = "interpolated"
        assert json.loads(estates_geojson_bytes(table, "k-one-approx"))["synthetic"] is True

    def test_surveyed_estate_is_not_called_approximate(self, data_dir):
        path = data_dir / "estates.geojson"
        doc = json.loads(path.read_text(encoding="utf-8"))
        for f in doc["features"]:
            if f["properties"]["estate_id"] == "SH-02":
                f["properties"]["geocode_quality"] = "surveyed"
                f["properties"]["address"] = "天子路*2*号"
        _write_json(path, doc)
        at = _view(_run(_app()), "map")
        at.selectbox(key="selected_estate").set_value("SH-02")
        _run(at)
        caption = next(c.value for c in at.caption if c.value.startswith("地址"))
        assert "位置为近似" not in caption and "天子路\\*2\\*号" in caption
        at.selectbox(key="selected_estate").set_value("SH-01")
        _run(at)
        assert "位置为近似" in next(c.value for c in at.caption if c.value.startswith("地址"))

    def test_picking_an_estate_forgets_the_last_click(self, data_dir):
        at = _view(_run(_app()), "map")
        at.session_state["map_click_seen"] = {"lat": 30.84, "lng": 108.37}
        at.selectbox(key="selected_estate").set_value("SH-03")
        _run(at)
        assert at.session_state["map_click_seen"] is None
        assert at.session_state["map_click_generation"] == 1

    def test_error_details_are_hidden(self):
        import tomllib

        config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
        assert config["client"]["showErrorDetails"] == "none"

    def test_data_dir_is_left_alone_when_unchanged(self, data_dir, monkeypatch):
        from ui import data

        same = Path(str(data_dir))
        monkeypatch.setattr(settings, "data_dir", same)
        assert data.data_dir() == data_dir
        assert settings.data_dir is same

    def test_save_refused_when_the_file_changed(self, data_dir, monkeypatch):
        monkeypatch.setenv("SHAHE_EDITOR_PASSWORD", "pw")
        routes_path = data_dir / "patrol_routes.geojson"
        gap = _gap_estate()
        pt = _estates().set_index("estate_id").geometry[gap]
        line = {"type": "LineString", "coordinates": _offset_line(pt.x, pt.y, east_m=40, length_m=300)}
        at = _view(_run(_app()), "edit")
        at.text_input(key="editor_password").set_value("pw")
        at.button[[b.label for b in at.button].index("登录编辑")].click()
        _run(at)
        at.text_area(key="draft_geojson_text").set_value(json.dumps(line))
        at.text_input(key="edit_author").set_value("张警官")
        at.text_input(key="edit_reason").set_value("覆盖盲区")
        _run(at)
        assert at.selectbox(key="team_existing").value == "PS-SMB"
        # PS-SMB patrols at night and all day: the new route's shift is asked for, never taken silently.
        assert at.selectbox(key="team_route_shift_PS-SMB").value is None
        assert any("多个班次" in w.value for w in at.warning)
        assert not [b for b in at.button if b.key == "save_routes" and not b.disabled]
        at.selectbox(key="team_route_shift_PS-SMB").set_value("all")
        _run(at)
        assert list(_frame(at, "调整前")["编号"]) == [gap]
        other = open_route_store(routes_path)  # someone else saves meanwhile (through the store the app made on first start)
        other.save(gio.read_routes(routes_path).iloc[:-1], author="李所长", reason="另一处保存")
        changed = routes_path.read_bytes()
        next(b for b in at.button if b.key == "save_routes").click()
        at.run()
        assert routes_path.read_bytes() == changed
        assert any("重新加载" in e.value for e in at.error), [e.value for e in at.error]
