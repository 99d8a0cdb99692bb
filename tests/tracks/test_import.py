"""Importing tracks: formats, datums, devices, cleaning, and bad input refused with nothing stored."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo import crs as _crs
from geo.cli.main import main
from geo.errors import SchemaError
from geo.tracks import import_tracks, read_fixes
from geo.tracks.fixes import clean

GPX = """<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1"><trk><name>n</name><trkseg>{pts}</trkseg></trk></gpx>"""


def _gpx(path, points):
    pts = "".join(f'<trkpt lat="{la}" lon="{lo}">' + (f"<time>{t}</time>" if t else "") + "</trkpt>" for lo, la, t in points)
    path.write_text(GPX.format(pts=pts), encoding="utf-8")
    return path


def test_gpx_times_become_local_and_gcj02_is_converted(tmp_path):
    f = _gpx(tmp_path / "a.gpx", [(108.3646, 30.8557, "2026-03-04T14:00:00Z"), (108.3647, 30.8557, "2026-03-04T14:00:10Z")])
    import_tracks(f, team_id="PS-A", datum="gcj02", tracks_path=tmp_path / "s")
    got = read_fixes(tmp_path / "s")
    # 14:00 UTC is 22:00 in Shahe (UTC+8, no daylight saving).
    assert list(got["time_s"]) == [pd.Timestamp("2026-03-04 22:00:00").value // 10**9, pd.Timestamp("2026-03-04 22:00:10").value // 10**9]
    lon, lat = _crs.gcj02_to_wgs84(108.3646, 30.8557)
    assert got["lon"].iat[0] == pytest.approx(lon, abs=1e-9) and got["lat"].iat[0] == pytest.approx(lat, abs=1e-9)
    x, _ = _crs.project_lonlat(lon, lat)
    assert got["x"].iat[0] == pytest.approx(float(x), abs=1e-3)
    assert (tmp_path / "s" / "month=2026-03" / "fixes.parquet").exists()


def test_devices_map_to_teams_and_reimport_adds_nothing(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("device_id,time,lon,lat\nD1,2026-03-04 22:00:00,108.3646,30.8557\nD2,2026-03-04 22:00:00,108.37,30.85\n", encoding="utf-8")
    dev = tmp_path / "devices.csv"
    dev.write_text("device_id,team_id\nD1,PS-A\nD2,VO-B\n", encoding="utf-8")
    rep = import_tracks(f, devices=dev, tracks_path=tmp_path / "s")
    assert rep.months == {"2026-03": 2}
    assert sorted(read_fixes(tmp_path / "s")["team_id"]) == ["PS-A", "VO-B"]
    assert import_tracks(f, devices=dev, tracks_path=tmp_path / "s").months == {"2026-03": 0}


def test_cleaning_drops_duplicates_jumps_and_impossible_speeds():
    x0, y0 = _crs.project_lonlat(108.37, 30.845)
    # 10 s apart, 10 m steps east; fix 3 duplicates fix 2's second; fix 5 jumps 1 km north and back; the last fix is 2 km
    # further east 10 s later (200 m/s, no next fix to make it a jump).
    xs = x0 + np.array([0, 10, 20, 20, 30, 40, 50, 60, 70, 80, 2080], dtype=float)
    ys = y0 + np.array([0, 0, 0, 0, 0, 1000, 0, 0, 0, 0, 0], dtype=float)
    ts = np.array([0, 10, 20, 20, 30, 40, 50, 60, 70, 80, 90]) + 1_772_000_000
    t = _crs.metric_to_lonlat_transformer()
    lon, lat = t.transform(xs, ys)
    df = pd.DataFrame({"team_id": "A", "time_s": ts, "lon": lon, "lat": lat, "speed_mps": np.nan, "source": "f", "row": np.arange(2, 13)})
    kept, rep = clean(df)
    assert rep.dropped == {"duplicate": 1, "jump": 1, "speed": 1}
    assert list(rep.rows.sort_values("row")["row"]) == [5, 7, 12]
    assert rep.kept == 8 and len(kept) == 8


def test_bad_files_refuse_the_whole_folder(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.csv").write_text("team_id,time,lon,lat\nPS-A,2026-03-04 22:00:00,108.3646,30.8557\n", encoding="utf-8")
    (folder / "bad.csv").write_text(
        "device_id,time,lon,lat\nD1,2026-03-04 22:00:00,108.3646,30.8557\nD1,,108.3647,30.8557\n"
        "D9,2026-03-04 22:00:20,108.3648,30.8557\nD1,2026-03-04 22:00:30,116.4,39.9\n", encoding="utf-8")
    _gpx(folder / "wpt.gpx", [])
    (folder / "wpt.gpx").write_text(GPX.replace("<trk><name>n</name><trkseg>{pts}</trkseg></trk>", '<wpt lat="30.85" lon="108.36"/>'), encoding="utf-8")
    _gpx(folder / "notime.gpx", [(108.36, 30.85, None), (108.361, 30.85, None)])
    _gpx(folder / "order.gpx", [(108.36, 30.85, "2026-03-04T14:00:10Z"), (108.361, 30.85, "2026-03-04T14:00:00Z")])
    dev = tmp_path / "devices.csv"
    dev.write_text("device_id,team_id\nD1,PS-A\n", encoding="utf-8")
    rc = main(["tracks", "import", str(folder), "--devices", str(dev), "--team-id", "X", "--tracks-dir", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "4 of 5 file(s) refused; nothing was imported" in err
    assert "bad.csv: row 3: field 'time': no time given" in err
    assert "bad.csv: row 4: field 'device_id': device 'D9' is mapped to no team" in err
    assert "bad.csv: row 5: the fix (116.400000, 39.900000) lies far outside Shahe" in err
    assert "wpt.gpx: it has 1 waypoint(s)" in err
    assert "notime.gpx: the track has no times" in err
    assert "order.gpx: point 2: time 2026-03-04 22:00:00 is earlier than the point before it" in err
    assert "Traceback" not in err
    assert not (tmp_path / "s").exists()


def test_a_table_without_time_column_is_refused(tmp_path):
    f = tmp_path / "n.csv"
    f.write_text("team_id,lon,lat\nA,108.36,30.85\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="no time column"):
        import_tracks(f, tracks_path=tmp_path / "s")


def test_xlsx_with_chinese_headers_and_a_datum_column(tmp_path):
    import openpyxl

    lon, lat = _crs.gcj02_to_wgs84(108.3646, 30.8557)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["设备号", "定位时间", "经度", "纬度", "datum", "速度(km/h)"])
    ws.append(["D1", "2026年3月4日 22时00分05秒", 108.3646, 30.8557, "gcj02", 36])
    ws.append(["D1", "2026-03-04 22:00:15", float(lon) + 0.0001, float(lat), "wgs84", 18])
    f = tmp_path / "fixes.xlsx"
    wb.save(f)
    import_tracks(f, devices={"D1": "PS-A"}, tracks_path=tmp_path / "s")
    got = read_fixes(tmp_path / "s")
    assert list(got["team_id"]) == ["PS-A", "PS-A"]
    assert got["lon"].iat[0] == pytest.approx(lon, abs=1e-9) and got["lon"].iat[1] == pytest.approx(lon + 0.0001, abs=1e-9)
    assert got["time_s"].iat[0] == pd.Timestamp("2026-03-04 22:00:05").value // 10**9
    assert list(got["speed_mps"]) == pytest.approx([10.0, 5.0])
