"""GeoParquet: the incident store as Parquet (geo.incidents.store) and Parquet archives as an import source (geo.incidents.archive)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely

from benchmarks.import_data import write_export
from geo.errors import DataFileError
from geo.incidents.importer import import_incidents
from geo.incidents.store import STORE_COLUMNS, load_incidents, point_wkb, read_parquet_store, write_store

DATA = Path(__file__).parents[1] / "data" / "incidents"


def csv_text(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    src = tmp_path_factory.mktemp("export") / "export.csv"
    write_export(src, 2000, seed=5)
    return src


def no_geocoder(address):
    msg = "every row has coordinates"
    raise AssertionError(msg)


class TestParquetStore:
    def test_same_text_as_the_csv_store(self, tmp_path, export):
        a = import_incidents(export, out=tmp_path / "s.csv", geocoder=no_geocoder, rejects=tmp_path / "ra.csv")
        b = import_incidents(export, out=tmp_path / "s.parquet", geocoder=no_geocoder, rejects=tmp_path / "rb.csv")
        assert a.summary().replace("s.csv", "X").replace("ra.csv", "R") == b.summary().replace("s.parquet", "X").replace("rb.csv", "R")
        got = read_parquet_store(tmp_path / "s.parquet")
        pd.testing.assert_frame_equal(got, csv_text(tmp_path / "s.csv"))
        assert (tmp_path / "ra.csv").read_bytes() == (tmp_path / "rb.csv").read_bytes()

    def test_loads_the_same_arrays(self, tmp_path, export):
        import_incidents(export, out=tmp_path / "s.csv", geocoder=no_geocoder)
        import_incidents(export, out=tmp_path / "s.parquet", geocoder=no_geocoder)
        a, b = load_incidents(tmp_path / "s.csv"), load_incidents(tmp_path / "s.parquet")
        for name in ("lon", "lat", "time_s", "category", "subcategory", "source", "ids"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert b.attrs["synthetic"] is True

    def test_is_a_geoparquet_point_layer(self, tmp_path):
        import_incidents(DATA / "cases_en.csv", out=tmp_path / "s.parquet")
        layer = gpd.read_parquet(tmp_path / "s.parquet")
        assert layer.crs.equals("OGC:CRS84")
        assert list(layer.columns) == [*STORE_COLUMNS, "geometry"]
        np.testing.assert_array_equal(layer.geometry.x.to_numpy(), layer["lon"].to_numpy())
        np.testing.assert_array_equal(layer.geometry.y.to_numpy(), layer["lat"].to_numpy())

    def test_point_wkb_is_shapelys(self):
        rng = np.random.default_rng(3)
        x = np.r_[rng.uniform(-180, 180, 5000), -0.0, 0.0, np.nan, 1.0, np.inf, -np.inf, 1e-310]
        y = np.r_[rng.uniform(-90, 90, 5000), 0.0, -0.0, 2.0, np.nan, 1.0, 5.0, -1e-310]
        got = point_wkb(x, y)
        assert got.type == pa.binary()
        assert got.to_pylist() == shapely.to_wkb(shapely.points(x, y)).tolist()
        assert point_wkb(np.zeros(0), np.zeros(0)).to_pylist() == []

    def test_dictionaries_only_where_values_repeat(self, tmp_path, export):
        import_incidents(export, out=tmp_path / "s.parquet", geocoder=no_geocoder)
        meta = pq.ParquetFile(tmp_path / "s.parquet").metadata
        chunks = {meta.row_group(0).column(j).path_in_schema: meta.row_group(0).column(j) for j in range(meta.num_columns)}
        plain = {name for name, chunk in chunks.items() if not chunk.has_dictionary_page}
        assert plain == {"incident_id", "time", "lon", "lat", "geometry"}
        assert pq.read_table(tmp_path / "s.parquet").schema.field("category").type == pa.string()  # read back as text

    def test_append_and_duplicates(self, tmp_path):
        out = tmp_path / "s.parquet"
        first = import_incidents(DATA / "cases_en.csv", out=out)
        again = import_incidents(DATA / "cases_en.csv", out=out, rejects=tmp_path / "r.csv")
        assert again.imported == 0 and again.duplicates == first.imported and again.store_total == first.imported
        more = import_incidents(DATA / "calls_zh.csv", out=out, source="110", geocoder=lambda a: None, rejects=tmp_path / "r2.csv")
        assert more.store_total == first.imported + more.imported == len(read_parquet_store(out))
        csv_out = tmp_path / "s.csv"
        import_incidents(DATA / "cases_en.csv", out=csv_out)
        import_incidents(DATA / "calls_zh.csv", out=csv_out, source="110", geocoder=lambda a: None, rejects=tmp_path / "r3.csv")
        pd.testing.assert_frame_equal(read_parquet_store(out), csv_text(csv_out))

    def test_failure_leaves_the_store_untouched(self, tmp_path):
        out = tmp_path / "s.parquet"
        import_incidents(DATA / "cases_en.csv", out=out)
        before = out.read_bytes()

        def broken(address):
            raise RuntimeError("geocoder crashed")

        with pytest.raises(RuntimeError):
            import_incidents(DATA / "calls_zh.csv", out=out, source="110", geocoder=broken, chunksize=2)
        assert out.read_bytes() == before
        assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]

    def test_write_store_round_trip(self, tmp_path):
        import_incidents(DATA / "cases_en.csv", out=tmp_path / "s.csv")
        frame = csv_text(tmp_path / "s.csv")
        write_store(frame, tmp_path / "w.parquet")
        pd.testing.assert_frame_equal(read_parquet_store(tmp_path / "w.parquet"), frame)

    def test_not_a_store_is_refused(self, tmp_path):
        pq.write_table(pa.table({"a": [1]}), tmp_path / "x.parquet")
        with pytest.raises(DataFileError, match="not an incident store"):
            load_incidents(tmp_path / "x.parquet")
        with pytest.raises(DataFileError, match="not an incident store"):
            import_incidents(DATA / "cases_en.csv", out=tmp_path / "x.parquet")


class TestParquetArchive:
    def test_projected_geoparquet_is_converted_to_wgs84(self, tmp_path):
        lon = np.array([108.37, 108.38, 108.39])
        lat = np.array([30.84, 30.83, 30.82])
        frame = gpd.GeoDataFrame(
            {
                "警情编号": ["P1", "P2", "P3"],
                "报警时间": ["2021-03-04 21:15:00", "2021-03-05 08:00:00", "2021-03-06 23:59:59"],
                "警情类别": ["盗窃", "电诈", "邻里"],
            },
            geometry=shapely.points(lon, lat),
            crs="EPSG:4326",
        ).to_crs("EPSG:4545")
        src = tmp_path / "archive.parquet"
        frame.to_parquet(src)
        res = import_incidents(src, out=tmp_path / "s.csv", source="110", geocoder=no_geocoder)
        assert res.imported == 3
        store = csv_text(tmp_path / "s.csv")
        np.testing.assert_allclose(store["lon"].astype(float), lon, atol=2e-7)
        np.testing.assert_allclose(store["lat"].astype(float), lat, atol=2e-7)
        assert store["time"].tolist() == ["2021-03-04T21:15:00+08:00", "2021-03-05T08:00:00+08:00", "2021-03-06T23:59:59+08:00"]

    def test_typed_columns(self, tmp_path):
        utc = [dt.datetime(2021, 3, 4, 13, 15, tzinfo=dt.UTC), None]
        table = pa.table(
            {
                "id": pa.array([1001, 1002]),
                "time": pa.array(utc, type=pa.timestamp("us", tz="UTC")),
                "category": ["theft", "burglary"],
                "lon": pa.array([108.37, 108.38]),
                "lat": pa.array([30.84, 30.85]),
            }
        )
        src = tmp_path / "typed.parquet"
        pq.write_table(table, src)
        res = import_incidents(src, out=tmp_path / "s.csv", source="110", rejects=tmp_path / "r.csv")
        store = csv_text(tmp_path / "s.csv")
        assert store["incident_id"].tolist() == ["1001"]
        assert store["time"].tolist() == ["2021-03-04T21:15:00+08:00"]  # 13:15 UTC is 21:15 in Shanghai
        assert res.rejects == [(3, "no time: the time column is empty")]

    def test_lines_are_refused_with_their_rows(self, tmp_path):
        frame = gpd.GeoDataFrame(
            {"time": ["2021-03-04 21:15"] * 2, "category": ["盗窃"] * 2},
            geometry=[shapely.Point(108.37, 30.84), shapely.LineString([(108.37, 30.84), (108.38, 30.85)])],
            crs="EPSG:4326",
        )
        frame.to_parquet(tmp_path / "a.parquet")
        with pytest.raises(DataFileError, match=r"a\.parquet: row 3 has a LineString; an incident is a point"):
            import_incidents(tmp_path / "a.parquet", out=tmp_path / "s.csv", source="110")
        assert not (tmp_path / "s.csv").exists()
