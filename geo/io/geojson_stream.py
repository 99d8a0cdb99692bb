"""Walking the text of a GeoJSON FeatureCollection member by member, its features in chunks.

``json.loads`` of a whole file builds every feature's dicts and lists at once,
about eight times the file's size in memory. :func:`walk_collection` instead
decodes the top-level members one at a time with the standard library's own
decoder (:meth:`json.JSONDecoder.raw_decode`, the C scanner ``json.loads``
runs) and hands the members of the ``features`` array on in chunks of
:data:`FEATURE_CHUNK`, so only one chunk of feature dicts is alive at a time.

Malformed JSON gets the message, line and column ``json.loads`` gives for the
whole text: errors inside a value come from the same scanner at the same
position; errors between values (a missing comma, a trailing comma, a missing
bracket) are reproduced by letting ``json.loads`` read the same few characters
in the same place of a minimal document, so the wording is that of the Python
that runs.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from geo.errors import DataFileError

__all__ = ["FEATURE_CHUNK", "TopLevel", "malformed_json", "parse_document", "too_deep", "walk_collection"]

#: Features decoded before they are handed on (one chunk of dicts alive at a time).
FEATURE_CHUNK = 10_000

_DECODER = json.JSONDecoder()  # the decoder json.loads uses: same numbers, constants and strictness
_WS = re.compile(r"[ \t\n\r]*").match  # JSON whitespace, as json.decoder.WHITESPACE
_COMMA = re.compile(r"[ \t\n\r]*,[ \t\n\r]*").match


@dataclass
class TopLevel:
    """The top-level object of a file read by :func:`walk_collection`.

    Attributes
    ----------
    members
        Every member but an array-valued ``features``, in the order first seen;
        a repeated name keeps its last value, as ``json.loads`` does.
    feature_count
        How many members the ``features`` array had (None: no ``features``
        array; a ``features`` member of another kind is in :attr:`members`).
    tail, tail_start
        The last chunk of features, not handed on (at most
        :data:`FEATURE_CHUNK`; all of them in a small file), and the index of
        its first: the caller takes it once the text is dropped.
    """

    members: dict = field(default_factory=dict)
    feature_count: int | None = None
    tail: list = field(default_factory=list)
    tail_start: int = 0


class _Unsure(Exception):
    """The walk cannot tell the message ``json.loads`` would give: read the whole document instead."""


def malformed_json(path, exc: json.JSONDecodeError) -> DataFileError:
    """The error for text that is not JSON, with the line and column of ``exc``."""
    return DataFileError(f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")


def too_deep(path) -> DataFileError:
    """The error for JSON nested deeper than Python's parser goes."""
    return DataFileError(f"{path}: the JSON is nested too deeply to be GeoJSON; give a Feature or FeatureCollection with [lon, lat] coordinates")


