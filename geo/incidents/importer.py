"""Importing incident exports (CSV or XLSX, Chinese or English headers) into the store, with a rejects file.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo import crs as _crs
from geo import settings
from geo._atomic import atomic_writer
from geo._lock import store_lock
from geo._outputs import check_output
from geo._validate import ascii_text, is_blank, lonlat_problem, parse_degrees
from geo.errors import DataFileError, DatumError, GeoError, SchemaError
from geo.incidents.store import STORE_COLUMNS, check_store_header, ends_with_newline
from geo.incidents.taxonomy import classify, map_source, parse_label_table
from geo.incidents.times import TIME_ONLY_RE, format_time, parse_time
from geo.io.tables import TABLE_SUFFIXES, Input, Source, as_input, iter_records
from geo.io.writers import guard_cell

# --- import ---------------------------------------------------------------------

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

Geocoder = Callable[[str], object]


def _default_geocoder(address: str):
    from geo import geocode  # imported here: the geocoder is optional for everything else

    return geocode.geocode_address(address)


@dataclass
class ImportResult:
    """What an import did.

    Attributes
    ----------
    read
        Data rows seen (empty rows included).
    imported, rejected, empty
        Rows written to the store, rows rejected (see the rejects file), empty rows skipped.
    duplicates
        Rejected rows whose id was already in the store or earlier in the file.
    geocoded
        Imported rows whose position came from the geocoder.
    store_total
        Incidents in the store after the import.
    out, rejects_path
        The store, and the rejects file (None when nothing was rejected).
    rejects
        The first rejects as ``(row, reason)``, at most 1000.
    """

    read: int = 0
    imported: int = 0
    rejected: int = 0
    empty: int = 0
    duplicates: int = 0
    geocoded: int = 0
    store_total: int = 0
    out: Path | None = None
    rejects_path: Path | None = None
    rejects: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line: how many rows were read, imported, rejected and skipped."""
        line = (
            f"read {self.read} rows: imported {self.imported}, rejected {self.rejected}"
            f" ({self.duplicates} duplicate ids), skipped {self.empty} empty; geocoded {self.geocoded}"
        )
        if self.rejects_path is not None:
            line += f"; rejects in {self.rejects_path}"
        if self.out is not None:
            line += f"; {self.out} now holds {self.store_total} incidents"
        return line


def resolve_columns(headers: Iterable[str], mapping: dict[str, str] | None = None) -> dict[str, str]:
    """Match a file's headers to the importer's fields.

    Parameters
    ----------
    headers
        The file's header names.
    mapping
        ``{"header in the file": "field"}`` pairs that win over :data:`HEADER_ALIASES`;
        a field is one of its keys, or ``"ignore"``.

    Returns
    -------
    dict
        ``{field: header}``.

    Raises
    ------
    SchemaError
        If the mapping names unknown headers or fields, or the file lacks a time,
        a category or a location.
    """
    headers = [str(h).strip() for h in headers]
    problems: list[str] = []
    found: dict[str, str] = {}
    used: set[str] = set()
    for header, fld in (mapping or {}).items():
        if header not in headers:
            problems.append(f"mapping: header {header!r} is not in the file (its headers: {', '.join(headers)})")
        elif fld != "ignore" and fld not in HEADER_ALIASES:
            problems.append(f"mapping: {header!r} -> {fld!r}: unknown field; use one of {', '.join(HEADER_ALIASES)} or 'ignore'")
        else:
            used.add(header)
            if fld != "ignore":
                found[fld] = header
    lower = {h.lower(): h for h in headers if h not in used}
    for fld, aliases in HEADER_ALIASES.items():
        if fld in found:
            continue
        for a in aliases:
            if a.lower() in lower:
                found[fld] = lower.pop(a.lower())
                break
    if "time" not in found and "date" not in found:
        problems.append("no time column: name it 报警时间 / time, or map yours with --mapping '{\"your header\": \"time\"}'")
    if "category" not in found and "subcategory" not in found:
        problems.append("no category column: name it 警情类别 / category, or map yours with --mapping")
    if not (("lon" in found and "lat" in found) or "address" in found):
        problems.append("no location: give 经度 and 纬度 (lon, lat) columns or an address column (发案地址)")
    if problems:
        raise SchemaError("the file's columns cannot be matched to incidents", problems)
    return found


