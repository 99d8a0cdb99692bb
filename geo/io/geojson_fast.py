"""A fast path for the common GeoJSON file: msgspec decodes its structure, coordinates go straight into arrays.

Most files are a FeatureCollection of Features with an object of properties
and a Point or LineString of ``[lon, lat]`` pairs. For those,
:func:`decode_collection` lets msgspec (compiled, strict JSON) walk the
document once, keeping each feature's properties and geometry as raw JSON;
properties are then decoded a chunk at a time, and plain coordinates straight
into float arrays, with no Python list per position.

The result is always what the standard library's parser gives
(:mod:`geo.io.geojson_stream`): msgspec refuses everything the standard
library would read differently (``NaN``, numbers beyond a float, lone
surrogates) and everything that is not JSON, and then :func:`decode_collection`
returns None so the caller reads the file the exact way, with its messages.
Coordinates are taken as floats only where every number has a decimal point
(msgspec and Python parse those to the same double; JSON integers, which the
standard library keeps as ``int``, go through the general builder with the
geometry as :func:`json.loads` gives it).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

__all__ = ["FAST_MAX_BYTES", "Chunk", "Collection", "Columns", "arrow_coordinates", "arrow_properties", "decode_collection"]

#: Files up to this size take the fast path; larger ones are streamed. The fast path holds the whole text and a
#: small record per feature while it reads (a 188 MB file peaked at 988 MB against 829-885 MB streamed), so
#: beyond this the streaming reader's bounded memory is worth more than the speed.
FAST_MAX_BYTES = 256 * 1024 * 1024

#: Features whose properties are decoded at a time (their dicts become columns before the next chunk).
CHUNK = 10_000


class NotPlain(Exception):
    """The file is not the common case: read it the exact way."""


@dataclass
class Chunk:
    """Features ``start``, ``start + 1``, ... of a collection.

    ``records`` holds each feature's properties (a dict; ``{}`` for null);
    ``geoms`` each geometry: a shapely geometry built here, None, or the
    geometry as :func:`json.loads` gives it (a dict, or any other JSON
    value) for the general builder.
    """

    start: int
    records: list
    geoms: list


@dataclass
class Columns:
    """Every feature's properties, read as columns by Arrow (see :func:`arrow_properties`).

    ``values`` holds each column's cells as :func:`json.loads` gives them, NaN
    where a feature lacks the name or gives null; ``facts`` the typed columns
    (:class:`geo.io.parts.ColumnFacts`); ``exact``, when the file gives some
    property as null, a function returning the properties as the exact reader
    holds them (None for null, NaN for absent), for what tells the two apart.
    """

    values: dict[str, np.ndarray]
    facts: dict
    exact: Callable[[], pd.DataFrame] | None


@dataclass
class Collection:
    """The top-level members of a FeatureCollection but ``features``, and its features chunk by chunk.

    With ``columns`` (the properties read by Arrow), the chunks' ``records`` are None.
    """

    members: dict
    chunks: Iterator[Chunk]
    columns: Columns | None = None


try:
    import msgspec
except ImportError:  # the exact reader reads every file
    msgspec = None

if msgspec is not None:
    _NULL = msgspec.Raw(b"null")

    class _Feature(msgspec.Struct):
        type: str
        properties: msgspec.Raw = _NULL
        geometry: msgspec.Raw = _NULL

    class _Geometry(msgspec.Struct):
        type: str
        coordinates: msgspec.Raw = _NULL

    _DECODERS = {
        "top": msgspec.json.Decoder(dict[str, msgspec.Raw]),
        "features": msgspec.json.Decoder(list[_Feature]),
        "properties": msgspec.json.Decoder(list[dict | None]),
        "geometries": msgspec.json.Decoder(list[_Geometry | None]),
        "points": msgspec.json.Decoder(list[tuple[float, float]]),
        "lines": msgspec.json.Decoder(list[list[tuple[float, float]]]),
        "errors": (msgspec.DecodeError, msgspec.ValidationError, RecursionError),  # deep nesting: the exact reader words it
    }


def decode_collection(source) -> Collection | None:
    """Decode a GeoJSON FeatureCollection the fast way, or None when the exact reader must read it.

    Parameters
    ----------
    source
        The file (:class:`geo.io.tables.Input`).

    Returns
    -------
    Collection or None
        None for a file larger than :data:`FAST_MAX_BYTES`, without msgspec
        installed, or that is not a FeatureCollection of Feature objects
        with object (or null) properties, in strict JSON. Iterating the
        chunks raises :class:`NotPlain` when a later chunk turns out not to be
        plain (the caller then reads the whole file the exact way).
    """
    if msgspec is None or source.size() > FAST_MAX_BYTES:
        return None
    dec = _DECODERS
    data = source.data if source.path is None else source.path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    if not _utf8(data):  # msgspec does not check the text of members it skips: the exact reader names the byte
        return None
    try:
        top = dec["top"].decode(data)
        raw_features = top.pop("features", None)
        if raw_features is None:
            return None
        features = dec["features"].decode(raw_features)
    except dec["errors"]:
        return None
    try:
        members = {k: _json(v) for k, v in top.items()}
    except NotPlain:
        return None
    if members.get("type") != "FeatureCollection" or any(f.type != "Feature" for f in features):
        return None
    columns = arrow_properties(features)
    return Collection(members, _chunks(features, dec, records=columns is None), columns)


def _chunks(features: list, dec: dict, *, records: bool = True) -> Iterator[Chunk]:
    for start in range(0, len(features), CHUNK):
        part = features[start:start + CHUNK]
        try:
            props = dec["properties"].decode(b"[" + b",".join(f.properties for f in part) + b"]") if records else None
            geoms = dec["geometries"].decode(b"[" + b",".join(f.geometry for f in part) + b"]")
        except dec["errors"] as exc:
            raise NotPlain from exc
        yield Chunk(start, None if props is None else [p or {} for p in props], _geometries(part, geoms, dec))


#: Raw properties joined for Arrow when some hold line breaks: a NUL (never in JSON text) between features, made a
#: line break after the JSON's own line breaks (whitespace between tokens; none inside strings) became spaces.
_LINES = bytes.maketrans(b"\n\r\x00", b"  \n")

#: Arrow types of property columns taken from Arrow: text, whole numbers, numbers, flags, and nothing but nulls.
_PLAIN_ARROW = ("string", "int64", "double", "bool", "null")


def arrow_properties(features: list) -> Columns | None:
    """The features' properties as columns, read by Arrow's JSON reader; None when they must be decoded one by one.

    Arrow reads the properties of all features at once in compiled code
    (threads, no Python object per feature) and infers one type per name.
    Its values are those of :func:`json.loads`: escapes decoded alike, numbers
    parsed to the same doubles, and what the standard library would read
    differently is refused (a lone surrogate, a number beyond a float). It is
    used only where the outcome is certain to be the exact reader's, else None:

    * every column is text, whole numbers (int64), numbers or flags; a name
      that holds several kinds in different features, an object or a list,
      or text Arrow would read as a date goes the slow way;
    * a number column holds no whole value (a JSON ``2`` and ``2.0`` are one
      double to Arrow, an int and a float to Python), and a whole-number column
      came from JSON integers only;
    * properties that are not an object or null.
    """
    if not features:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pj

    from geo.io.vector import arrow_column, release_arrow_memory

    body = b"\n" + b"\n".join([f.properties for f in features]) + b"\n"
    if body.count(b"\n") != len(features) + 1 or b"\r" in body:  # line breaks inside some properties' JSON
        body = (b"\x00" + b"\x00".join([f.properties for f in features]) + b"\x00").translate(_LINES)
    while b"\nnull\n" in body:  # properties null: an empty object (twice for neighbours, which share a line break)
        body = body.replace(b"\nnull\n", b"\n{}\n")
    nulls = b"null" in body  # some property given as null (or the word in a text): the exact reader tells null from absent
    try:
        table = pj.read_json(pa.BufferReader(body), read_options=pj.ReadOptions(block_size=1 << 22))
    except (pa.ArrowInvalid, ValueError):
        return None
    del body
    if table.num_rows != len(features) or any(str(t) not in _PLAIN_ARROW for t in table.schema.types):
        return None
    values, facts = {}, {}
    for name in table.column_names:
        column = table.column(name).combine_chunks()
        if pa.types.is_floating(column.type):
            given = column.drop_null()
            if len(given) and pc.any(pc.equal(pc.floor(given), given)).as_py():
                return None  # a whole number: written 2 (an int to Python) or 2.0 (a float), Arrow cannot tell
        cells, typed = arrow_column(column)
        if column.null_count:
            cells[column.is_null().to_numpy(zero_copy_only=False)] = np.nan
        values[name] = cells
        if typed is not None:
            facts[name] = typed
    del table
    release_arrow_memory()  # the cells live as Python values now
    return Columns(values, facts, (lambda: _exact_properties(features)) if nulls else None)


def _exact_properties(features: list) -> pd.DataFrame:
    """The properties exactly as the exact reader holds them (:func:`geo.io.parts.records_frame` of ``json.loads``)."""
    from geo.io.parts import records_frame

    return records_frame([json.loads(bytes(f.properties).decode("utf-8")) or {} for f in features])


def _geometries(part: list, geoms: list, dec: dict) -> list:
    """Each geometry of a chunk: built here when plain, else as :func:`json.loads` gives it (None for null)."""
    out: list = [None] * len(geoms)
    points = [i for i, g in enumerate(geoms) if g is not None and g.type == "Point"]
    lines = [i for i, g in enumerate(geoms) if g is not None and g.type == "LineString"]
    done = np.zeros(len(geoms), dtype=bool)
    for idx, kind in ((points, "points"), (lines, "lines")):
        if not idx:
            continue
        plain, xy, counts = _plain_coordinates([geoms[i].coordinates for i in idx], kind, dec)
        at = np.asarray(idx, dtype=np.int64)[plain]
        if kind == "points":
            built = shapely.points(xy)
        else:
            built = shapely.linestrings(xy, indices=np.repeat(np.arange(len(at)), counts))
        for i, geom in zip(at.tolist(), built.tolist(), strict=True):
            out[i] = geom
        done[at] = True
    for i in np.flatnonzero(~done).tolist():
        if geoms[i] is not None:
            out[i] = _json(part[i].geometry)  # the geometry exactly as the standard library reads it
    return out


def _json(raw):
    """``json.loads`` of a raw JSON value (text that is UTF-8, as the exact reader decodes it)."""
    try:
        return json.loads(bytes(raw).decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise NotPlain from exc


def _utf8(data: bytes) -> bool:
    """True when ``data`` is UTF-8 throughout, as Python's strict decoder reads it.

    Arrow's validation (the whole text viewed as one binary value, cast to
    text) rejects what the strict decoder rejects: overlong forms, surrogates,
    code points above U+10FFFF and cut sequences; it checks 47 MB in about
    10 ms, against 0.1 s for decoding it to Python text.
    """
    import pyarrow as pa

    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    value = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        value.cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _plain_coordinates(raws: list, kind: str, dec: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which coordinates are plain, their positions as an (n, 2) float array and, for lines, each one's count.

    Plain: ``[lon, lat]`` of two numbers with a decimal point each (a point),
    or a list of at least two of them (a line). Tried for the whole chunk at
    once; when that fails, one geometry at a time.
    """
    texts = [bytes(r) for r in raws]
    bulk = arrow_coordinates(texts, lines=kind == "lines")
    if bulk is not None:
        return np.ones(len(raws), dtype=bool), *bulk
    decoder = dec[kind]
    joined = b"[" + b",".join(texts) + b"]"
    try:
        values = decoder.decode(joined)
    except dec["errors"]:
        values = None
    if values is not None:
        counts = np.ones(len(values), dtype=np.int64) if kind == "points" else np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        if joined.count(b".") == 2 * int(counts.sum()) and (kind == "points" or (counts >= 2).all()):
            flat = values if kind == "points" else [p for line in values for p in line]
            return np.ones(len(raws), dtype=bool), np.array(flat, dtype=float).reshape(-1, 2), counts
    plain = np.zeros(len(raws), dtype=bool)
    kept, counts = [], []
    one = dec["points"] if kind == "points" else dec["lines"]
    for k, text in enumerate(texts):
        try:
            value = one.decode(b"[" + text + b"]")[0]
        except dec["errors"]:
            continue
        n = 1 if kind == "points" else len(value)
        if text.count(b".") != 2 * n or (kind == "lines" and n < 2):
            continue  # an integer or an exponent without a point somewhere: read as the standard library reads it
        plain[k] = True
        kept.extend([value] if kind == "points" else value)
        counts.append(n)
    return plain, np.array(kept, dtype=float).reshape(-1, 2), np.asarray(counts, dtype=np.int64)


