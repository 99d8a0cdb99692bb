"""Importing incident exports (CSV or XLSX, Chinese or English headers) into the store, with a rejects file.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
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
from geo._validate import is_blank
from geo.errors import DataFileError, GeoError, SchemaError
from geo.incidents import bulk
from geo.incidents.archive import parquet_frames
from geo.incidents.cells import Chunk
from geo.incidents.checks import HEADER_ALIASES, ImportContext, check_chunk
from geo.incidents.store import (
    PARQUET_SUFFIXES,
    STORE_COLUMNS,
    check_store_header,
    ends_with_newline,
    is_parquet,
    parquet_writer,
    read_parquet_store,
    store_batches,
    store_table,
)
from geo.incidents.taxonomy import map_source, parse_label_table
from geo.io.csv_text import arrow_quoted, csv_quoted, rows_bytes
from geo.io.tables import TABLE_SUFFIXES, Input, Source, as_input, csv_tables, iter_records

# --- import ---------------------------------------------------------------------

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


def _iter_chunks(path: Input, chunksize: int, *, bulk_csv: bool = True) -> tuple[list[str], Iterator[Chunk]]:
    """Return the headers and an iterator of chunks of at most ``chunksize`` rows.

    A CSV file is read by Arrow's reader (:func:`geo.io.tables.csv_tables`)
    when ``bulk_csv``, and its chunks stay Arrow tables; the reader raises on a
    row that is not regular (more or fewer cells than the header, an empty
    line, undecodable text), and the import then reads the file again with
    ``bulk_csv=False``. Otherwise rows come from
    :func:`geo.io.tables.iter_records` (XLSX cells raw, so Excel dates stay
    dates; empty CSV cells None) in pandas frames of objects.
    """
    if path.suffix in PARQUET_SUFFIXES:
        headers, frames = parquet_frames(path, chunksize)
        return headers, (Chunk(f, text_only=bool(f.attrs.get("text_only"))) for f in frames)
    if path.suffix not in TABLE_SUFFIXES:
        msg = f"{path}: unsupported file type {path.suffix!r}; import .csv, .xlsx or .parquet"
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
    if is_csv and bulk_csv and width:
        records.close()

        return headers, (Chunk(t) for t in csv_tables(path, headers, encoding=encoding, chunksize=chunksize))

    if is_csv:
        _check_widths(path, width)

    def frame(batch: list) -> Chunk:
        return Chunk(pd.DataFrame(batch, columns=headers, dtype=object), text_only=is_csv)

    def gen() -> Iterator[Chunk]:
        batch: list = []
        try:
            for k, rec in enumerate(records, start=2):
                if len(rec) > width and any(not is_blank(v) for v in rec[width:]):
                    msg = f"{path}: row {k} has {len(rec)} cells but the header has {width}; a comma inside a value needs quotes"
                    raise DataFileError(msg)
                cells = list(rec[:width]) + [None] * (width - len(rec))
                batch.append([None if is_csv and v == "" else v for v in cells])
                if len(batch) >= chunksize:
                    yield frame(batch)
                    batch = []
            if batch:
                yield frame(batch)
        finally:
            records.close()

    return headers, gen()


def _check_widths(path: Input, width: int) -> None:
    """Raise once for every CSV row with cells beyond the header that are not blank (one pass before anything is checked)."""
    _, records = iter_records(path, raw=True)
    wide: list[tuple[int, int]] = []
    try:
        next(records, None)
        for k, rec in enumerate(records, start=2):
            if len(rec) > width and any(not is_blank(v) for v in rec[width:]):
                wide.append((k, len(rec)))
    finally:
        records.close()
    if len(wide) == 1:
        (k, n), = wide
        msg = f"{path}: row {k} has {n} cells but the header has {width}; a comma inside a value needs quotes"
        raise DataFileError(msg)
    if wide:
        listed = ", ".join(f"{k} ({n} cells)" for k, n in wide[:50]) + (f" and {len(wide) - 50} more" if len(wide) > 50 else "")
        msg = f"{path}: {len(wide)} rows have more cells than the header's {width}: rows {listed}; a comma inside a value needs quotes"
        raise DataFileError(msg)


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


def _process_chunk(chunk: Chunk, first_row: int, ctx: ImportContext, result: ImportResult, rejects_out) -> list:
    """Validate one chunk; return the store's columns (text as Arrow or object arrays, formulas guarded; lon and lat as float arrays) and write rejects.

    Row numbers count the header as row 1.
    """
    n = len(chunk)
    result.read += n
    rows = first_row + np.arange(n)
    empty = bulk.empty_rows(chunk)
    result.empty += int(empty.sum())
    v, reasons = check_chunk(chunk, ctx, empty)
    # Duplicate ids, in file order: the first row with an id is kept.
    passed = (reasons == None) & ~empty  # noqa: E711 (element-wise)
    all_ids = v["incident_id"].to_numpy(zero_copy_only=False)
    ids = all_ids[passed].tolist()
    todo = np.flatnonzero(passed).tolist()
    if ctx.existing.isdisjoint(ids) and ctx.ids_seen.add_new(ids, rows[passed]):
        todo = []  # no id seen before (the usual case): every row keeps its id, recorded in one call
    for i in todo:
        iid = all_ids[i]
        if iid in ctx.existing:
            result.duplicates += 1
            reasons[i] = f"duplicate id {iid!r}: already in the store (the stored incident is kept)"
        elif iid in ctx.ids_seen:
            result.duplicates += 1
            reasons[i] = f"duplicate id {iid!r}: first used on row {ctx.ids_seen.row(iid)} (that row is kept)"
        else:
            ctx.ids_seen.add(iid, int(rows[i]))
    bad = np.flatnonzero(reasons != None)  # noqa: E711
    passed &= reasons == None  # noqa: E711
    if len(bad):
        recs = chunk.records(bad)
        for i, rec in zip(bad.tolist(), recs, strict=True):
            _reject(rejects_out, result, int(rows[i]), reasons[i], rec)
    keep = np.flatnonzero(passed)
    lon, lat = v["lon"][keep], v["lat"][keep]
    quality = np.full(len(keep), None, dtype=object)
    # Convert declared datums to WGS-84, one vectorised call per datum.
    given = ~np.isnan(lon)
    datum = v["datum"][keep]
    for d in pd.unique(datum[given]).tolist():
        sel = given & (datum == d)
        if d != "wgs84":
            lon[sel], lat[sel] = _crs.convert(lon[sel], lat[sel], src=d, dst="wgs84")
        quality[sel] = "given" if d == "wgs84" else f"given_{d}"
    # Rows with only an address: the geocoder, once per address.
    geocoded_ok = np.ones(len(keep), dtype=bool)
    for k in np.flatnonzero(~given).tolist():
        i = keep[k]
        addr = v["address"][i].as_py()
        if addr not in ctx.geocache:
            try:
                ctx.geocache[addr] = ctx.geocoder(addr)
            except GeoError as exc:
                ctx.geocache[addr] = exc
        g = ctx.geocache[addr]
        if isinstance(g, Exception) or getattr(g, "lon", None) is None or getattr(g, "lat", None) is None:
            note = str(g) if isinstance(g, Exception) else (getattr(g, "note", "") or "no reason given")
            ctx.ids_seen.release(all_ids[i])
            _reject(rejects_out, result, int(rows[i]), f"address {addr!r} could not be geocoded: {note}; add 经度/纬度 or fix the address", chunk.records([i])[0])
            geocoded_ok[k] = False
            continue
        lon[k], lat[k] = float(g.lon), float(g.lat)
        quality[k] = str(getattr(g, "quality", "") or "geocoded")
        result.geocoded += 1
    keep, lon, lat, quality = keep[geocoded_ok], lon[geocoded_ok], lat[geocoded_ok], quality[geocoded_ok]
    if ctx.synthetic is None:
        synth = np.where(v["synthetic"][keep].astype(bool), "true", "false")
    else:
        synth = np.full(len(keep), "true" if ctx.synthetic else "false")
    import pyarrow as pa

    at = pa.array(keep, type=pa.int64())

    def kept(cells):
        return cells if len(keep) == n else cells.take(at)  # every row kept (the usual chunk): the arrays as they are

    columns = [
        bulk.guard_texts(kept(v["incident_id"])),
        kept(v["time"]),
        kept(v["category"]),
        kept(v["subcategory"]),
        kept(v["source"]),
        lon,  # floats: each store writes them its way (_write_csv, _write_parquet)
        lat,
        bulk.guard_texts(kept(v["address"]).fill_null("")),
        bulk.guard_texts(kept(v["text"])),
        synth,
        quality,
    ]
    result.imported += len(keep)
    return columns


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


def _write(out: Path, rejects_path: Path, chunks: Iterator[Chunk], ctx: ImportContext, *, append: bool) -> ImportResult:
    """Check every chunk and write the store (appending to the rows it holds) and the rejects, each atomically."""
    result = ImportResult(out=out)
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as rej_tmp:
        rej_writer = csv.writer(rej_tmp)
        checked = (_process_chunk(chunk, row, ctx, result, rej_writer) for chunk, row in _numbered(chunks))
        if is_parquet(out):
            _write_parquet(out, checked, append=append)
        else:
            _write_csv(out, checked, append=append)
        if result.rejected:
            rej_tmp.seek(0)
            with atomic_writer(rejects_path, "w", encoding="utf-8-sig", newline="") as rf:
                csv.writer(rf).writerow(["row", "reason", "values"])
                shutil.copyfileobj(rej_tmp, rf)
            result.rejects_path = rejects_path
    return result


def _numbered(chunks: Iterator[Chunk]) -> Iterator[tuple[Chunk, int]]:
    """Each chunk with the file row number of its first row (the header is row 1)."""
    row = 2
    for chunk in chunks:
        yield chunk, row
        row += len(chunk)


def _write_csv(out: Path, checked: Iterator[list], *, append: bool) -> None:
    with atomic_writer(out, "wb") as fh:
        if append:
            with open(out, "rb") as old:
                shutil.copyfileobj(old, fh)
            fh.seek(0, os.SEEK_END)
            if not ends_with_newline(out):
                fh.write(b"\r\n")
        else:
            header = ",".join(csv_quoted(np.asarray(STORE_COLUMNS, dtype=object)).tolist())
            fh.write(f"\ufeff{header}\r\n".encode())
        prec = settings.coordinate_precision
        for columns in checked:
            if len(columns[0]):
                fh.write(rows_bytes([_csv_cells(j, c, prec) for j, c in enumerate(columns)]))


def _csv_cells(j: int, column, decimals: int):
    """The CSV cells of store column ``j`` as Arrow ``large_string``: coordinates with the store's decimals, free text quoted as csv.writer quotes it."""
    import pyarrow as pa

    if j in _COORDINATES:
        return bulk.fixed_text(column, decimals)
    cells = column.cast(pa.large_string()) if isinstance(column, pa.Array) else pa.array(np.asarray(column, dtype=object), type=pa.large_string())
    return arrow_quoted(cells) if j in _FREE_TEXT else cells


