"""The one-page coverage briefing (geo.maps.briefing, ``python -m geo map --out briefing.pdf|png``) and the static-map pieces."""

from __future__ import annotations

import re
import struct

import pandas as pd
import pytest
from matplotlib.text import Text

from geo.cli.main import main
from geo.maps import static_map

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def drawn(monkeypatch):
    """Capture the texts of every figure the briefing saves: ``[(x, y, text), ...]`` in figure fractions, one list per figure."""
    figures: list[list[tuple[float, float, str]]] = []
    real = static_map.figure_bytes

    def spy(fig, fmt, **kw):
        figures.append([(*t.get_position(), t.get_text()) for t in fig.texts])
        return real(fig, fmt, **kw)

    monkeypatch.setattr(static_map, "figure_bytes", spy)
    return figures


def _counts_from_report(path) -> dict[str, int]:
    """Counts computed from the coverage report's own CSV, independently of the briefing's code."""
    report = pd.read_csv(path, encoding="utf-8-sig")
    status = report["status"].value_counts()
    out = {s: int(status.get(s, 0)) for s in ("covered", "coverable", "gap")}
    out["cross"] = int(((report["status"] == "covered") & (report["covering_count"] >= 2)).sum())
    out["total"] = len(report)
    return out


def _row(texts, label: str) -> tuple[str, str]:
    """The default and strict figures drawn on the line of ``label`` in the briefing's panel."""
    y = next(y for x, y, t in texts if t.strip() == label and x > 0.5)
    numbers = sorted((x, t) for x, yy, t in texts if abs(yy - y) < 1e-9 and x > 0.8)
    return numbers[0][1], numbers[1][1]


def _pdf_title(data: bytes) -> str:
    """The document title of a PDF's info dictionary (a literal string, UTF-16 with a byte-order mark when not ASCII)."""
    start = data.index(b"/Title (") + len(b"/Title (")
    out, depth, i = bytearray(), 0, start
    escapes = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}
    while True:
        c = data[i]
        if c == ord("\\"):
            nxt = data[i + 1]
            if nxt in escapes:
                out += escapes[nxt]
                i += 2
            elif ord("0") <= nxt <= ord("7"):
                digits = re.match(rb"[0-7]{1,3}", data[i + 1:i + 4]).group(0)
                out.append(int(digits, 8))
                i += 1 + len(digits)
            else:
                out.append(nxt)
                i += 2
            continue
        if c == ord("("):
            depth += 1
        elif c == ord(")"):
            if depth == 0:
                break
            depth -= 1
        out.append(c)
        i += 1
    raw = bytes(out)
    return raw[2:].decode("utf-16-be") if raw.startswith(b"\xfe\xff") else raw.decode("latin-1")


def test_briefing_figures_equal_the_coverage_report_of_the_shipped_data(data_copy, tmp_path, drawn, capsys):
    assert main(["coverage", "--out", str(tmp_path / "default.csv")]) == 0
    assert main(["coverage", "--strict", "--out", str(tmp_path / "strict.csv")]) == 0
    default, strict = _counts_from_report(tmp_path / "default.csv"), _counts_from_report(tmp_path / "strict.csv")
    assert default["total"] == strict["total"] == 24
    capsys.readouterr()

    assert main(["map", "--out", str(tmp_path / "briefing.pdf"), "--lang", "zh"]) == 0
    texts = drawn[-1]
    assert _row(texts, "已覆盖") == (str(default["covered"]), str(strict["covered"]))
    assert _row(texts, "其中交叉巡逻（≥2支队伍）") == (str(default["cross"]), str(strict["cross"]))
    assert _row(texts, "应延伸覆盖") == (str(default["coverable"]), str(strict["coverable"]))
    assert _row(texts, "盲区（1000米内无队伍）") == (str(default["gap"]), str(strict["gap"]))
    assert _row(texts, "合计") == ("24", "24")
    # Every estate not covered by default is listed with the cheapest fix the report recommends.
    report = pd.read_csv(tmp_path / "default.csv", encoding="utf-8-sig")
    for _, row in report[report["status"] != "covered"].iterrows():
        listed = [t for _x, _y, t in texts if t.startswith(f"{row['estate_id']} ")]
        assert listed, row["estate_id"]
        if row["status"] == "coverable":
            fix = f"{row['recommended_team_id']} 延伸 {row['recommended_extension_m']:,.0f} 米（往返）"
            assert fix in [t for _x, _y, t in texts]
    everything = "\n".join(t for _x, _y, t in texts)
    assert "近似" in everything and "合成的演示数据" in everything  # provenance: approximate positions, synthetic routes
    assert re.search(r"日期：\d{4}-\d{2}-\d{2}", everything)
    assert "estates.geojson" in everything and "patrol_routes.geojson" in everything  # source line

    out = capsys.readouterr().out
    assert f"default {default['covered']} covered ({default['cross']} cross-patrolled) / {default['coverable']} coverable" in out