#: What a number of a plain position is written with (JSON whitespace too, which may stand between tokens).
_NUMBER_BYTES = b"0123456789.- \t\n\r"
#: A plain point's coordinates with the numbers and whitespace taken out; a line of n positions is
#: ``[[,]`` + ``,[,]`` (n - 1 times) + ``]``.
_POINT_SHAPE = b"[,]"


def _line_shape(n: int) -> bytes:
    return b"[[,]" + b",[,]" * (n - 1) + b"]"


def arrow_coordinates(texts: list[bytes], *, lines: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """Plain coordinates parsed in bulk by Arrow's CSV reader: the (n, 2) positions and each geometry's count; else None.

    ``texts`` are the raw JSON ``coordinates`` of points (``lines=False``) or
    of lines, each valid JSON (msgspec checked it). They are plain, and read
    here, when every one has exactly the shape of a position or a line of at
    least two (checked on the text with the numbers taken out) and every
    number a decimal point (the number of points in the text is two per
    position, and a JSON number holds at most one). Their numbers are then
    written one to a line and parsed by Arrow, whose parser, like Python's
    ``float``, rounds correctly: the same doubles as :func:`json.loads` gives.
    A number beyond a float (infinite here) or any other doubt gives None,
    and the caller decodes the coordinates the slower ways.
    """
    if not texts:
        return None
    import pyarrow as pa
    import pyarrow.csv as pcsv

    joined = b";".join(texts)
    shapes = joined.translate(None, _NUMBER_BYTES).split(b";")
    if len(shapes) != len(texts):  # a ';' inside some text: not plain
        return None
    if lines:
        sizes = np.fromiter(map(len, shapes), dtype=np.int64, count=len(shapes))
        counts = (sizes - 1) // 4
        if (counts < 2).any() or ((sizes - 1) % 4).any():
            return None
        expected = {n: _line_shape(n) for n in np.unique(counts).tolist()}
        if any(s != expected[n] for s, n in zip(shapes, counts.tolist(), strict=True)):
            return None
    else:
        if any(s != _POINT_SHAPE for s in shapes):
            return None
        counts = np.ones(len(texts), dtype=np.int64)
    if joined.count(b".") != 2 * int(counts.sum()):  # a number without a decimal point: an int to the standard library
        return None
    numbers = joined.translate(_ONE_A_LINE, b"[] \t\n\r")
    try:
        table = pcsv.read_csv(
            pa.BufferReader(numbers),
            read_options=pcsv.ReadOptions(column_names=["v"], block_size=1 << 22),
            parse_options=pcsv.ParseOptions(quote_char=False, newlines_in_values=False),
            convert_options=pcsv.ConvertOptions(column_types={"v": pa.float64()}, null_values=[], strings_can_be_null=False,
                                                quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, ValueError):
        return None
    column = table.column("v")
    if column.null_count or len(column) != 2 * int(counts.sum()):
        return None
    xy = column.to_numpy().reshape(-1, 2)
    if not np.isfinite(xy).all():  # a number beyond a float: left to the slower ways, which refuse the file
        return None
    return xy, counts


#: Commas (between numbers, positions and geometries alike) become line breaks: one number a line.
_ONE_A_LINE = bytes.maketrans(b",;", b"\n\n")