def parse_document(text: str, path):
    """``json.loads`` of the whole text, its failures as :class:`~geo.errors.DataFileError`."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise malformed_json(path, exc) from exc
    except RecursionError as exc:
        raise too_deep(path) from exc


def walk_collection(text: str, path, take: Callable[[list, int], None]) -> TopLevel | None:
    """Decode a JSON object member by member, handing the members of its ``features`` array on in chunks.

    Parameters
    ----------
    text
        The whole file, decoded.
    path
        The file, for messages.
    take
        Called as ``take(chunk, start)`` with each full chunk of
        :data:`FEATURE_CHUNK` members of ``features`` (JSON values as
        ``json.loads`` gives them), ``start`` the array index of the first;
        the last chunk is left in :attr:`TopLevel.tail`. Not called, and no
        tail kept, while the members before ``features`` give a ``type``
        other than ``"FeatureCollection"``.

    Returns
    -------
    TopLevel or None
        None when the walk does not apply and the caller should read the
        whole document (:func:`parse_document`): the text is not a JSON
        object, or it has ``features`` twice.

    Raises
    ------
    DataFileError
        For malformed JSON (message, line and column as ``json.loads`` gives
        them) or JSON nested too deeply.
    """
    collecting = gc.isenabled()
    gc.disable()  # decoded JSON holds no cycles; the collector would walk every chunk's dicts again and again (a third of the time)
    try:
        return _walk(text, path, take)
    except _Unsure:
        return None
    finally:
        if collecting:
            gc.enable()


def _walk(text: str, path, take) -> TopLevel | None:
    idx = _WS(text, 0).end()
    if not text.startswith("{", idx):  # an array, a bare value, a second byte-order mark: json.loads says what it is
        return None
    top = TopLevel()
    members = top.members
    seen_features = False
    state = "{"  # a minimal document in the state of the real one before the next member's name
    after = idx + 1  # end of the last complete token, where an error between tokens is replayed from
    idx = _WS(text, after).end()
    if not text.startswith("}", idx):
        while True:
            if not text.startswith('"', idx):
                raise _replay(text, path, state, after, idx)
            key, after = _value(text, path, idx, "{", idx)  # errors inside a name are the scanner's own
            idx = _WS(text, after).end()
            if not text.startswith(":", idx):
                raise _replay(text, path, '{""', after, idx)
            after = idx + 1
            start = _WS(text, after).end()
            if key == "features":
                if seen_features:
                    return None
                seen_features = True
            if key == "features" and text.startswith("[", start):
                handing = members.get("type", "FeatureCollection") == "FeatureCollection"
                after, top.feature_count, top.tail = _features(text, path, start, take if handing else None)
                top.tail_start = top.feature_count - len(top.tail)
            else:
                members[key], after = _value(text, path, start, '{"":', after)
            idx = _WS(text, after).end()
            if text.startswith("}", idx):
                break
            if not text.startswith(",", idx):
                raise _replay(text, path, '{"":0', after, idx)
            state = '{"":0'
            idx = _WS(text, idx + 1).end()
    end = _WS(text, idx + 1).end()
    if end != len(text):
        raise malformed_json(path, json.JSONDecodeError("Extra data", text, end))
    return top


def _value(text: str, path, start: int, prefix: str, after: int):
    """Decode the JSON value at ``start``; an error right at its first character is replayed (it may be a trailing comma)."""
    try:
        return _DECODER.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        if exc.pos == start:
            raise _replay(text, path, prefix, after, start) from exc
        raise malformed_json(path, exc) from exc
    except RecursionError as exc:
        raise too_deep(path) from exc


def _features(text: str, path, bracket: int, take) -> tuple[int, int, list]:
    """Walk the array opening at ``bracket``; return the index after its ``]``, its length and its last chunk."""
    after = bracket + 1
    idx = _WS(text, after).end()
    if text.startswith("]", idx):
        return idx + 1, 0, []
    size = max(1, int(FEATURE_CHUNK))
    chunk: list = []
    count = 0
    prefix = "["
    scan = _DECODER.scan_once  # what raw_decode calls, without its frame: one call per feature
    while True:
        try:
            value, after = scan(text, idx)
        except StopIteration as stop:  # no value where one must be: raw_decode's "Expecting value"
            if stop.value == idx:
                raise _replay(text, path, prefix, after, idx) from None
            raise malformed_json(path, json.JSONDecodeError("Expecting value", text, stop.value)) from None
        except json.JSONDecodeError as exc:
            if exc.pos == idx:
                raise _replay(text, path, prefix, after, idx) from exc
            raise malformed_json(path, exc) from exc
        except RecursionError as exc:
            raise too_deep(path) from exc
        chunk.append(value)
        if len(chunk) == size:
            if take is not None:
                take(chunk, count)
            count += size
            chunk = []
        comma = _COMMA(text, after)
        if comma is not None:
            idx = comma.end()
            prefix = "[0"
            continue
        idx = _WS(text, after).end()
        if text.startswith("]", idx):
            break
        raise _replay(text, path, "[0", after, idx)
    count += len(chunk)
    return idx + 1, count, chunk if take is not None else []


def _replay(text: str, path, prefix: str, after: int, at: int) -> DataFileError:
    """The error ``json.loads`` gives for the text from ``after`` to ``at`` (inclusive), read in the state ``prefix`` leaves.

    ``prefix`` is a minimal document in the same state as the real one at
    ``after`` (``[0`` after an array member, ``{"":0`` after an object member,
    ...), so the standard parser of the running Python words the error; its
    position is moved back into the whole text for the line and column.
    """
    mini = prefix + text[after:at + 1]
    try:
        json.loads(mini)
    except json.JSONDecodeError as exc:
        pos = after + exc.pos - len(prefix)
        if pos >= after:
            return malformed_json(path, json.JSONDecodeError(exc.msg, text, pos))
    raise _Unsure