def test_briefing_pdf_is_one_page_with_the_chinese_title(data_copy, tmp_path):
    path = tmp_path / "briefing.pdf"
    assert main(["map", "--out", str(path)]) == 0
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page(?![s\w])", data)) == 1
    assert _pdf_title(data) == "沙河街道老旧小区巡防覆盖简报"
    assert b"/FontFile2" in data  # the CJK font is embedded (text, not outlines): opens the same on any machine


def test_briefing_png_is_a4_landscape_and_english_when_asked(data_copy, tmp_path, drawn):
    path = tmp_path / "briefing.png"
    assert main(["map", "--out", str(path), "--lang", "en"]) == 0
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert abs(width / height - 297 / 210) < 0.01 and width >= 1700  # A4 landscape at 150 dpi
    texts = [t for _x, _y, t in drawn[-1]]
    assert "Shahe subdistrict: patrol coverage of the old estates" in texts
    assert _row(drawn[-1], "covered") == ("17", "0")
    # English only, proper nouns aside: no Chinese in any text that is not an estate line.
    for text in texts:
        if not re.match(r"SH-\d\d ", text):
            assert not CJK.search(text), text


def test_language_comes_from_shahe_lang(data_copy, tmp_path, drawn, monkeypatch):
    from geo import settings

    monkeypatch.setattr(settings, "lang", "en")
    assert main(["map", "--out", str(tmp_path / "b.png")]) == 0
    assert "Date: " in "\n".join(t for _x, _y, t in drawn[-1])


def test_an_output_over_a_data_file_is_refused_before_drawing(data_copy, capsys):
    before = (data_copy / "estates.geojson").read_bytes()
    assert main(["map", "--out", str(data_copy / "estates.pdf")]) == 0  # a new file beside the data: written
    capsys.readouterr()
    assert main(["map", "--out", str(data_copy / "patrol_routes.geojson")]) == 2  # a data file: never replaced
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --out ")
    assert (data_copy / "estates.geojson").read_bytes() == before


def test_labels_of_points_at_one_spot_do_not_overlap():
    fig, _ = static_map.new_figure("en", figsize=(4, 4))
    ax = fig.add_subplot()
    ax.set_xlim(0, 1000)
    ax.set_ylim(0, 1000)
    items = [(500.0 + i, 500.0, f"SH-{i:02d} estate", {"fontsize": 8}) for i in range(8)]
    fig.canvas.draw()
    texts = static_map.place_labels(ax, items)
    renderer = fig.canvas.get_renderer()
    boxes = [Text.get_window_extent(t, renderer) for t in texts]  # the text itself; a leader line may cross another label
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            overlap_w = min(a.x1, b.x1) - max(a.x0, b.x0)
            overlap_h = min(a.y1, b.y1) - max(a.y0, b.y0)
            assert overlap_w <= 0 or overlap_h <= 0


@pytest.mark.parametrize(("width_m", "expected_m"), [(4000.0, 1000.0), (3000.0, 500.0), (900.0, 200.0), (10000.0, 2000.0)])
def test_scale_bar_is_a_round_number_of_metres(width_m, expected_m):
    # A quarter of the width, rounded down to 1, 2 or 5 x 10^k: 1000 -> 1000, 750 -> 500, 225 -> 200, 2500 -> 2000.
    fig, _ = static_map.new_figure("zh")
    ax = fig.add_subplot()
    ax.set_xlim(0, width_m)
    ax.set_ylim(0, width_m)
    assert static_map.add_scale_bar(ax, lang="zh") == expected_m
    labels = [t.get_text() for t in ax.texts]
    assert f"{expected_m:,.0f}" in labels and "米" in labels


def greedy_groups(xs, ys, within_m):
    """Each point joins the first group (in order of creation) whose first point is within ``within_m``: every group tried."""
    groups = []
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        for g in groups:
            if (xs[g[0]] - x) ** 2 + (ys[g[0]] - y) ** 2 <= within_m**2:
                g.append(i)
                break
        else:
            groups.append([i])
    return groups


def text_box(t, renderer):
    """The box of a label's text on screen, without its leader line (an annotation's position updated first)."""
    if hasattr(t, "update_positions"):
        t.update_positions(renderer)
    return Text.get_window_extent(t, renderer)


def boxes_overlap(a, b) -> bool:
    """Whether two display boxes share an area (touching edges do not count)."""
    return min(a.x1, b.x1) - max(a.x0, b.x0) > 0 and min(a.y1, b.y1) - max(a.y0, b.y0) > 0