def _iter_chunks(path: Input, chunksize: int) -> tuple[list[str], Iterator[pd.DataFrame]]:
    """Return the headers and an iterator of object DataFrames of at most ``chunksize`` rows.

    Rows come from :func:`geo.io.tables.iter_records` (XLSX cells raw, so
    Excel dates stay dates); empty CSV cells are None.
    """
    if path.suffix not in TABLE_SUFFIXES:
        msg = f"{path}: unsupported file type {path.suffix!r}; import .csv or .xlsx"
        raise DataFileError(msg)
    if path.size() == 0:
        msg = f"{path}: the file is empty; it needs a header row"
        raise DataFileError(msg)
    encoding, records = iter_records(path, raw=True)
    header_row = next(records, None)
    if header_row is None:
        msg = f"{path}: the file has no header row; it needs one"
        raise DataFileError(msg)
    headers = _header_names(header_row)
    width = len(headers)
    is_csv = encoding != "xlsx"

    def gen() -> Iterator[pd.DataFrame]:
        batch: list = []
        try:
            for k, rec in enumerate(records, start=2):
                if len(rec) > width and any(not is_blank(v) for v in rec[width:]):
                    msg = f"{path}: row {k} has {len(rec)} cells but the header has {width}; a comma inside a value needs quotes"
                    raise DataFileError(msg)
                cells = list(rec[:width]) + [None] * (width - len(rec))
                batch.append([None if is_csv and v == "" else v for v in cells])
                if len(batch) >= chunksize:
                    yield pd.DataFrame(batch, columns=headers, dtype=object)
                    batch = []
            if batch:
                yield pd.DataFrame(batch, columns=headers, dtype=object)
        finally:
            records.close()

    return headers, gen()


def _header_names(row: tuple) -> list[str]:
    """Header names: stripped, ``column N`` for an empty one, ``name.1`` for a repeated one."""
    out: list[str] = []
    for i, h in enumerate(row):
        name = str(h).strip().lstrip("\ufeff").strip() if h is not None and str(h).strip() else f"column {i + 1}"
        base, k = name, 0
        while name in out:
            k += 1
            name = f"{base}.{k}"
        out.append(name)
    return out


def _content_id(t: dt.datetime, cat: str, sub: str | None, lon, lat, address) -> str:
    key = "|".join(str(v) for v in (t.isoformat(), cat, sub or "", lon, lat, address or ""))
    return "H" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:15]


class _Context:
    def __init__(self, columns, datum, source, geocoder, existing_ids, labels):
        self.columns = columns
        self.labels = labels
        self.datum = datum
        self.source = source
        self.geocoder = geocoder
        self.ids_seen: dict[str, int] = {}
        self.existing = existing_ids
        self.geocache: dict[str, object] = {}


