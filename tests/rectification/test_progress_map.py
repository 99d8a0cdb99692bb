"""The progress map of the rectification briefing (geo.rectification.briefing.progress_map_png) with many estates."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from geo import settings
from geo.maps import static_map
from geo.rectification.briefing import LABEL_ORDER, progress_label_items, progress_map_png
from tests.maps.test_briefing import boxes_overlap, greedy_groups, text_box


@pytest.fixture
def drawn(monkeypatch):
    """The map axes of every figure the progress map saves, in order, with its texts' boxes on screen by ``id``."""
    figures = []
    real = static_map.figure_bytes

    def spy(fig, fmt, **kw):
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]
        ax.boxes = {id(t): text_box(t, renderer) for t in ax.texts}
        ax.boxes["legend"] = ax.get_legend().get_window_extent(renderer)
        figures.append(ax)
        return real(fig, fmt, **kw)

    monkeypatch.setattr(static_map, "figure_bytes", spy)
    return figures


def _estates(n: int, seed: int = 7, *, crowd: int = 0) -> tuple[gpd.GeoDataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """``n`` estates scattered over 6 x 5 km around Shahe in EPSG:4545, their states, and their metric positions.

    The first ``crowd`` of them are not started and crowd the upper left corner (800 x 600 m), under the legend.
    """
    rng = np.random.default_rng(seed)
    x = 533_000 + rng.uniform(0, 6_000, n)
    y = 3_410_000 + rng.uniform(0, 5_000, n)
    x[:crowd] = 533_000 + rng.uniform(0, 800, crowd)
    y[:crowd] = 3_414_400 + rng.uniform(0, 600, crowd)
    lon, lat = Transformer.from_crs(settings.metric_crs, "EPSG:4326", always_xy=True).transform(x, y)
    ids = [f"E{i:05d}" for i in range(n)]
    estates = gpd.GeoDataFrame({"estate_id": ids}, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    states = rng.choice(["not_started", "in_progress", "overdue", "complete"], n, p=[0.5, 0.3, 0.01, 0.19])
    states[:crowd] = "not_started"
    return estates, pd.DataFrame({"estate_id": ids, "state": states}), x, y


def _symbol_sizes(ax) -> list[float]:
    """The distinct areas (points squared) of the scatter symbols drawn on ``ax``."""
    return np.unique(np.concatenate([c.get_sizes() for c in ax.collections if c.get_sizes().size])).tolist()


def test_many_estates_get_at_most_the_label_cap_overdue_places_first_and_a_note(drawn, tmp_path):
    estates, table, x, y = _estates(2_000, crowd=60)
    png = progress_map_png(estates, table, data_dir=tmp_path)
    assert png.startswith(b"\x89PNG")
    ax = drawn[-1]
    texts = [t.get_text() for t in ax.texts]
    labels = [t for t in ax.texts if t.get_text().startswith("E")]
    assert static_map.LABELS_MAX - 5 <= len(labels) <= static_map.LABELS_MAX

    # The places, grouped here by trying every group (the map groups through a grid) on the positions made above
    # (the map reprojects the estates' longitudes and latitudes itself).
    places = greedy_groups(x.tolist(), y.tolist(), 100.0)
    assert f"地图只标注{len(labels)}处（共{len(places)}处）：最需处理的优先，挤不下的从略" in texts
    states = table["state"].to_numpy()
    overdue_places = [g for g in places if (states[g] == "overdue").any()]
    assert 0 < len(overdue_places) < static_map.LABELS_MAX
    # each overdue place is labelled at one of its overdue estates (a label's anchor is its place's most pressing estate)
    anchors = np.array([t.xy for t in labels])
    overdue_at = np.array([(x[i], y[i]) for i in np.flatnonzero(states == "overdue")])
    for g in overdue_places:
        at = np.array([(x[i], y[i]) for i in g if states[i] == "overdue"])
        assert (np.hypot(*(anchors[:, None, :] - at[None, :, :]).transpose(2, 0, 1)) < 0.01).any()
    # the other labels cover no other label, the legend or the note
    note = [t for t in ax.texts if t.get_text().startswith("地图只标注")]
    for t in labels:
        if (np.hypot(*(overdue_at - np.array(t.xy)).T) < 0.01).any():
            continue
        others = [ax.boxes[id(o)] for o in [*labels, *note] if o is not t] + [ax.boxes["legend"]]
        assert not [o for o in others if boxes_overlap(ax.boxes[id(t)], o)], t.get_text()

    # 2,000 symbols shrink: their areas are 300 / 2,000 of the full size (70 points squared).
    assert _symbol_sizes(ax) == pytest.approx([70 * static_map.SYMBOLS_FULL_SIZE / 2_000])


def test_few_estates_are_all_labelled_at_full_size(drawn, tmp_path):
    estates, table, x, y = _estates(12, seed=3)
    progress_map_png(estates, table, data_dir=tmp_path, lang="en")
    ax = drawn[-1]
    texts = [t.get_text() for t in ax.texts]
    assert not [s for s in texts if s.startswith("Labelled")]
    places = greedy_groups(x.tolist(), y.tolist(), 100.0)
    assert len([s for s in texts if s.startswith("E")]) == len(places)
    assert _symbol_sizes(ax) == [70.0]


def test_labels_follow_the_order_of_need_then_the_table():
    # five places 1 km apart; the third holds two estates 50 m apart (one complete, one overdue)
    ids = ["SH-01", "SH-02", "SH-03", "SH-04", "SH-05", "SH-06"]
    states = ["complete", "in_progress", "complete", "not_started", "overdue", "not_started"]
    xs = np.array([0.0, 1000.0, 2000.0, 2050.0, 3000.0, 4000.0])
    ys = np.zeros(6)
    items, places, overdue = progress_label_items(ids, states, xs, ys, limit=3)
    assert places == 5 and overdue == 1
    assert LABEL_ORDER[0] == "overdue"
    # SH-05 overdue first; then the not started, in the table's order: the place of SH-03 and SH-04, then SH-06
    assert [text for _, _, text, _ in items] == ["05", "03,04", "06"]
    # a place is drawn at its most pressing estate
    assert items[1][:2] == (2050.0, 0.0)
    items, _, _ = progress_label_items(ids, states, xs, ys)
    assert [text for _, _, text, _ in items] == ["05", "03,04", "06", "02", "01"]
