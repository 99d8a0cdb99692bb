"""Walking the text of a GeoJSON FeatureCollection member by member, its features in chunks.

``json.loads`` of a whole file builds every feature's dicts and lists at once,
about eight times the file's size in memory. :func:`walk_collection` instead
reads the file :data:`READ_BYTES` at a time (:class:`Text`), holds only a
window of its text, decodes the top-level members one at a time with the
standard library's own scanner (:meth:`json.JSONDecoder.scan_once`, the C
scanner ``json.loads`` runs), and hands the members of the ``features`` array
on in chunks of at least :data:`FEATURE_CHUNK`, so only one chunk of feature
dicts is alive at a time. The features up to the last feature boundary in the
window are parsed in one call, kept only when that parse is whole; anything
else is scanned feature by feature.

Malformed JSON gets the message, line and column ``json.loads`` gives for the
whole text: errors inside a value come from the same scanner at the same
position; errors between values (a missing comma, a trailing comma, a missing
bracket) are reproduced by letting ``json.loads`` read the same few characters
in the same place of a minimal document, so the wording is that of the Python
that runs.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from geo._gc import collector_paused
from geo.errors import DataFileError

__all__ = ["FEATURE_CHUNK", "READ_BYTES", "Text", "TopLevel", "malformed_json", "parse_document", "too_deep", "walk_collection"]

#: Features decoded before they are handed on (one chunk of dicts alive at a time).
FEATURE_CHUNK = 10_000
#: Bytes of the file read at a time.
READ_BYTES = 1 << 20
_LOOKAHEAD = 16  # an error this close to the end of the window may be the window's end, not the file's

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
    return _malformed(path, exc.msg, exc.lineno, exc.colno)


def _malformed(path, msg: str, lineno: int, colno: int) -> DataFileError:
    return DataFileError(f"{path}: malformed JSON at line {lineno}, column {colno}: {msg}")


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


class Text:
    """A UTF-8 file's text, read block by block (:data:`READ_BYTES`), never held whole unless asked.

    A byte that is not UTF-8 is refused when its block is read, numbered
    after one byte-order mark as ``bytes.decode("utf-8-sig")`` numbers it;
    :func:`walk_collection` reads to the end of the file before it reports
    malformed JSON, so such a byte is reported first, as when the whole
    file was decoded first.

    Parameters
    ----------
    source
        The file (:class:`geo.io.tables.Input`: a path or bytes in memory).
    """

    def __init__(self, source):
        self.source = source

    def blocks(self):
        """The decoded text after one byte-order mark, block by block (the last one may be empty)."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        fed = 0
        with self.source.open() as fh:
            data = fh.read(max(3, READ_BYTES))
            if data.startswith(codecs.BOM_UTF8):
                data = data[3:] or fh.read(READ_BYTES)  # an empty read is the end of the file
            while True:
                pending = len(decoder.getstate()[0])
                try:
                    block = decoder.decode(data, final=not data)
                except UnicodeDecodeError as exc:
                    msg = f"{self.source}: byte {fed - pending + exc.start} is not UTF-8; GeoJSON must be UTF-8 (RFC 7946): re-save the file as UTF-8"
                    raise DataFileError(msg) from exc
                fed += len(data)
                yield block
                if not data:
                    return
                data = fh.read(READ_BYTES)

    def whole(self) -> str:
        """The whole text at once (for what is parsed as one document); a file of only white space is refused."""
        text = "".join(self.blocks())
        if not text or text.isspace():  # no copy of the text, unlike strip()
            msg = f"{self.source}: the file is empty; a GeoJSON FeatureCollection is expected"
            raise DataFileError(msg)
        return text