def _process_chunk(chunk: pd.DataFrame, first_row: int, ctx: _Context, result: ImportResult, rejects_out) -> list[list]:
    """Validate one chunk; return store rows and write rejects. Row numbers count the header as row 1."""
    cols = ctx.columns

    def get(rec, fld):
        h = cols.get(fld)
        return None if h is None else rec.get(h)

    pending: list[dict] = []
    for k, rec in enumerate(chunk.to_dict("records")):
        row = first_row + k
        result.read += 1
        if all(is_blank(v) for v in rec.values()):
            result.empty += 1
            continue
        reasons: list[str] = []
        # time
        t = None
        time_v, date_v = get(rec, "time"), get(rec, "date")
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
            cat, sub = classify(get(rec, "category"), get(rec, "subcategory"), extra=ctx.labels)
        except ValueError as exc:
            reasons.append(str(exc))
        # source
        src_label = get(rec, "source")
        src = map_source(src_label) if not is_blank(src_label) else ctx.source
        if src is None:
            if is_blank(src_label):
                reasons.append("no source: add a source column (110, 刑事案件, 矛盾纠纷登记) or pass --source")
            else:
                reasons.append(f"source label {str(src_label).strip()!r} maps to nothing; use 110, 刑事案件 (criminal_case) or 矛盾纠纷登记 (dispute_register)")
        # location
        lon_v, lat_v = get(rec, "lon"), get(rec, "lat")
        address = get(rec, "address")
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
            d_label = get(rec, "datum")
            if not is_blank(d_label):
                try:
                    datum = _crs.normalize_datum(str(d_label))
                except DatumError as exc:
                    reasons.append(f"datum: {exc}")
        # id
        iid = get(rec, "incident_id")
        if not is_blank(iid):
            iid = _id_text(iid)
        elif t is not None and cat is not None:
            iid = _content_id(t, cat, sub, lon_v, lat_v, address)
        if reasons:
            _reject(rejects_out, result, row, "; ".join(reasons), rec)
            continue
        if iid in ctx.existing:
            result.duplicates += 1
            _reject(rejects_out, result, row, f"duplicate id {iid!r}: already in the store (the stored incident is kept)", rec)
            continue
        if iid in ctx.ids_seen:
            result.duplicates += 1
            _reject(rejects_out, result, row, f"duplicate id {iid!r}: first used on row {ctx.ids_seen[iid]} (that row is kept)", rec)
            continue
        ctx.ids_seen[iid] = row
        text = get(rec, "text")
        synth = get(rec, "synthetic")
        pending.append(
            {
                "row": row,
                "rec": rec,
                "incident_id": iid,
                "time": format_time(t),
                "category": cat,
                "subcategory": sub or "",
                "source": src,
                "lon": lon,
                "lat": lat,
                "datum": datum,
                "address": address or "",
                "text": "" if is_blank(text) else str(text).strip(),
                "synthetic": "true" if not is_blank(synth) and str(synth).strip().lower() in {"true", "1", "yes", "是"} else "false",
            }
        )
    # Convert declared datums to WGS-84, one vectorised call per datum.
    for datum in {p["datum"] for p in pending if p["lon"] is not None}:
        group = [p for p in pending if p["lon"] is not None and p["datum"] == datum]
        if datum != "wgs84":
            x, y = _crs.convert(np.array([p["lon"] for p in group]), np.array([p["lat"] for p in group]), src=datum, dst="wgs84")
            for p, xi, yi in zip(group, np.atleast_1d(x), np.atleast_1d(y), strict=True):
                p["lon"], p["lat"] = float(xi), float(yi)
        for p in group:
            p["quality"] = "given" if datum == "wgs84" else f"given_{datum}"
    out_rows: list[list] = []
    for p in pending:
        if p["lon"] is None:
            addr = p["address"]
            if addr not in ctx.geocache:
                try:
                    ctx.geocache[addr] = ctx.geocoder(addr)
                except GeoError as exc:
                    ctx.geocache[addr] = exc
            g = ctx.geocache[addr]
            if isinstance(g, Exception) or getattr(g, "lon", None) is None or getattr(g, "lat", None) is None:
                note = str(g) if isinstance(g, Exception) else (getattr(g, "note", "") or "no reason given")
                del ctx.ids_seen[p["incident_id"]]
                _reject(rejects_out, result, p["row"], f"address {addr!r} could not be geocoded: {note}; add 经度/纬度 or fix the address", p["rec"])
                continue
            p["lon"], p["lat"] = float(g.lon), float(g.lat)
            p["quality"] = str(getattr(g, "quality", "") or "geocoded")
            result.geocoded += 1
        prec = settings.coordinate_precision
        out_rows.append(
            [
                guard_cell(p["incident_id"]),
                p["time"],
                p["category"],
                p["subcategory"],
                p["source"],
                f"{p['lon']:.{prec}f}",
                f"{p['lat']:.{prec}f}",
                guard_cell(p["address"]),
                guard_cell(p["text"]),
                p["synthetic"],
                p["quality"],
            ]
        )
    result.imported += len(out_rows)
    return out_rows


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