#: Store columns that may hold any text (ids, addresses, descriptions, geocoder notes).
_FREE_TEXT = tuple(STORE_COLUMNS.index(c) for c in ("incident_id", "address", "text", "x_geocode_quality"))
#: The coordinates, which a checked chunk gives as floats: text with the store's decimals in the CSV store, the
#: number that text reads as in the Parquet store.
_COORDINATES = tuple(STORE_COLUMNS.index(c) for c in ("lon", "lat"))


def _write_parquet(out: Path, checked: Iterator[list], *, append: bool) -> None:
    tables = (store_table(dict(zip(STORE_COLUMNS, _stored_coordinates(columns), strict=True))) for columns in checked)
    first = next(tables, None) or store_table({c: [] for c in STORE_COLUMNS})
    with atomic_writer(out, "wb") as fh, parquet_writer(fh, first.schema) as writer:
        if append:
            for batch in store_batches(out):
                writer.write_batch(batch)
        writer.write_table(first)
        for table in tables:
            writer.write_table(table)


def _stored_coordinates(columns: list) -> list:
    prec = settings.coordinate_precision
    return [bulk.stored_degrees(c, prec) if j in _COORDINATES else c for j, c in enumerate(columns)]


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
            if is_parquet(out):
                ids = read_parquet_store(out, columns=["incident_id"])["incident_id"]
            else:
                check_store_header(out)
                ids = pd.read_csv(out, encoding="utf-8-sig", usecols=["incident_id"], dtype=str, keep_default_na=False)["incident_id"]
            existing = set(ids)
            store_total = len(ids)

        def run(chunks: Iterator[Chunk]) -> ImportResult:
            ctx = ImportContext(columns, datum, source, geocoder or _default_geocoder, existing, labels, synthetic)
            return _write(out, rejects_path, chunks, ctx, append=bool(store_total or existing))

        try:
            result = run(chunks)
        except pd.errors.ParserError:
            # Arrow's reader stopped on a row that is not regular: read the file again with the one table reader, which words it.
            result = run(_iter_chunks(path, chunksize, bulk_csv=False)[1])
    result.store_total = store_total + result.imported
    return result
