"""Static maps drawn on the server with matplotlib: no internet, Chinese through Debian's Noto CJK font.

The pieces every printed map of the project shares: the font, the offline
basemap (outline, water, roads of the data folder, all approximate), estate
groups and labels placed so that they do not overlap, a scale bar in metres,
a north arrow and the bytes of the figure as PNG or PDF. Used by the
rectification briefing's progress map (:mod:`geo.rectification.briefing`) and
the coverage briefing (:mod:`geo.maps.briefing`). Everything is drawn in the
metric CRS (:data:`geo.settings.metric_crs`), so one axis unit is one metre.
"""

from __future__ import annotations

import io as _stdio
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from geo import settings

__all__ = [
    "CJK_FONT_PATHS",
    "LABELS_MAX",
    "SYMBOLS_FULL_SIZE",
    "SYMBOLS_MIN_SCALE",
    "LabelItems",
    "add_north_arrow",
    "add_scale_bar",
    "cjk_font",
    "draw_basemap",
    "figure_bytes",
    "fit_extent",
    "group_points",
    "label_places",
    "labels_note",
    "labels_note_text",
    "new_figure",
    "place_labels",
    "places_by_need",
    "point_boxes",
    "symbol_scale",
    "thin_place_names",
]

#: Where Debian's fonts-noto-cjk puts the font that draws Chinese in pictures.
CJK_FONT_PATHS: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)


#: Estates a printed map draws with full-size symbols; with more, the symbols shrink (:func:`symbol_scale`):
#: 2,000 full-size symbols hid the map under them, 170,000 made one carpet.
SYMBOLS_FULL_SIZE = 300
#: The smallest factor of a symbol's area (a cross stays about 4 points wide).
SYMBOLS_MIN_SCALE = 0.06

#: Labels on a printed map at most: the places that most need attention first (each map says which those are).
#: More labels than this do not fit on a page (2,000 estates made 1,300 labels that covered each other and the
#: symbols, and took two minutes to place); the map says how many it labelled of how many (:func:`labels_note`).
#: Past the places that must be named (overdue, gaps), a label goes only where it covers nothing (:func:`place_labels`).
LABELS_MAX = 40


def symbol_scale(n: int) -> float:
    """The factor of the symbols' areas on a map of ``n`` estates: 1 up to :data:`SYMBOLS_FULL_SIZE`, then smaller.

    The areas shrink as ``SYMBOLS_FULL_SIZE / n`` (the ink of all symbols stays
    about that of the full-size ones), to no less than :data:`SYMBOLS_MIN_SCALE`
    so that the smallest symbol stays visible.
    """
    return max(SYMBOLS_MIN_SCALE, min(1.0, SYMBOLS_FULL_SIZE / max(n, 1)))


#: The note of a map that labels only some places: (Chinese, English).
_LABELS_NOTE = ("地图只标注{shown}处（共{total}处）：最需处理的优先，挤不下的从略",
                "Labelled: {shown} of {total} places, the most urgent first where they fit")