def _reject(out, result: ImportResult, row: int, reason: str, rec: dict) -> None:
    result.rejected += 1
    if len(result.rejects) < 1000:
        result.rejects.append((row, reason))
    raw = json.dumps({k: _plain(v) for k, v in rec.items()}, ensure_ascii=False)
    out.writerow([row, reason, raw])


def _plain(v):
    if is_blank(v):
        return None
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, (np.integer, np.floating)):
        return v.item()
    return v


def read_mapping(path: str | os.PathLike) -> dict:
    """Read a mapping JSON file for :func:`import_incidents`.

    Either ``{"header in the file": "field"}``, or
    ``{"columns": {"header": "field"}, "labels": {"label": "category/subcategory"}}``.
    """
    path = Path(path)
    try:
        with open(path, encoding="utf-8-sig") as fh:
            doc = json.load(fh)
    except OSError as exc:
        msg = f"{path}: cannot be read ({exc})"
        raise DataFileError(msg) from exc
    except json.JSONDecodeError as exc:
        msg = f"{path}: malformed JSON at line {exc.lineno}: {exc.msg}"
        raise DataFileError(msg) from exc
    parts = [doc.get("columns", {}), doc.get("labels", {})] if isinstance(doc, dict) and ({"columns", "labels"} & set(doc)) else [doc]
    if not all(isinstance(d, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in d.items()) for d in parts):
        msg = f"{path}: a mapping is a JSON object of header -> field, e.g. {{\"报警时间\": \"time\"}}, or {{\"columns\": {{...}}, \"labels\": {{\"盗电瓶\": \"盗窃/其他盗窃\"}}}}"
        raise DataFileError(msg)
    return doc


