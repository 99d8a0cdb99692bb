"""Checking the rows of an incident import: column by column for a whole chunk, row by row for what the columns cannot settle.

:func:`check_chunk` reads each column of a chunk in bulk, as Arrow text
(:mod:`geo.incidents.cells`): times in the common formats with
:func:`geo.incidents.times.parse_times_bulk`, coordinates as plain numbers,
each distinct label, source and datum looked up once, ids, addresses and
descriptions stripped without a Python string per cell. A row
that any column cannot settle goes through :func:`check_row`, the cell-by-cell
check that words every rejection, so a message never depends on the rows
around it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import numpy as np
import pandas as pd

from geo import crs as _crs
from geo._validate import ascii_text, blank_mask, is_blank, lonlat_problem, lonlat_sides, parse_degrees
from geo.errors import DatumError
from geo.incidents import bulk
from geo.incidents.cells import Chunk, blank, missing, stripped
from geo.incidents.taxonomy import classify, map_source
from geo.incidents.times import TIME_ONLY_RE, format_time, format_times_text, parse_time, parse_times_bulk, read_common_times
from geo.io.arrow_text import patched

#: Header names recognised for each field (case-insensitive; Chinese or English).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "incident_id": ("incident_id", "id", "警情编号", "接警编号", "接警单号", "案件编号", "事件编号", "编号"),
    "time": ("time", "datetime", "reported_at", "报警时间", "接警时间", "发案时间", "案发时间", "登记时间", "时间"),
    "date": ("date", "日期", "报警日期", "发案日期", "登记日期"),
    "category": ("category", "type", "警情类别", "警情类型", "案件类别", "案件类型", "纠纷类型", "类别", "类型", "案由"),
    "subcategory": ("subcategory", "subtype", "警情细类", "案件细类", "细类", "小类", "子类"),
    "source": ("source", "来源", "数据来源"),
    "lon": ("lon", "lng", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"),
    "datum": ("datum", "坐标系", "坐标系统"),
    "address": ("address", "location", "发案地址", "案发地址", "报警地址", "事发地址", "发生地址", "地址"),
    "text": ("text", "description", "summary", "简要案情", "警情内容", "报警内容", "内容", "描述"),
    "synthetic": ("synthetic",),
}


class ImportContext:
    """What the checks of one import share: the column map, defaults, the ids seen so far and the geocoder's answers."""

    def __init__(self, columns, datum, source, geocoder, existing_ids, labels, synthetic=None):
        self.columns = columns
        self.labels = labels
        self.datum = datum
        self.source = source
        self.geocoder = geocoder
        self.synthetic = synthetic
        self.ids_seen = SeenIds()
        self.existing = existing_ids
        self.geocache: dict[str, object] = {}


class SeenIds:
    """The ids an import has kept so far, and the row that kept each.

    The ids are one set; the rows stay in the arrays they came in (a chunk
    whose ids are all new is kept in one call) and are looked up only to word
    a duplicate: the first few by a search of the chunks, newest first, then
    through a dict of them all. An id added or released alone is recorded
    alone, so the row of an id is always that of its latest keeping.
    """

    def __init__(self):
        self._ids: set[str] = set()
        self._chunks: list[tuple[list[str], np.ndarray]] = []
        self._indexed = 0  # chunks already in _index
        self._index: dict[str, int] = {}
        self._single: dict[str, int] = {}
        self._searches = 0

    def add_new(self, ids: list[str], rows: np.ndarray) -> bool:
        """Keep ``ids`` (at ``rows``) when none is kept already and none repeats; False, keeping none, otherwise."""
        if not self._ids.isdisjoint(ids) or len(set(ids)) != len(ids):
            return False
        self._ids.update(ids)
        self._chunks.append((ids, rows))
        return True

    def __contains__(self, iid: str) -> bool:
        return iid in self._ids

    def row(self, iid: str) -> int:
        """The row that keeps ``iid``."""
        if iid in self._single:
            return self._single[iid]
        if self._searches < _ROW_SEARCHES:
            self._searches += 1
            for ids, rows in reversed(self._chunks):  # a chunk's ids are distinct: the newest chunk holding it keeps it
                if iid in ids:
                    return int(rows[ids.index(iid)])
        for ids, rows in self._chunks[self._indexed :]:
            self._index.update(zip(ids, rows.tolist(), strict=True))  # later chunks after earlier ones: the latest keeping wins
        self._indexed = len(self._chunks)
        return self._index[iid]

    def add(self, iid: str, row: int) -> None:
        """Keep ``iid`` at ``row`` (it is not kept already)."""
        self._ids.add(iid)
        self._single[iid] = row

    def release(self, iid: str) -> None:
        """Forget ``iid`` (its row was rejected after all), so a later row may use it."""
        self._ids.remove(iid)
        self._single.pop(iid, None)


