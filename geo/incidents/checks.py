"""Checking the rows of an incident import: column by column for a whole chunk, row by row for what the columns cannot settle.

:func:`check_chunk` reads each column of a chunk in bulk (times in the common
formats with :func:`geo.incidents.times.parse_times_bulk`, coordinates as
plain numbers, each distinct label, source and datum looked up once). A row
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
from geo._validate import ascii_text, blank_mask, is_blank, lonlat_problem, parse_degrees, text_mask
from geo.errors import DatumError
from geo.incidents import bulk
from geo.incidents.taxonomy import classify, map_source
from geo.incidents.times import TIME_ONLY_RE, format_time, format_times_bulk, parse_time, parse_times_bulk

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
        self.ids_seen: dict[str, int] = {}
        self.existing = existing_ids
        self.geocache: dict[str, object] = {}


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



def check_chunk(chunk: pd.DataFrame, ctx: ImportContext, empty: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Check a chunk column by column; rows the columns cannot settle go through :func:`check_row`.

    Returns
    -------
    values : dict
        One array per field: ``time`` (store text), ``category``, ``subcategory``, ``source``, ``lon``, ``lat``, ``datum``,
        ``address``, ``text``, ``synthetic``, ``incident_id`` (``lon``/``lat`` float, NaN when
        only an address was given; ``synthetic`` bool).
    reasons : numpy.ndarray of object
        The reason a row is rejected, None for rows that pass and for empty rows.
    """
    n = len(chunk)
    cols = ctx.columns
    text_only = bool(chunk.attrs.get("text_only"))
    ok = ~empty
    cells: dict[str, np.ndarray] = {}
    for fld in HEADER_ALIASES:
        if fld in cols:
            a = chunk[cols[fld]].to_numpy(dtype=object)
            if not text_only:
                # Spreadsheet numbers and dates are read row by row, as they always were.
                other = ~text_mask(a) & ~np.asarray(pd.isna(a), dtype=bool)
                ok &= ~other
                a = np.where(other, None, a)
            cells[fld] = a
        else:
            cells[fld] = np.full(n, None, dtype=object)
    v: dict[str, np.ndarray] = {}
    # time: the time column, else the date; a date column and a clock-only time column joined.
    text = cells["time"].copy()
    if "date" in cols:
        time_blank = blank_mask(text)
        date_blank = blank_mask(cells["date"])
        text[time_blank] = cells["date"][time_blank]
        both = np.flatnonzero(~time_blank & ~date_blank)
    if "date" in cols and len(both):
        clock = pd.Series(cells["time"][both], dtype=object).str.fullmatch(r"\d{1,2}:\d{2}(?::\d{2})?").to_numpy(dtype=bool)
        day = pd.Series(cells["date"][both], dtype=object).str.fullmatch(r"\d{4}[-/]\d{1,2}[-/]\d{1,2}").to_numpy(dtype=bool)
        ok[both[clock & ~day]] = False
        join = both[clock & day]
        text[join] = cells["date"][join] + " " + cells["time"][join]
    t = parse_times_bulk(text)
    ok &= ~np.isnat(t)
    # category and source: each distinct label looked up once.
    pairs, failed = bulk.map_unique_pairs(cells["category"], cells["subcategory"], lambda c, s: classify(c, s, extra=ctx.labels))
    ok &= ~failed
    v["category"] = np.array([p[0] if p else None for p in pairs.tolist()], dtype=object)
    v["subcategory"] = np.array([(p[1] or "") if p else "" for p in pairs.tolist()], dtype=object)
    src, _ = bulk.map_unique(cells["source"], lambda x: map_source(x) if not is_blank(x) else ctx.source)
    ok &= src != None  # noqa: E711
    v["source"] = src
    # location: plain numbers in China, or no coordinates and an address.
    lon, lat = bulk.degrees(cells["lon"]), bulk.degrees(cells["lat"])
    has_xy = ~np.isnan(lon) & ~np.isnan(lat)
    v["address"] = bulk.stripped_text(cells["address"])
    no_xy = np.zeros(n, dtype=bool)
    maybe = np.flatnonzero(~has_xy)
    no_xy[maybe] = blank_mask(cells["lon"][maybe]) & blank_mask(cells["lat"][maybe])
    ok &= (has_xy & (lonlat_problem(lon, lat) == "")) | (no_xy & (v["address"] != None))  # noqa: E711
    datums, failed = bulk.map_unique(cells["datum"], lambda x: ctx.datum if is_blank(x) else _crs.normalize_datum(str(x)), errors=(DatumError,))
    ok &= ~(failed & has_xy)
    v["datum"] = datums
    v["lon"], v["lat"] = np.where(has_xy, lon, np.nan), np.where(has_xy, lat, np.nan)
    # id: the given one, else a hash of the row's content.
    ids = bulk.stripped_text(cells["incident_id"])
    raw = cells["incident_id"][ids != None]  # noqa: E711
    if len(raw) and not "".join(raw.tolist()).isascii():
        ids[ids != None] = [_id_text(x) for x in raw.tolist()]  # noqa: E711
    v["incident_id"] = ids
    v["text"] = bulk.stripped_text(cells["text"])
    v["text"][v["text"] == None] = ""  # noqa: E711
    flags, _ = bulk.map_unique(cells["synthetic"], lambda x: not is_blank(x) and str(x).strip().lower() in _TRUE_WORDS)
    v["synthetic"] = flags.astype(bool)
    v["time"] = np.full(n, None, dtype=object)
    fast = np.flatnonzero(ok)
    v["time"][fast] = format_times_bulk(t[fast])
    reasons = np.full(n, None, dtype=object)
    # Rows the columns could not settle: checked one by one, which also words every rejection.
    slow = np.flatnonzero(~ok & ~empty)
    for i, rec in zip(slow.tolist(), chunk.iloc[slow].to_dict("records"), strict=True):
        why, got = check_row({k: None if _missing(x) else x for k, x in rec.items()}, ctx)
        if why:
            reasons[i] = "; ".join(why)
            continue
        for fld, x in got.items():
            v[fld][i] = x
    # Content ids of rows without one (fast rows only: _check_row made its own).
    need = np.flatnonzero(ok & (v["incident_id"] == None))  # noqa: E711
    for i in need.tolist():
        v["incident_id"][i] = content_id(
            v["time"][i][:19], v["category"][i], v["subcategory"][i] or None, _cell(cells["lon"][i]), _cell(cells["lat"][i]), v["address"][i]
        )
    return v, reasons


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and np.isnan(x))


def _cell(x):
    """A CSV cell as the row-by-row reader gave it: None for an empty cell."""
    return None if _missing(x) else x


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


