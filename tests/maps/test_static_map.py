"""Labels and place names of the printed maps (geo.maps.static_map): what is left out where a map is crowded."""

from __future__ import annotations

import itertools

from matplotlib.text import Text

from geo.maps import static_map
from tests.maps.test_briefing import boxes_overlap, text_box


def _axes(size_in: float = 4.0):
    fig, _ = static_map.new_figure("en", figsize=(size_in, size_in))
    ax = fig.add_subplot()
    ax.set_xlim(0, 1000)
    ax.set_ylim(0, 1000)
    fig.canvas.draw()
    return fig, ax


def _boxes(fig, texts):
    renderer = fig.canvas.get_renderer()
    return [text_box(t, renderer) for t in texts]


def test_required_labels_all_go_on_and_later_ones_only_where_they_cover_nothing():
    # twelve labels on one spot, then one alone in a far corner
    fig, ax = _axes()
    crowd = [(500.0, 500.0, f"SH-{i:02d} a long estate name", {"fontsize": 8}) for i in range(12)]
    items = [*crowd, (100.0, 100.0, "SH-99 alone", {"fontsize": 8})]
    texts = static_map.place_labels(ax, items, required=2)
    names = [t.get_text() for t in texts]
    # the two required ones are on; of the rest of the crowd only those that found a free position, and the lone one
    assert names[:2] == ["SH-00 a long estate name", "SH-01 a long estate name"]
    assert "SH-99 alone" in names
    assert 2 < len(names) < len(items)
    assert names == [text for _, _, text, _ in items if text in names]  # in the items' order
    boxes = _boxes(fig, texts)
    for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2):
        assert not boxes_overlap(a, b), (names[i], names[j])
    # a label left out leaves nothing drawn behind
    assert len(ax.texts) == len(texts)


def test_a_label_that_fits_nowhere_is_left_out_unless_required():
    _fig, ax = _axes()
    avoid = [ax.get_window_extent()]  # the whole map is taken
    assert static_map.place_labels(ax, [(500.0, 500.0, "SH-01", {"fontsize": 8})], avoid=avoid, required=0) == []
    assert len(ax.texts) == 0
    placed = static_map.place_labels(ax, [(500.0, 500.0, "SH-01", {"fontsize": 8})], avoid=avoid, required=1)
    assert [t.get_text() for t in placed] == ["SH-01"]


def test_the_limit_stops_the_labels_and_their_texts_are_made_only_when_reached():
    _fig, ax = _axes(8.0)
    made = []

    def make(x, y):
        made.append((x, y))
        return x, y, f"P{x:.0f}-{y:.0f}", {"fontsize": 7}

    chosen = [(x, y) for x in range(50, 1000, 100) for y in range(50, 1000, 100)]  # 100 places 100 units apart
    items = static_map.LabelItems(chosen, make)
    assert len(items) == 100 and made == []
    texts = static_map.place_labels(ax, items, limit=5, required=0)
    assert len(texts) == 5
    assert len(made) < 20  # the 95 places past the limit were never asked for their label
    assert items[3] == make(*chosen[3])


def test_place_names_that_overlap_one_before_them_are_hidden():
    fig, ax = _axes()
    names = [ax.annotate(text, (x, 500.0), ha="center", va="center", fontsize=8)
             for text, x in [("Shenming", 300.0), ("Shenmingba park", 320.0), ("Tianzi lake", 700.0), ("Off map", 5000.0)]]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    a, b, c = (Text.get_window_extent(t, renderer) for t in names[:3])
    assert boxes_overlap(a, b) and not boxes_overlap(a, c) and not boxes_overlap(b, c)
    shown = static_map.thin_place_names(names)
    assert [t.get_text() for t in shown] == ["Shenming", "Tianzi lake"]
    assert [t.get_visible() for t in names] == [True, False, True, True]  # the one off the map is left as it is