#: Duplicates whose first row :meth:`SeenIds.row` finds by a search before it makes a dict of every row.
_ROW_SEARCHES = 8


def check_row(rec: dict, ctx: ImportContext) -> tuple[list[str], dict]:
    """Check one row cell by cell: the reasons it is rejected (empty when none) and its values.

    The messages users see come from here: the column-wise pass of
    :func:`check_chunk` sends every row it cannot settle to this function.
    """
    cols = ctx.columns

    def get(fld):
        h = cols.get(fld)
        return None if h is None else rec.get(h)

    reasons: list[str] = []
    # time
    t = None
    time_v, date_v = get("time"), get("date")
    try:
        if not is_blank(date_v) and not is_blank(time_v) and isinstance(time_v, (str, dt.time)) and _is_time_only(time_v):
            d = parse_time(date_v)
            tt = time_v if isinstance(time_v, dt.time) else _parse_clock(str(time_v))
            t = dt.datetime(d.year, d.month, d.day, tt.hour, tt.minute, tt.second)
        elif not is_blank(time_v):
            t = parse_time(time_v)
        elif not is_blank(date_v):
            t = parse_time(date_v)
        else:
            reasons.append("no time: the time column is empty")
    except ValueError as exc:
        reasons.append(f"time: {exc}")
    # category
    cat = sub = None
    try:
        cat, sub = classify(get("category"), get("subcategory"), extra=ctx.labels)
    except ValueError as exc:
        reasons.append(str(exc))
    # source
    src_label = get("source")
    src = map_source(src_label) if not is_blank(src_label) else ctx.source
    if src is None:
        if is_blank(src_label):
            reasons.append("no source: add a source column (110, 刑事案件, 矛盾纠纷登记) or pass --source")
        else:
            reasons.append(f"source label {str(src_label).strip()!r} maps to nothing; use 110, 刑事案件 (criminal_case) or 矛盾纠纷登记 (dispute_register)")
    # location
    lon_v, lat_v = get("lon"), get("lat")
    address = get("address")
    address = None if is_blank(address) else str(address).strip()
    lon = lat = None
    datum = ctx.datum
    if is_blank(lon_v) and is_blank(lat_v):
        if address is None:
            reasons.append("no location: neither coordinates (经度/纬度) nor an address")
    else:
        lon, lat = parse_degrees(lon_v), parse_degrees(lat_v)
        if lon is None or lat is None:
            which = "longitude" if lon is None else "latitude"
            raw = lon_v if lon is None else lat_v
            reasons.append(f"{which}: missing while the other coordinate is given" if is_blank(raw) else f"{which}: {raw!r} is not a number of degrees")
        elif (side := lonlat_problem(lon, lat)) == "swapped":
            reasons.append(f"longitude and latitude look swapped ({lon}, {lat}); put longitude (about 108.4 here) in the lon column")
        elif side == "outside":
            reasons.append(f"coordinates ({lon}, {lat}) lie outside China; check the numbers and that they are degrees")
        d_label = get("datum")
        if not is_blank(d_label):
            try:
                datum = _crs.normalize_datum(str(d_label))
            except DatumError as exc:
                reasons.append(f"datum: {exc}")
    # id
    iid = get("incident_id")
    if not is_blank(iid):
        iid = _id_text(iid)
    elif t is not None and cat is not None:
        iid = content_id(t.isoformat(), cat, sub, lon_v, lat_v, address)
    text, synth = get("text"), get("synthetic")
    values = {
        "time": None if t is None else format_time(t),
        "category": cat,
        "subcategory": sub or "",
        "source": src,
        "lon": np.nan if lon is None else lon,
        "lat": np.nan if lat is None else lat,
        "datum": datum,
        "address": address,
        "text": "" if is_blank(text) else str(text).strip(),
        "synthetic": not is_blank(synth) and str(synth).strip().lower() in _TRUE_WORDS,
        "incident_id": iid,
    }
    return reasons, values


