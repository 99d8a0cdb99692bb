"""The PostGIS end-to-end report query (benchmarks.bench_e2e) against a brute-force answer, on a throw-away cluster.

Skips without PostgreSQL + PostGIS, or fails under ``CI=true``, as the store tests do.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np
import pandas as pd
import pytest

from benchmarks import bench_e2e, pgcluster, scale
from benchmarks.pgcluster import ClusterUnavailable
from tests.benchmarks.test_bench import TINY, brute_force


@pytest.fixture(scope="module")
def dsn():
    with contextlib.ExitStack() as stack:
        try:
            cluster = stack.enter_context(pgcluster.temporary_cluster(prefix="shahe-test-pg-"))
        except ClusterUnavailable as exc:
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"CI=true and the PostGIS report test needs a PostgreSQL cluster: {exc}")
            pytest.skip(f"the PostGIS report test needs a PostgreSQL cluster: {exc}")
        yield cluster.dsn


def test_report_query_matches_a_brute_force_answer(dsn, tmp_path):
    data = scale.generate(TINY, seed=5)
    estates, routes = scale.write_geojson(data, tmp_path)
    bench_e2e.postgis_load_files(dsn, estates, routes)
    out = tmp_path / "report.csv"
    bench_e2e.postgis_report(dsn, out)
    got = pd.read_csv(out, keep_default_na=False, dtype=str)
    want = brute_force(data)
    assert got["estate_id"].tolist() == data.estate_ids.tolist()  # every estate, in file order
    statuses = set()
    for row in got.itertuples(index=False):
        status, nearest, nearby, covering = want[row.estate_id]
        statuses.add(status)
        assert row.status == status
        assert row.nearby_team_ids == ";".join(sorted(nearby))
        assert row.covering_team_ids == ";".join(sorted(covering))
        assert int(row.nearby_count) == len(nearby) and int(row.covering_count) == len(covering)
        if nearby:
            assert float(row.nearest_distance_m) == pytest.approx(nearest, abs=0.006)
        else:
            assert row.nearest_distance_m == "" and row.nearest_team_id == ""
    assert len(statuses) >= 2  # the layout has estates of more than one status
    assert np.isfinite(pd.to_numeric(got["nearest_distance_m"], errors="coerce")).any()