def walk_collection(text: Text, path, take: Callable[[list, int], None]) -> TopLevel | None:
    """Decode a JSON object member by member, handing the members of its ``features`` array on in chunks.

    Parameters
    ----------
    text
        The file's text; only a window of it is held (from the end of the
        last chunk's features on).
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
    walk = _Walk(text, path)
    # decoded JSON holds no cycles; the collector would walk every chunk's dicts again and again (a third of the time)
    with collector_paused():
        try:
            return walk.top_level(take)
        except _Unsure:
            return None
        except DataFileError:
            for _ in walk.blocks:  # a byte that is not UTF-8 further on is reported before malformed JSON
                pass
            raise


class _Walk:
    """A window on the text: ``buf`` holds it from the character ``base`` on; positions below are in ``buf``."""

    def __init__(self, text: Text, path):
        self.path = path
        self.blocks = text.blocks()
        self.buf = ""
        self.base = 0
        self.eof = False
        self.lines = 0  # newlines before base
        self.last_newline = -1  # where the last of them is

    def more(self, at_least: int = 1) -> bool:
        """Read at least ``at_least`` more characters (False at the end of the text)."""
        got = []
        size = 0
        while size < at_least and not self.eof:
            block = next(self.blocks, None)
            if block is None:
                self.eof = True
                break
            got.append(block)
            size += len(block)
        if got:
            self.buf += "".join(got)
        return size > 0

    def drop(self, before: int) -> int:
        """Forget the text before ``before``; return how far positions moved."""
        cut = self.buf.count("\n", 0, before)
        if cut:
            self.lines += cut
            self.last_newline = self.base + self.buf.rindex("\n", 0, before)
        self.buf = self.buf[before:]
        self.base += before
        return before

    def ws(self, i: int) -> int:
        """The first position at or after ``i`` that is not JSON white space (``len(buf)`` at the end)."""
        j = _WS(self.buf, i).end()
        while j == len(self.buf) and self.more():
            j = _WS(self.buf, j).end()
        return j

    def at(self, i: int, char: str) -> bool:
        while i >= len(self.buf) and self.more():
            pass
        return self.buf.startswith(char, i)

    def error(self, msg: str, pos: int) -> DataFileError:
        """The malformed-JSON error at ``pos``, its line and column counted in the whole text."""
        newline = self.buf.rfind("\n", 0, pos)
        last = self.base + newline if newline >= 0 else self.last_newline
        return _malformed(self.path, msg, self.lines + self.buf.count("\n", 0, pos) + 1, self.base + pos - last)

    def value(self, i: int, prefix: str, after: int):
        """Decode the value at ``i``, reading on while it may go on past the window.

        An error right at its first character is replayed (it may be a
        trailing comma, worded differently by other Pythons).
        """
        scan = _DECODER.scan_once
        while True:
            try:
                value, end = scan(self.buf, i)
            except StopIteration as stop:  # no value where one must be: raw_decode's "Expecting value"
                msg, pos, cause = "Expecting value", stop.value, None
            except json.JSONDecodeError as exc:
                msg, pos, cause = exc.msg, exc.pos, exc
            except RecursionError as exc:
                raise too_deep(self.path) from exc
            else:
                if end < len(self.buf) or not self.more(len(self.buf) - i):
                    return value, end
                continue
            if self.eof or (pos < len(self.buf) - _LOOKAHEAD and not msg.startswith("Unterminated string")):
                if pos == i:
                    raise self.replay(prefix, after, i) from cause
                raise self.error(msg, pos) from cause
            cause = None  # the error holds the window (its doc) and this frame: no cycle while the collector is paused
            self.more(max(1, len(self.buf) - i))  # the value may end in the text not read yet: read as much again and retry

    def replay(self, prefix: str, after: int, at: int) -> DataFileError:
        """The error ``json.loads`` gives for the text from ``after`` to ``at`` (inclusive), read in the state ``prefix`` leaves.

        ``prefix`` is a minimal document in the same state as the real one at
        ``after`` (``[0`` after an array member, ``{"":0`` after an object
        member, ...), so the standard parser of the running Python words the
        error; its position is moved back into the whole text for the line and
        column.
        """
        self.at(at, "")
        mini = prefix + self.buf[after:at + 1]
        try:
            json.loads(mini)
        except json.JSONDecodeError as exc:
            pos = after + exc.pos - len(prefix)
            if pos >= after:
                return self.error(exc.msg, pos)
        raise _Unsure

    def top_level(self, take) -> TopLevel | None:
        idx = self.ws(0)
        if not self.at(idx, "{"):  # an array, a bare value, a second byte-order mark: json.loads says what it is
            return None
        top = TopLevel()
        members = top.members
        seen_features = False
        state = "{"  # a minimal document in the state of the real one before the next member's name
        after = idx + 1  # end of the last complete token, where an error between tokens is replayed from
        idx = self.ws(after)
        if not self.at(idx, "}"):
            while True:
                if not self.at(idx, '"'):
                    raise self.replay(state, after, idx)
                key, after = self.value(idx, "{", idx)  # errors inside a name are the scanner's own
                idx = self.ws(after)
                if not self.at(idx, ":"):
                    raise self.replay('{""', after, idx)
                after = idx + 1
                start = self.ws(after)
                if key == "features":
                    if seen_features:
                        return None
                    seen_features = True
                if key == "features" and self.at(start, "["):
                    handing = members.get("type", "FeatureCollection") == "FeatureCollection"
                    after, top.feature_count, top.tail = self.features(start, take if handing else None)
                    top.tail_start = top.feature_count - len(top.tail)
                else:
                    members[key], after = self.value(start, '{"":', after)
                idx = self.ws(after)
                if self.at(idx, "}"):
                    break
                if not self.at(idx, ","):
                    raise self.replay('{"":0', after, idx)
                state = '{"":0'
                idx = self.ws(idx + 1)
        end = self.ws(idx + 1)
        if end != len(self.buf):
            raise self.error("Extra data", end)
        return top

    def features(self, bracket: int, take) -> tuple[int, int, list]:
        """Walk the array opening at ``bracket``; return the position after its ``]``, its length and its last chunk."""
        after = bracket + 1
        idx = self.ws(after)
        if self.at(idx, "]"):
            return idx + 1, 0, []
        size = max(1, int(FEATURE_CHUNK))
        chunk: list = []
        count = 0
        prefix = "["
        scan, next_member = _DECODER.scan_once, _COMMA
        buf = self.buf
        between = None  # the text between two features ("},\n{"), once seen
        tried = -1  # where a run last failed to parse: not tried again before the window grows
        while True:
            if between is not None and len(buf) != tried and (cut := buf.rfind(between, idx)) > idx:
                # the features up to the last such text in the window, in one parse (one call, names shared);
                # taken only when it parses whole: it then ends at an object, so its values are exactly
                # those of feature-by-feature scanning; otherwise the features are scanned one by one
                text = "[" + buf[idx:cut + 1] + "]"
                try:
                    run, end = scan(text, 0)
                except (StopIteration, json.JSONDecodeError, RecursionError):
                    run, end = None, -1
                if end != len(text):  # not parsed, or the array closed early (the features' own end)
                    run, tried = None, len(buf)
                del text
                if run is not None:
                    chunk += run
                    after, idx = cut + 1, cut + len(between) - 1
                    prefix = "[0"
                    if len(chunk) >= size:
                        if take is not None:
                            take(chunk, count)
                        count += len(chunk)
                        chunk = []
                        moved = self.drop(after)  # the text of the features taken goes
                        after, idx, buf = after - moved, idx - moved, self.buf
                    continue
            try:  # the common case inline: a whole feature in the window, then a comma
                value, end = scan(buf, idx)
            except (StopIteration, json.JSONDecodeError, RecursionError):
                end = len(buf)
            if end >= len(buf):  # an error, or the window's end: read on, or word the error
                value, end = self.value(idx, prefix, after)
                buf = self.buf
            after = end
            chunk.append(value)
            if len(chunk) >= size:
                if take is not None:
                    take(chunk, count)
                count += len(chunk)
                chunk = []
                after -= self.drop(after)  # the text of the features taken goes
                buf = self.buf
            comma = next_member(buf, after)
            if comma is not None and comma.end() < len(buf):
                idx = comma.end()
                prefix = "[0"
                if between is None and after > 0 and buf[after - 1] == "}" and buf[idx] == "{":
                    between = buf[after - 1:idx + 1]
                continue
            idx = self.ws(after)
            buf = self.buf
            if self.at(idx, "]"):
                break
            if self.at(idx, ","):
                idx = self.ws(idx + 1)
                buf = self.buf
                prefix = "[0"
                continue
            raise self.replay("[0", after, idx)
        count += len(chunk)
        return idx + 1, count, chunk if take is not None else []