def labels_note(ax, shown: int, total: int, *, lang: str = "zh"):
    """Write in the upper left of ``ax`` that ``shown`` of ``total`` places are labelled; the text, or None when all are.

    The count can be corrected once the labels are placed (:func:`labels_note_text`).
    """
    if total <= shown:
        return None
    return ax.text(0.01, 0.99, labels_note_text(shown, total, lang=lang), transform=ax.transAxes, ha="left", va="top",
                   fontsize=7.5, color="#333333", zorder=8,
                   bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#999999", "alpha": 0.92})


def labels_note_text(shown: int, total: int, *, lang: str = "zh") -> str:
    """The words of :func:`labels_note`."""
    return _LABELS_NOTE[0 if lang == "zh" else 1].format(shown=shown, total=total)


def cjk_font() -> str | None:
    """Register Debian's Noto CJK font with matplotlib and return its family name (None when it is not installed)."""
    from matplotlib import font_manager

    for path in CJK_FONT_PATHS:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    return None


def new_figure(lang: str = "zh", *, figsize: tuple[float, float] = (8.0, 6.5), dpi: int = 150):
    """A matplotlib figure on its own Agg canvas (no pyplot state, so pictures can be drawn from several threads at once).

    Sets the CJK font (Debian's Noto CJK) as the first font family when it is installed.

    Returns
    -------
    (matplotlib.figure.Figure, bool)
        The figure and whether Chinese will show (True for ``lang="en"``).
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    font = cjk_font()
    if font:
        matplotlib.rcParams["font.family"] = [font, "DejaVu Sans"]
    matplotlib.rcParams["pdf.fonttype"] = 42  # embed the font itself, so text stays text (searchable, sharp)
    matplotlib.rcParams["axes.unicode_minus"] = False
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig, bool(font) or lang != "zh"


def draw_basemap(ax, data_dir: str | Path | None = None, *, labels: bool = True) -> list:
    """Draw the data folder's offline basemap (outline, water, river, roads; approximate) on ``ax`` in the metric CRS.

    Returns
    -------
    list of matplotlib Text
        The place names drawn (for :func:`place_labels` to keep clear of).
    """
    import geopandas as gpd

    data_dir = Path(data_dir or settings.data_dir)
    metric = settings.metric_crs
    roads = data_dir / "gazetteer.geojson"
    if roads.exists():
        gz = gpd.read_file(roads).to_crs(metric)
        gz[gz.geom_type.isin(["LineString", "MultiLineString"])].plot(ax=ax, color="#c8c8c8", linewidth=0.7, zorder=1)
    base = data_dir / "basemap.geojson"
    if not base.exists():
        return []
    bm = gpd.read_file(base).to_crs(metric)
    if "kind" not in bm:
        return []
    kind = bm["kind"]
    bm[kind == "outline"].boundary.plot(ax=ax, color="#555555", linewidth=1.2, linestyle=(0, (6, 2)), zorder=1)
    bm[kind.isin(["water"])].plot(ax=ax, color="#d6e9f5", edgecolor="#a9cbe3", linewidth=0.5, zorder=1)
    bm[kind.isin(["river"])].plot(ax=ax, color="#a9cbe3", linewidth=2.0, zorder=1)
    if not labels:
        return []
    return [ax.annotate(str(row.get("name", "")), (row.geometry.x, row.geometry.y), fontsize=8, color="#7a7a7a", ha="center",
                        va="center", zorder=2, annotation_clip=True)
            for _, row in bm[kind == "label"].iterrows()]


def thin_place_names(names: list) -> list:
    """Hide each place name that overlaps one shown before it (a map zoomed out over the basemap); the names shown.

    Call once the axes' limits are final (positions are measured on screen).
    """
    shown, boxes = [], np.zeros((0, 4))
    for name in names:
        if not name.get_visible():
            continue
        box = np.array([name.get_window_extent().extents])
        if not _overlaps(box, np.array([name.axes.get_window_extent().extents]))[0]:  # off the map: not drawn
            continue
        if boxes.size and _overlaps(box, boxes)[0] > 0:
            name.set_visible(False)
            continue
        shown.append(name)
        boxes = np.vstack([boxes, box])
    return shown


def fit_extent(ax, xmin: float, ymin: float, xmax: float, ymax: float, *, pad_m: float = 0.0) -> None:
    """Show at least the box (metres, plus ``pad_m`` around) at one metre per metre both ways, filling the axes."""
    fig = ax.figure
    bbox = ax.get_position(original=True)
    w_in, h_in = bbox.width * fig.get_figwidth(), bbox.height * fig.get_figheight()
    xmin, xmax, ymin, ymax = xmin - pad_m, xmax + pad_m, ymin - pad_m, ymax + pad_m
    scale = max((xmax - xmin) / w_in, (ymax - ymin) / h_in)  # metres per inch
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    ax.set_xlim(cx - scale * w_in / 2, cx + scale * w_in / 2)
    ax.set_ylim(cy - scale * h_in / 2, cy + scale * h_in / 2)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xticks([])
    ax.set_yticks([])


def group_points(ids, xs, ys, *, within_m: float = 100.0) -> list[list[int]]:
    """Indices of points grouped greedily: each point joins the first group whose first point is within ``within_m`` metres.

    The groups' first points are kept in a grid of ``within_m`` cells, so a
    point looks only at the groups of its own and the eight neighbouring
    cells (a first point within ``within_m`` lies in one of them): the same
    groups as trying every group in turn, in time proportional to the points.
    """
    groups: list[list[int]] = []
    cells: dict[tuple[int, int], list[int]] = {}
    limit = within_m**2
    for i, (x, y) in enumerate(zip(np.asarray(xs, dtype=float).tolist(), np.asarray(ys, dtype=float).tolist(), strict=True)):
        cx, cy = math.floor(x / within_m), math.floor(y / within_m)
        near = [k for dx in (-1, 0, 1) for dy in (-1, 0, 1) for k in cells.get((cx + dx, cy + dy), ())
                if (xs[groups[k][0]] - x) ** 2 + (ys[groups[k][0]] - y) ** 2 <= limit]
        if near:
            groups[min(near)].append(i)
        else:
            cells.setdefault((cx, cy), []).append(len(groups))
            groups.append([i])
    return groups


def places_by_need(ids, xs, ys, codes, *, limit: int | None = None, within_m: float = 100.0) -> tuple[list, int]:
    """The places to label (points grouped by :func:`group_points`), those that most need attention first, at most ``limit``.

    ``codes`` ranks each point (lower: more pressing); a place counts by its
    most pressing point, and places of one rank keep the points' order.

    Returns
    -------
    tuple
        ``(chosen, places)``: ``(group, most pressing point)`` pairs of point
        indices, at most ``limit`` (default: every place), and the number of places.
    """
    groups = group_points(ids, xs, ys, within_m=within_m)
    first_of = [min(g, key=codes.__getitem__) for g in groups]
    chosen = sorted(range(len(groups)), key=lambda k: codes[first_of[k]])[:limit]  # stable: the points' order within a rank
    return [(groups[k], first_of[k]) for k in chosen], len(groups)


class LabelItems(Sequence):
    """The labels of a map's places, made when :func:`place_labels` reaches them: item ``k`` is ``make(*chosen[k])``.

    A map of many places labels a few dozen of them; their texts are not made for the rest.
    """

    def __init__(self, chosen: list, make: Callable):
        self._chosen, self._make = chosen, make

    def __len__(self) -> int:
        return len(self._chosen)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        return self._make(*self._chosen[k])


#: Offsets (points) of a label from its anchor tried in order, with the alignment that keeps the text clear of the symbol.
_CANDIDATES = (
    ((7, 5), "left", "bottom"), ((7, -5), "left", "top"), ((-7, 5), "right", "bottom"), ((-7, -5), "right", "top"),
    ((0, 10), "center", "bottom"), ((0, -10), "center", "top"), ((16, 0), "left", "center"), ((-16, 0), "right", "center"),
    ((14, 16), "left", "bottom"), ((-14, -16), "right", "top"), ((14, -16), "left", "top"), ((-14, 16), "right", "bottom"),
    ((0, 24), "center", "bottom"), ((0, -24), "center", "top"), ((30, 0), "left", "center"), ((-30, 0), "right", "center"),
)


def place_labels(ax, items, *, avoid=(), limit: int | None = None, required: int | None = None) -> list:
    """Place labels where they overlap no label placed before them (nor the ``avoid`` boxes); first items first.

    Parameters
    ----------
    ax
        The axes (its limits must be final: positions are measured on screen).
    items
        ``(x, y, text, style)`` in data units, in order of need; ``style`` is a dict of text options (fontsize,
        weight, colour).
    avoid
        Display-space ``Bbox`` objects labels must not cover (e.g. the legend).
    limit
        At most this many labels (default: one per item).
    required
        The first ``required`` items are always labelled: one that fits nowhere goes where it overlaps least,
        drawn with a leader line. Every later item is labelled only where it overlaps nothing, and left out
        otherwise, so a crowded corner does not bury the legend or its neighbours under text. Default: every
        item is required.

    Returns
    -------
    list of matplotlib Text
        The labels placed, in the order of their items.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    required = len(items) if required is None else required
    limit = len(items) if limit is None else limit
    # Boxes placed so far as rows of x0, y0, x1, y1: the candidates' overlaps with all of them are one NumPy product.
    placed = np.zeros((len(avoid) + min(limit, len(items)), 4))
    for k, b in enumerate(avoid):
        placed[k] = b.extents
    count = len(avoid)
    frame = ax.get_window_extent(renderer)
    out = []
    for k, (x, y, text, style) in enumerate(items):
        if len(out) >= limit:
            break
        # The label is measured once; each candidate position moves the same box (an offset and an alignment).
        ann = ax.annotate(text, (x, y), xytext=_CANDIDATES[0][0], textcoords="offset points", ha="left", va="bottom",
                          zorder=6, bbox=_LABEL_BOX, **style)
        boxes = _candidate_boxes(ann.get_window_extent(renderer), fig.dpi)
        overlaps = _overlaps(boxes, placed[:count])
        overlaps += np.where(_inside_all(boxes, frame), 0.0, 1e9)
        free = np.flatnonzero(overlaps == 0)
        if free.size:
            n = int(free[0])
        elif k < required:
            n = int(np.argmin(overlaps))  # the first of the least overlapping
        else:
            ann.remove()  # a later item that fits nowhere is left out
            continue
        offset, ha, va = _CANDIDATES[n]
        if n >= 8:  # moved away from its symbol: a thin leader line says which symbol it names
            ann.remove()
            ann = ax.annotate(text, (x, y), xytext=offset, textcoords="offset points", ha=ha, va=va, zorder=6,
                              arrowprops={"arrowstyle": "-", "color": "#666666", "lw": 0.6, "shrinkA": 0, "shrinkB": 4},
                              bbox=_LABEL_BOX, **style)
        elif n:
            ann.xyann = offset
            ann.set_horizontalalignment(ha)
            ann.set_verticalalignment(va)
        placed[count] = boxes[n]
        count += 1
        out.append(ann)
    return out


def label_places(ax, items, places: int, *, urgent: int, avoid=(), note=None, lang: str = "zh") -> list:
    """Label a map's places, at most :data:`LABELS_MAX`, and correct the count of its ``note`` (:func:`labels_note`).

    ``items`` are the places' labels in order of need, the first ``urgent`` of
    them places that must be named (gaps, overdue estates). Up to the cap
    every place is labelled; above it the urgent ones always are and the
    others only where their label covers nothing (:func:`place_labels`).
    ``avoid`` as for :func:`place_labels`; the note is kept clear too.

    Returns
    -------
    list of matplotlib Text
        The labels placed.
    """
    required = urgent if places > LABELS_MAX else len(items)
    if note is not None:
        avoid = [*avoid, note.get_window_extent()]
    labels = place_labels(ax, items, avoid=avoid, limit=LABELS_MAX, required=required)
    if note is not None:
        note.set_text(labels_note_text(len(labels), places, lang=lang))
    return labels


#: The white box behind a label.
_LABEL_BOX = {"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85}
#: How much a label's box is widened (and heightened) around its centre before it is tested against others.
_BOX_MARGIN = (1.04, 1.1)


def _candidate_boxes(extent, dpi: float) -> np.ndarray:
    """The label's box (rows x0, y0, x1, y1, display units) at each of :data:`_CANDIDATES`, from its box at the first.

    ``extent`` is the label's text measured at the first candidate (left and bottom aligned: its lower left corner
    is the anchor moved by the first offset); another candidate moves the same box by the difference of the offsets
    and by its alignment. The margin of :data:`_BOX_MARGIN` is added around the centre.
    """
    w, h = extent.width, extent.height
    ox0, oy0 = _CANDIDATES[0][0]
    offsets = np.array([c[0] for c in _CANDIDATES], dtype=float)
    ha = np.array([{"left": 0.0, "center": 0.5, "right": 1.0}[c[1]] for c in _CANDIDATES])
    va = np.array([{"bottom": 0.0, "center": 0.5, "top": 1.0}[c[2]] for c in _CANDIDATES])
    x0 = extent.x0 + (offsets[:, 0] - ox0) * dpi / 72.0 - ha * w
    y0 = extent.y0 + (offsets[:, 1] - oy0) * dpi / 72.0 - va * h
    mx, my = w * (_BOX_MARGIN[0] - 1) / 2, h * (_BOX_MARGIN[1] - 1) / 2
    return np.column_stack([x0 - mx, y0 - my, x0 + w + mx, y0 + h + my])


def _overlaps(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """The area each of ``boxes`` shares with ``others`` (both rows x0, y0, x1, y1), summed over ``others``."""
    w = np.minimum(boxes[:, None, 2], others[None, :, 2]) - np.maximum(boxes[:, None, 0], others[None, :, 0])
    h = np.minimum(boxes[:, None, 3], others[None, :, 3]) - np.maximum(boxes[:, None, 1], others[None, :, 1])
    return np.sum(np.where((w > 0) & (h > 0), w * h, 0.0), axis=1)


def _inside_all(boxes: np.ndarray, frame) -> np.ndarray:
    return (boxes[:, 0] >= frame.x0) & (boxes[:, 2] <= frame.x1) & (boxes[:, 1] >= frame.y0) & (boxes[:, 3] <= frame.y1)


def point_boxes(ax, xs, ys, *, radius_px: float = 8.0) -> list:
    """Display-space boxes around points (data units) that labels must not cover (their symbols)."""
    from matplotlib.transforms import Bbox

    pts = ax.transData.transform(list(zip(xs, ys, strict=True))) if len(xs) else []
    return [Bbox.from_extents(x - radius_px, y - radius_px, x + radius_px, y + radius_px) for x, y in pts]


def _nice_length(max_m: float) -> float:
    """The largest 1, 2 or 5 × 10^k metres not above ``max_m``."""
    k = 10 ** int(f"{max_m:e}".split("e")[1])
    for step in (5, 2, 1):
        if step * k <= max_m:
            return float(step * k)
    return float(k / 2)


def add_scale_bar(ax, *, lang: str = "zh", fraction: float = 0.25) -> float:
    """Draw a black-and-white scale bar in metres in the lower right of ``ax`` (metric CRS); return its length in metres."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length((x1 - x0) * fraction)
    right = x1 - (x1 - x0) * 0.04
    left = right - length
    base = y0 + (y1 - y0) * 0.04
    h = (y1 - y0) * 0.008
    half = length / 2
    ax.add_patch(_rect(left, base, half, h, "black"))
    ax.add_patch(_rect(left + half, base, half, h, "white"))
    unit = "米" if lang == "zh" else "m"
    for pos, value in ((left, 0), (left + half, half), (right, length)):
        ax.text(pos, base + h * 1.8, f"{value:,.0f}", ha="center", va="bottom", fontsize=7, zorder=7)
    ax.text(right + (x1 - x0) * 0.012, base + h / 2, unit, ha="left", va="center", fontsize=7, zorder=7)
    return length


def _rect(x, y, w, h, colour):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=colour, edgecolor="black", linewidth=0.6, zorder=7)


def add_north_arrow(ax, *, lang: str = "zh") -> None:
    """Draw a north arrow in the upper right of ``ax`` (grid north of EPSG:4545, within 0.1° of true north at Shahe)."""
    ax.annotate("北" if lang == "zh" else "N", xy=(0.95, 0.95), xytext=(0.95, 0.86), xycoords="axes fraction", ha="center", va="center",
                fontsize=11, fontweight="bold", zorder=7,
                arrowprops={"arrowstyle": "-|>,head_width=0.5,head_length=0.8", "color": "black", "lw": 1.6})


def figure_bytes(fig, fmt: str, *, dpi: int = 150, metadata: dict | None = None) -> bytes:
    """The figure as ``png`` or ``pdf`` bytes (one page)."""
    if fmt not in ("png", "pdf"):
        msg = f"unknown picture format {fmt!r}: use png or pdf"
        raise ValueError(msg)
    buf = _stdio.BytesIO()
    meta = dict(metadata or {})
    if fmt == "pdf":
        meta.setdefault("Creator", "沙河街道巡防覆盖工具 · Shahe patrol coverage")
    else:
        meta = {k: v for k, v in meta.items() if k in ("Title", "Author", "Description", "Software")}
    fig.savefig(buf, format=fmt, dpi=dpi, metadata=meta)
    return buf.getvalue()