_TRUE_WORDS = {"true", "1", "yes", "是"}


def content_id(iso: str, cat: str, sub: str | None, lon, lat, address) -> str:
    key = "|".join(str(v) for v in (iso, cat, sub or "", lon, lat, address or ""))
    return "H" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:15]



def check_chunk(chunk: Chunk, ctx: ImportContext, empty: np.ndarray) -> tuple[dict, np.ndarray]:
    """Check a chunk column by column; rows the columns cannot settle go through :func:`check_row`.

    Returns
    -------
    values : dict
        One array per field. Arrow text: ``time`` (store text), ``category``, ``subcategory``, ``source``,
        ``incident_id``, ``address`` (null when none) and ``text``. NumPy: ``datum`` (objects), ``lon``, ``lat``
        (float, NaN when only an address was given) and ``synthetic`` (bool).
    reasons : numpy.ndarray of object
        The reason a row is rejected, None for rows that pass and for empty rows.
    """
    import pyarrow as pa

    n = len(chunk)
    cols = ctx.columns
    ok = ~empty
    cells = {}  # Arrow text of each field: null where missing, and where a spreadsheet cell is not text
    for fld in HEADER_ALIASES:
        if fld in cols:
            ok &= ~chunk.other(cols[fld])  # spreadsheet numbers and dates are read row by row, as they always were
            cells[fld] = chunk.text(cols[fld])
        else:
            cells[fld] = pa.nulls(n, pa.string())
    v: dict = {}
    # time: the time column, else the date; a date column and a clock-only time column joined.
    if "date" not in cols:
        # the common shape read from the bytes; the rest as text
        t = read_common_times(cells["time"])
        rest = np.flatnonzero(np.isnat(t) & ~missing(cells["time"]))
        t[rest] = parse_times_bulk(cells["time"].take(pa.array(rest)).to_numpy(zero_copy_only=False))
    else:
        text = cells["time"].to_numpy(zero_copy_only=False)
        day_text = cells["date"].to_numpy(zero_copy_only=False)
        time_blank = blank_mask(text)
        date_blank = blank_mask(day_text)
        time_given = text.copy()
        text[time_blank] = day_text[time_blank]
        both = np.flatnonzero(~time_blank & ~date_blank)
        if len(both):
            clock = pd.Series(time_given[both], dtype=object).str.fullmatch(r"\d{1,2}:\d{2}(?::\d{2})?").to_numpy(dtype=bool)
            day = pd.Series(day_text[both], dtype=object).str.fullmatch(r"\d{4}[-/]\d{1,2}[-/]\d{1,2}").to_numpy(dtype=bool)
            ok[both[clock & ~day]] = False
            join = both[clock & day]
            text[join] = day_text[join] + " " + time_given[join]
        t = parse_times_bulk(text)
    ok &= ~np.isnat(t)
    # category and source: each distinct label looked up once.
    (v["category"], v["subcategory"]), failed = bulk.map_unique_pairs_text(
        cells["category"], cells["subcategory"], lambda c, s: _labels(classify(c, s, extra=ctx.labels)), 2
    )
    ok &= ~failed
    v["source"], _ = bulk.map_unique(cells["source"], lambda x: map_source(x) if not is_blank(x) else ctx.source, text=True)
    ok &= ~missing(v["source"])
    # location: plain numbers in China, or no coordinates and an address.
    lon, lat = bulk.degrees(cells["lon"]), bulk.degrees(cells["lat"])
    has_xy = ~np.isnan(lon) & ~np.isnan(lat)
    v["address"] = stripped(cells["address"])
    no_xy = ~has_xy & blank(cells["lon"]) & blank(cells["lat"])
    ok &= (has_xy & lonlat_sides(lon, lat)[0]) | (no_xy & ~missing(v["address"]))
    datums, failed = bulk.map_unique(cells["datum"], lambda x: ctx.datum if is_blank(x) else _crs.normalize_datum(str(x)), errors=(DatumError,))
    ok &= ~(failed & has_xy)
    v["datum"] = datums
    v["lon"], v["lat"] = np.where(has_xy, lon, np.nan), np.where(has_xy, lat, np.nan)
    # id: the given one, else a hash of the row's content.
    v["incident_id"] = _ids(cells["incident_id"])
    v["text"] = stripped(cells["text"]).fill_null("")
    flags, _ = bulk.map_unique(cells["synthetic"], lambda x: not is_blank(x) and str(x).strip().lower() in _TRUE_WORDS)
    v["synthetic"] = flags.astype(bool)
    v["time"] = format_times_text(np.where(ok, t, np.datetime64(0, "s")), ok)
    reasons = np.full(n, None, dtype=object)
    # Rows the columns could not settle: checked one by one, which also words every rejection.
    slow = np.flatnonzero(~ok & ~empty)
    patches: dict[str, tuple[list, list]] = {fld: ([], []) for fld in _ARROW_FIELDS}
    for i, rec in zip(slow.tolist(), chunk.records(slow), strict=True):
        why, got = check_row({k: None if _missing(x) else x for k, x in rec.items()}, ctx)
        if why:
            reasons[i] = "; ".join(why)
            continue
        for fld, x in got.items():
            if fld in patches:
                patches[fld][0].append(i)
                patches[fld][1].append(x)
            else:
                v[fld][i] = x
    for fld, (rows, values) in patches.items():
        v[fld] = patched(v[fld], rows, values)
    # Content ids of rows without one (fast rows only: check_row made its own).
    need = np.flatnonzero(ok & missing(v["incident_id"]))
    if len(need):
        at = pa.array(need)
        times, places = v["time"].take(at).to_pylist(), v["address"].take(at).to_pylist()
        cats, subs = v["category"].take(at).to_pylist(), v["subcategory"].take(at).to_pylist()
        lons, lats = cells["lon"].take(at).to_pylist(), cells["lat"].take(at).to_pylist()
        made = [content_id(times[k][:19], cats[k], subs[k] or None, lons[k], lats[k], places[k]) for k in range(len(need))]
        v["incident_id"] = patched(v["incident_id"], need, made)
    return v, reasons