def import_incidents(
    path: Source,
    *,
    name: str | None = None,
    out: str | os.PathLike | None = None,
    datum: str | None = None,
    mapping: dict[str, str] | None = None,
    source: str | None = None,
    rejects: str | os.PathLike | None = None,
    geocoder: Geocoder | None = None,
    chunksize: int | None = None,
    synthetic: bool | None = None,
) -> ImportResult:
    """Import a CSV or XLSX file of incidents into the store, validating every row.

    The file is read in chunks (memory stays bounded whatever its size). Rows
    with coordinates are converted from their datum (a ``datum`` column, else
    ``datum``, else WGS-84) to WGS-84; rows with only an address are geocoded.
    Every rejected row goes to the rejects file with its row number (the header
    is row 1) and reason. New rows are appended to an existing store; an id
    already stored, or used earlier in the file, is rejected as a duplicate.
    The store is written atomically: after an error it is exactly as before.

    Parameters
    ----------
    path
        ``.csv`` (UTF-8, UTF-8 with BOM or GB18030/GBK, detected; comma- or
        tab-separated) or ``.xlsx`` (first sheet): a path, bytes or a binary file object.
    name
        The file's name for messages and its format (needed for bytes).
    out
        The store (default ``data/incidents.csv``).
    datum
        Datum of coordinates for rows without a ``datum`` column value (wgs84, gcj02, bd09).
    mapping
        ``{"header in the file": "field"}`` overriding :data:`HEADER_ALIASES`, or
        ``{"columns": {...}, "labels": {"label": "category/subcategory"}}`` adding the
        user's own labels to :data:`LABEL_TABLE` (see :func:`read_mapping`).
    source
        Source for rows without a source column value (e.g. ``"110"`` for a 110 export).
    rejects
        Rejects CSV (default ``<out folder>/<file stem>_rejects.csv``); written only when a row is rejected.
    geocoder
        ``f(address) -> object`` with ``lon``, ``lat``, ``quality``, ``note`` (``lon`` None
        when it failed); default :func:`geo.geocode.geocode_address`.
    chunksize
        Rows per chunk (default :data:`geo.settings.incident_import_chunksize`).
    synthetic
        Mark every imported row synthetic (True) or not (False); None keeps a ``synthetic`` column.

    Returns
    -------
    ImportResult

    Raises
    ------
    DataFileError
        If the file cannot be read, or ``out`` is not an incident store.
    SchemaError
        If the columns cannot be matched (no time, category or location).
    """
    path = as_input(path, name=name)
    out = Path(out) if out is not None else settings.data_path("incidents.csv")
    rejects_path = Path(rejects) if rejects is not None else out.parent / f"{Path(path.label).stem}_rejects.csv"
    check_output(out, reads=(path.path,), owns=("incidents.csv",))
    check_output(rejects_path, reads=(path.path, out), option="--rejects")
    datum = _crs.normalize_datum(datum) if datum else "wgs84"
    if source is not None:
        src = map_source(source)
        if src is None:
            msg = f"source {source!r} is unknown; use 110, criminal_case or dispute_register"
            raise SchemaError(msg)
        source = src
    chunksize = int(chunksize or settings.incident_import_chunksize)
    headers, chunks = _iter_chunks(path, chunksize)
    mapping = mapping or {}
    if {"columns", "labels"} & set(mapping) and all(isinstance(v, dict) for v in mapping.values()):
        column_map, labels = mapping.get("columns", {}), parse_label_table(mapping.get("labels", {}))
    else:
        column_map, labels = mapping, {}
    try:
        columns = resolve_columns(headers, column_map)
    except SchemaError as exc:
        msg = f"{path}: {exc.summary}"
        raise SchemaError(msg, exc.problems) from None

    with store_lock(out):  # a second import waits, then appends to what the first wrote
        existing: set[str] = set()
        store_total = 0
        if out.exists() and out.stat().st_size > 0:
            check_store_header(out)
            ids = pd.read_csv(out, encoding="utf-8-sig", usecols=["incident_id"], dtype=str, keep_default_na=False)["incident_id"]
            existing = set(ids)
            store_total = len(ids)
        result = ImportResult(out=out)
        ctx = _Context(columns, datum, source, geocoder or _default_geocoder, existing, labels)
        with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as rej_tmp:
            rej_writer = csv.writer(rej_tmp)
            with atomic_writer(out, "w", encoding="utf-8", newline="") as fh:
                if store_total or existing:
                    with open(out, encoding="utf-8", newline="") as old:
                        shutil.copyfileobj(old, fh)
                    fh.seek(0, os.SEEK_END)
                    if not ends_with_newline(out):
                        fh.write("\r\n")
                    writer = csv.writer(fh)
                else:
                    fh.write("\ufeff")
                    writer = csv.writer(fh)
                    writer.writerow(STORE_COLUMNS)
                row = 2
                for chunk in chunks:
                    rows = _process_chunk(chunk, row, ctx, result, rej_writer)
                    if synthetic is not None:
                        for r in rows:
                            r[9] = "true" if synthetic else "false"
                    writer.writerows(rows)
                    row += len(chunk)
            if result.rejected:
                rej_tmp.seek(0)
                with atomic_writer(rejects_path, "w", encoding="utf-8-sig", newline="") as rf:
                    csv.writer(rf).writerow(["row", "reason", "values"])
                    shutil.copyfileobj(rej_tmp, rf)
                result.rejects_path = rejects_path
    result.store_total = store_total + result.imported
    return result
