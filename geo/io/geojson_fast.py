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
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["FAST_MAX_BYTES", "Chunk", "Collection", "decode_collection"]

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
class Collection:
    """The top-level members of a FeatureCollection but ``features``, and its features chunk by chunk."""

    members: dict
    chunks: Iterator[Chunk]


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
    return Collection(members, _chunks(features, dec))


def _chunks(features: list, dec: dict) -> Iterator[Chunk]:
    for start in range(0, len(features), CHUNK):
        part = features[start:start + CHUNK]
        try:
            props = dec["properties"].decode(b"[" + b",".join(f.properties for f in part) + b"]")
            geoms = dec["geometries"].decode(b"[" + b",".join(f.geometry for f in part) + b"]")
        except dec["errors"] as exc:
            raise NotPlain from exc
        yield Chunk(start, [p or {} for p in props], _geometries(part, geoms, dec))


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
    decoder = dec[kind]
    texts = [bytes(r) for r in raws]
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