def _labels(pair: tuple) -> tuple[str, str]:
    """The category and subcategory the store holds ("" for no subcategory)."""
    return pair[0], pair[1] or ""


#: Fields that :func:`check_chunk` gives as Arrow text.
_ARROW_FIELDS = ("time", "category", "subcategory", "source", "incident_id", "address", "text")


def _ids(cells):
    """The id cells as the row check reads them: stripped, null when blank; text beyond ASCII through :func:`_id_text`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = stripped(cells)
    odd = np.flatnonzero(~pc.fill_null(pc.string_is_ascii(cells), True).to_numpy(zero_copy_only=False) & ~missing(ids))
    if not len(odd):
        return ids
    return patched(ids, odd, [_id_text(x) for x in cells.take(pa.array(odd)).to_pylist()])


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and np.isnan(x))


def _id_text(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return ascii_text(str(v)).strip()


def _is_time_only(v) -> bool:
    return isinstance(v, dt.time) or bool(TIME_ONLY_RE.match(ascii_text(str(v)).strip()))


def _parse_clock(text: str) -> dt.time:
    nums = [int(n) for n in re.findall(r"\d+", ascii_text(text))]
    h = nums[0] + (12 if ("下午" in text or "晚上" in text) and nums[0] < 12 else 0)
    return dt.time(h, nums[1] if len(nums) > 1 else 0, nums[2] if len(nums) > 2 else 0)


