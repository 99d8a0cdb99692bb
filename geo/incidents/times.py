"""Incident times: parsing the formats found in exports, Asia/Shanghai local time, periods and month indices.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from geo._validate import ascii_text
from geo.io.arrow_text import cell_ends

#: Local time zone of every incident time.
TIMEZONE = "Asia/Shanghai"
_UTC_OFFSET_S = 8 * 3600  # China has kept UTC+8 with no daylight saving since 1991.

#: Local hours counted as night, 20:00 to 06:00 (the heat layer's night filter, the demo theft profile).
NIGHT_HOURS: tuple[int, ...] = (*range(20, 24), *range(0, 6))


# --- times ----------------------------------------------------------------------

_DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?"
    r"(?:\s*[T\s]?\s*(\d{1,2})\s*[:时点]\s*(?:(\d{1,2})\s*(?:[:分]\s*(?:(\d{1,2})(?:\.\d+)?\s*秒?)?)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_COMPACT_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:[T\s]?(\d{2})(\d{2})(\d{2})?)?$")
TIME_ONLY_RE = re.compile(r"^(?:上午|下午|晚上)?\s*\d{1,2}\s*[:时点]\s*\d{0,2}\s*分?(?:\s*[:]?\s*\d{1,2}\s*秒?)?$")
#: Excel serial numbers accepted as dates: 1990-01-01 to 2099-12-31.
_EXCEL_RANGE = (32874.0, 73415.0)


def parse_time(value) -> dt.datetime:
    """Parse one incident time to a naive local (Asia/Shanghai) datetime.

    Accepts ``2021-03-04 21:15``, ``2021/3/4 21:15``, ``2021年3月4日 21时15分``,
    ISO 8601 with ``T`` and an offset (converted to +08:00), compact
    ``20210304211500``, Excel serial numbers (``44259.885``) and datetime objects.

    Parameters
    ----------
    value
        A string, number, :class:`datetime.datetime` or :class:`pandas.Timestamp`.

    Returns
    -------
    datetime.datetime
        Naive, local wall-clock time.

    Raises
    ------
    ValueError
        With the reason: no date (a time of day alone), not a date, out of range.
    """
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = (value.astimezone(dt.UTC) + dt.timedelta(seconds=_UTC_OFFSET_S)).replace(tzinfo=None)
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, dt.time):
        raise ValueError(f"{value.isoformat()} is a time of day without a date; give the date too (e.g. 2021-03-04 21:15)")
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return _from_excel(float(value))
    text = ascii_text(str(value)).strip()
    if not text:
        raise ValueError("no time given")
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None and not _COMPACT_RE.match(text):
        return _from_excel(number)
    m = _DATE_RE.match(text)
    if m:
        y, mo, d, h, mi, s, tz = m.groups()
        out = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
        if tz:
            sign = -1 if tz.startswith("-") else 1
            offset = 0 if tz == "Z" else sign * (int(tz[1:3]) * 3600 + int(tz[-2:]) * 60)
            out = out + dt.timedelta(seconds=_UTC_OFFSET_S - offset)
        return out
    m = _COMPACT_RE.match(text)
    if m:
        y, mo, d, h, mi, s = m.groups()
        return dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
    if TIME_ONLY_RE.match(text):
        raise ValueError(f"{text!r} is a time of day without a date; give the date too (e.g. 2021-03-04 21:15)")
    raise ValueError(f"{text!r} is not a date and time; write e.g. 2021-03-04 21:15 or 2021年3月4日 21时15分")


#: Formats tried in order on a whole column by :func:`parse_times_bulk` (the common ones of exports);
#: ``2021/3/4`` dates are tried as ``2021-3-4`` with the first three (pandas' ISO reader, far faster than strptime).
BULK_TIME_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y年%m月%d日 %H时%M分",
)
_SLASH_FORMATS = 3


def parse_times_bulk(values) -> np.ndarray:
    """Parse a column of time texts in the common formats, each format tried on the whole column.

    Each format of :data:`BULK_TIME_FORMATS` is tried in order with
    :func:`pandas.to_datetime` on the values no earlier format read. Offsets
    (``+08:00``, ``Z``) are converted to Asia/Shanghai wall-clock time.
    A value is left unread (NaT) when it is not text, matches no format
    exactly, has a fraction of a second or lies outside pandas' range
    (1677-2262): :func:`parse_time` then reads it, or says why it cannot.
    Where a value is read, it is what :func:`parse_time` returns.

    Parameters
    ----------
    values
        Array-like of str (missing values as None or NaN).

    Returns
    -------
    numpy.ndarray
        ``datetime64[s]``, naive local time; NaT where unread.
    """
    s = pd.Series(np.asarray(values, dtype=object), dtype=object)
    out = np.full(len(s), np.datetime64("NaT"), dtype="datetime64[s]")
    todo = s.notna().to_numpy(dtype=bool)
    shape = _Shapes(s.to_numpy(), todo)
    slashed = None
    steps = [(fmt, False) for fmt in BULK_TIME_FORMATS[:_SLASH_FORMATS]]
    steps += [(fmt, True) for fmt in BULK_TIME_FORMATS[:_SLASH_FORMATS]] + [(fmt, False) for fmt in BULK_TIME_FORMATS[_SLASH_FORMATS:]]
    for fmt, slash in steps:
        idx = np.flatnonzero(todo & shape.may_read(fmt, slash))
        if not len(idx):
            continue
        if slash and slashed is None:
            slashed = s.copy()
            swap = np.flatnonzero(todo & shape.slash)  # only the values still unread that have a slash
            slashed.iloc[swap] = s.iloc[swap].str.replace("/", "-", regex=False)
        aware = fmt.endswith("%z")
        got = pd.to_datetime((slashed if slash else s).iloc[idx], format=fmt, errors="coerce", utc=aware)
        if aware:
            got = got.dt.tz_convert(None) + pd.Timedelta(seconds=_UTC_OFFSET_S)
        ns = got.to_numpy(dtype="datetime64[ns]")
        sec = ns.astype("datetime64[s]")
        good = ~np.isnat(ns) & (sec == ns)
        if "T" in fmt:
            # pandas' ISO reader also takes a lower-case 't' and '+08' offsets, which parse_time refuses.
            good[good] = s.iloc[idx[good]].str.match(_DATE_RE).to_numpy(dtype=bool)
        if "%S" in fmt:
            # and a leap second (:60, :61), which it carries into the next minute (second 0 or 1); parse_time refuses it
            carried = np.flatnonzero(good & (sec.astype(np.int64) % 60 <= 1))
            good[carried] = ~s.iloc[idx[carried]].str.contains(_LEAP_SECOND_RE).to_numpy(dtype=bool)
        out[idx[good]] = sec[good]
        todo[idx[good]] = False
    return out


def read_common_times(cells) -> np.ndarray:
    """Times of Arrow text cells of exactly the shape ``2021-03-04 21:15:00``, read from their bytes in NumPy.

    The common shape of exports (:data:`BULK_TIME_FORMATS`' first) is read
    without a Python string per cell: nineteen bytes, the digits and
    separators in place, a real date (29 February only in leap years), hours
    to 23, minutes and seconds to 59, years in pandas' range (1678-2261). A
    cell read here is what :func:`parse_time` returns; every other cell is NaT,
    for :func:`parse_times_bulk` to read.

    Returns
    -------
    numpy.ndarray
        ``datetime64[s]``, naive local time; NaT where not read.
    """
    ends = cell_ends(cells)
    out = np.full(len(cells), np.datetime64("NaT"), dtype="datetime64[s]")
    rows = np.flatnonzero(ends.full & (ends.last - ends.first == _COMMON_WIDTH - 1))
    if not len(rows):
        return out
    text = ends.data[ends.first[rows, None] + np.arange(_COMMON_WIDTH)]
    digits = text - np.uint8(48)  # wraps below '0', so any byte but a digit is above 9
    shape = (digits[:, _DIGITS] <= 9).all(axis=1) & (text[:, _SEPARATORS] == _SEPARATOR_BYTES).all(axis=1)

    def number(*at: int) -> np.ndarray:
        out = np.zeros(len(rows), dtype=np.int32)
        for k in at:
            out = out * 10 + digits[:, k]
        return out

    year, month, day = number(0, 1, 2, 3), number(5, 6), number(8, 9)
    hour, minute, second = number(11, 12), number(14, 15), number(17, 18)
    good = shape & (year >= 1678) & (year <= 2261) & (month >= 1) & (month <= 12) & (hour <= 23) & (minute <= 59) & (second <= 59)
    start = ((year - 1970) * 12 + month - 1).astype("datetime64[M]")
    length = ((start + 1).astype("datetime64[D]") - start.astype("datetime64[D]")).astype(np.int64)
    good &= (day >= 1) & (day <= length)
    seconds = (start.astype("datetime64[D]") + (day - 1)).astype("datetime64[s]") + (hour * 3600 + minute * 60 + second).astype(np.int64)
    out[rows[good]] = seconds[good]
    return out


#: The common time shape of :func:`read_common_times`: its width, where its digits are, and its separators.
_COMMON_WIDTH = 19
_SEPARATORS = np.array([4, 7, 10, 13, 16])
_SEPARATOR_BYTES = np.frombuffer(b"-- ::", dtype=np.uint8)
_DIGITS = np.array([k for k in range(_COMMON_WIDTH) if k not in _SEPARATORS])


class _Shapes:
    """What a text must hold for a format to read it: each format is tried only on the texts that could match.

    pandas reads a text that fails a format one exception at a time, so a
    column of several formats spent most of its time failing. No directive of
    :data:`BULK_TIME_FORMATS` reads a ``:`` or a ``/`` and no format but the
    offset one has one it could leave out, so a text with another number of
    colons than a format (at least as many for ``%z``), with a slash where the
    step does not swap slashes or without one where it does, or without ``年``
    for the Chinese format, is one the format does not read: skipping it leaves
    every answer as it was. Cells that are not text are tried by every format.
    """

    def __init__(self, values: np.ndarray, given: np.ndarray):
        n = len(values)
        self.colons = np.full(n, -1, dtype=np.int64)
        self.slash = np.zeros(n, dtype=bool)
        self.year_sign = np.zeros(n, dtype=bool)
        self.other = np.zeros(n, dtype=bool)
        rows = np.flatnonzero(given)
        texts = values[rows].tolist()
        text = np.array([type(v) is str for v in texts], dtype=bool)
        self.other[rows[~text]] = True
        rows = rows[text]
        texts = [v for v in texts if type(v) is str]
        self.colons[rows] = [v.count(":") for v in texts]
        self.slash[rows] = ["/" in v for v in texts]
        self.year_sign[rows] = ["年" in v for v in texts]

    def may_read(self, fmt: str, slash: bool) -> np.ndarray:
        """True for the cells ``fmt`` could read (on the text with slashes swapped for ``slash``)."""
        colons = fmt.count(":")
        fits = self.colons >= colons if fmt.endswith("%z") else self.colons == colons
        fits &= self.slash == slash
        if "年" in fmt:
            fits &= self.year_sign
        return fits | (self.other & (not slash))  # a cell that is not text has no slash to swap


#: Seconds 60 or 61 (a leap second), which pandas' readers take and :func:`parse_time` refuses.
_LEAP_SECOND_RE = re.compile(r":6[01](?!\d)")


def format_times_text(times, valid=None):
    """:func:`format_time` of a ``datetime64[s]`` array (years 1000-9999) as Arrow ``string`` text, built in NumPy.

    Each time is fixed-width text (``2021-03-04T21:15:00+08:00``) made from
    its digits, without a Python string per time. ``valid``: False where the
    cell is to be null (its time is not formatted, so it may be anything).
    """
    import pyarrow as pa

    rows = _time_rows(times)
    n, width = rows.shape
    offsets = np.arange(n + 1, dtype=np.int32) * width
    mask = None if valid is None else pa.py_buffer(np.packbits(np.asarray(valid, dtype=bool), bitorder="little"))
    nulls = -1 if valid is not None else 0
    return pa.Array.from_buffers(pa.string(), n, [mask, pa.py_buffer(offsets), pa.py_buffer(rows)], null_count=nulls)


def _time_rows(times) -> np.ndarray:
    """The text of :func:`format_time` of each time, one row of bytes each."""
    t = np.asarray(times, dtype="datetime64[s]")
    days = t.astype("datetime64[D]")
    months = t.astype("datetime64[M]")
    secs = (t - days).astype(np.int64)
    fields = (
        (0, 4, t.astype("datetime64[Y]").astype(np.int64) + 1970),
        (5, 2, months.astype(np.int64) % 12 + 1),
        (8, 2, (days - months).astype(np.int64) + 1),
        (11, 2, secs // 3600),
        (14, 2, secs // 60 % 60),
        (17, 2, secs % 60),
    )
    buf = np.tile(np.frombuffer(b"0000-00-00T00:00:00+08:00", dtype=np.uint8), (len(t), 1))
    for start, width, value in fields:
        value = value.astype(np.int32)  # below 10,000: the digits in 32-bit steps
        for k in range(width):
            buf[:, start + width - 1 - k] = value % 10 + 48
            value //= 10
    return buf


def _from_excel(number: float) -> dt.datetime:
    lo, hi = _EXCEL_RANGE
    if not np.isfinite(number) or not lo <= number <= hi:
        raise ValueError(f"{number!r} is not a date: as an Excel serial number it lies outside 1990-2099; write e.g. 2021-03-04 21:15")
    from openpyxl.utils.datetime import from_excel  # only for Excel serial numbers: openpyxl is slow to import

    # Round to the second: Excel stores times as fractions of a day.
    t = from_excel(number)
    return t.replace(microsecond=0) + dt.timedelta(seconds=round(t.microsecond / 1e6))


def format_time(t: dt.datetime) -> str:
    """Return the store's text of a naive local time: ISO 8601 with ``+08:00``."""
    return t.strftime("%Y-%m-%dT%H:%M:%S") + "+08:00"



# --- periods --------------------------------------------------------------------


def local_seconds(t: dt.datetime) -> int:
    return int((t - dt.datetime(1970, 1, 1)).total_seconds())


def period_bounds(start=None, end=None) -> tuple[int | None, int | None]:
    """Return ``(lo, hi)`` in local int64 seconds for a period, ``lo`` inclusive and ``hi`` exclusive.

    Parameters
    ----------
    start, end
        A year (``2019``), a month (``"2019-03"``), a day (``"2019-03-04"``), a
        datetime, or None for no bound. ``end`` is inclusive of its whole year,
        month or day: ``period_bounds(2019, 2021)`` is 2019-01-01 to 2021-12-31.

    Returns
    -------
    tuple
        Seconds as in :attr:`IncidentArrays.time_s`; None for an open end.
    """

    def parse(v, is_end: bool) -> int | None:
        if v is None:
            return None
        if isinstance(v, (dt.datetime, pd.Timestamp)):
            return local_seconds(parse_time(v))
        text = str(v).strip()
        m = re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", text)
        if not m:
            return local_seconds(parse_time(text))
        y, mo, d = int(m.group(1)), m.group(2), m.group(3)
        if mo is None:
            t = dt.datetime(y + 1 if is_end else y, 1, 1)
        elif d is None:
            mo_i = int(mo)
            t = dt.datetime(y + (mo_i == 12), mo_i % 12 + 1, 1) if is_end else dt.datetime(y, mo_i, 1)
        else:
            t = dt.datetime(y, int(mo), int(d)) + (dt.timedelta(days=1) if is_end else dt.timedelta(0))
        return local_seconds(t)

    return parse(start, False), parse(end, True)


def month_index(time_s: np.ndarray) -> np.ndarray:
    """Return months since 1970-01 (int64) of local times in seconds: ``year * 12 + month - 1 - 1970 * 12``."""
    return np.asarray(time_s, dtype=np.int64).astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