@pytest.mark.parametrize("seed", range(4))
def test_grouping_by_grid_cells_is_the_greedy_grouping(seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    n = 1500
    # Clusters, points on the 100 m cell lines and exactly 100 m apart, repeated points, negative coordinates.
    xs = np.concatenate([rng.normal(0, 300, n), np.repeat(np.arange(-5, 5) * 100.0, 20), [0.0, 100.0, 200.0, 0.0, -100.0]])
    ys = np.concatenate([rng.normal(0, 300, n), np.tile(np.arange(-10, 10) * 100.0 + 50.0 * (seed % 2), 10), [0.0, 0.0, 0.0, 100.0, -100.0]])
    order = rng.permutation(len(xs))
    xs, ys = xs[order], ys[order]
    for within in (100.0, 37.5):
        assert static_map.group_points(None, xs, ys, within_m=within) == greedy_groups(xs.tolist(), ys.tolist(), within)


def test_a_briefing_of_thousands_of_estates_labels_the_most_urgent_and_lists_what_fits(tmp_path, monkeypatch):
    """2,000 synthetic estates: 40 labels at most (gaps first), a note of how many places there are, and the list of
    estates to fix cut where the page ends, with the number left out; the figures still equal the report's."""
    import numpy as np

    from benchmarks import scale
    from geo import settings

    estates_path, routes_path = scale.write_geojson(scale.generate("district", incidents=False), tmp_path)
    pages = []
    real = static_map.figure_bytes

    def spy(fig, fmt, **kw):
        renderer = fig.canvas.get_renderer()
        pages.append(([(*t.get_position(), t.get_text()) for t in fig.texts],
                      [t for ax in fig.axes for t in ax.texts],
                      {id(t): text_box(t, renderer) for ax in fig.axes for t in ax.texts},
                      fig.axes[0].get_legend().get_window_extent(renderer)))
        return real(fig, fmt, **kw)

    monkeypatch.setattr(static_map, "figure_bytes", spy)
    assert main(["coverage", "--estates", str(estates_path), "--routes", str(routes_path), "--out", str(tmp_path / "r.csv")]) == 0
    assert main(["map", "--estates", str(estates_path), "--routes", str(routes_path), "--out", str(tmp_path / "b.png")]) == 0
    texts, map_texts, boxes, legend = pages[-1]
    report = pd.read_csv(tmp_path / "r.csv", encoding="utf-8-sig")
    counts = _counts_from_report(tmp_path / "r.csv")
    assert _row(texts, "应延伸覆盖")[0] == str(counts["coverable"]) and _row(texts, "盲区（1000米内无队伍）")[0] == str(counts["gap"])

    # The list: the first estates to fix (gaps first), then how many more; nothing below the notes at the foot of the page.
    listed = [t.split(" ")[0] for x, y, t in texts if x > 0.6 and re.match(r"^E\d{6} ", t)]
    more = [int(re.search(r"另有(\d+)个", t).group(1)) for x, y, t in texts if "另有" in t and "见覆盖报告" in t]
    to_fix = report[report["status"] != "covered"]
    assert 3 <= len(listed) < len(to_fix) and more == [len(to_fix) - len(listed)]
    gaps = sorted(report.loc[report["status"] == "gap", "estate_id"])
    assert listed == gaps[:len(listed)]
    notes_top = max(y for x, y, t in texts if x < 0.1 and y < 0.2) + 0.015
    assert min(y for x, y, t in texts if x > 0.6) - 0.04 > notes_top

    # The map: at most LABELS_MAX labels, every gap place among them, and a note of how many are labelled of how many.
    labels = [t for t in map_texts if t.get_text() and re.match(r"^E\d{6}", t.get_text())]
    assert static_map.LABELS_MAX - 5 <= len(labels) <= static_map.LABELS_MAX
    pts = _estate_positions(report, estates_path, settings.metric_crs)
    places = greedy_groups(pts[0].tolist(), pts[1].tolist(), 100.0)
    note = [t for t in map_texts if t.get_text().startswith("地图只标注")]
    assert [t.get_text() for t in note] == [f"地图只标注{len(labels)}处（共{len(places)}处）：最需处理的优先，挤不下的从略"]
    labelled = "\n".join(t.get_text() for t in labels)
    gap_ids = set(gaps)
    gap_places = [g for g in places if gap_ids & {report["estate_id"].iloc[i] for i in g}]
    assert 0 < len(gap_places) < static_map.LABELS_MAX
    for g in gap_places:
        assert any(report["estate_id"].iloc[i] in labelled for i in g if report["estate_id"].iloc[i] in gap_ids)
    # past the gaps a label goes only where it covers no other label, the legend or the note
    gap_labels = [t for t in labels if gap_ids & set(re.findall(r"E\d{6}", t.get_text()))]
    assert len(gap_labels) == len(gap_places)
    for t in labels:
        if t in gap_labels:
            continue
        others = [boxes[id(o)] for o in [*labels, *note] if o is not t] + [legend]
        assert not [o for o in others if boxes_overlap(boxes[id(t)], o)], t.get_text()
    assert np.isfinite(pts[0]).all()


def _estate_positions(report, estates_path, crs):
    """The estates' positions in ``crs``, in the report's order (read with geopandas, not the project's reader)."""
    import geopandas as gpd

    frame = gpd.read_file(estates_path).to_crs(crs).set_index("estate_id").loc[report["estate_id"]]
    return frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
