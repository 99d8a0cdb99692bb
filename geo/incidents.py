"""Incidents: the taxonomy, the incident store and the importer.

An incident is one 110 call (110警情), one criminal case (刑事案件) or one entry of
the dispute register (矛盾纠纷登记). The store ``data/incidents.csv`` holds one row
per incident with the columns of :data:`STORE_COLUMNS`: local time in
Asia/Shanghai (ISO 8601 with ``+08:00``), category and subcategory of
:data:`CATEGORIES`, source of :data:`SOURCES`, WGS-84 longitude/latitude,
address, free text, a ``synthetic`` flag and how the position was found
(``x_geocode_quality``). ``python -m geo validate data/incidents.csv`` checks it.

Taxonomy (the plan's words, P3 and P4):

=========  =====================================================  ==========================
category   subcategories                                          meaning
=========  =====================================================  ==========================
盗窃       入室盗窃, 盗窃车内物品, 其他盗窃                       theft
侵财       抢劫, 抢夺, 电信网络诈骗, 其他侵财                     other property crime
刑事       其他刑事                                               other criminal offences
矛盾纠纷   邻里纠纷, 家庭纠纷, 感情纠纷, 债务纠纷, 其他纠纷       disputes
其他警情   其他警情                                               other 110 calls
=========  =====================================================  ==========================

The categories nest as the plan counts them: theft is a property crime (the
plan lists 入室盗窃 and 盗窃车内物品 among 侵财类案件) and every property crime is
criminal. Labels found in real exports are mapped through :data:`LABEL_TABLE`
(``入户盗窃`` -> 盗窃/入室盗窃, ``电诈`` -> 侵财/电信网络诈骗, English labels too);
a label that maps nowhere rejects its row with the label named, it is never
guessed.

For speed the analysis modules work on :class:`IncidentArrays`: NumPy arrays
of longitude, latitude, local time (int64 seconds) and category/source codes,
with no shapely object per incident.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io as _stdio
import json
import os
import re
import shutil
import tempfile
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo import crs as _crs
from geo import settings
from geo._atomic import atomic_writer
from geo.errors import DataFileError, DatumError, GeoError, SchemaError

# --- taxonomy ------------------------------------------------------------------

#: Categories and their subcategories; the order gives the integer codes.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "盗窃": ("入室盗窃", "盗窃车内物品", "其他盗窃"),
    "侵财": ("抢劫", "抢夺", "电信网络诈骗", "其他侵财"),
    "刑事": ("其他刑事",),
    "矛盾纠纷": ("邻里纠纷", "家庭纠纷", "感情纠纷", "债务纠纷", "其他纠纷"),
    "其他警情": ("其他警情",),
}

#: Category names in code order (code = index).
CATEGORY_NAMES: tuple[str, ...] = tuple(CATEGORIES)

#: English meaning of each category.
CATEGORY_ENGLISH: dict[str, str] = {
    "盗窃": "theft",
    "侵财": "other property crime",
    "刑事": "other criminal offence",
    "矛盾纠纷": "dispute",
    "其他警情": "other 110 call",
}

#: Subcategory names in code order (code = index).
SUBCATEGORY_NAMES: tuple[str, ...] = tuple(s for subs in CATEGORIES.values() for s in subs)

#: Parent of each category in the plan's counting: theft is a property crime, property crime is criminal.
CATEGORY_PARENT: dict[str, str | None] = {"盗窃": "侵财", "侵财": "刑事", "刑事": None, "矛盾纠纷": None, "其他警情": None}

#: Sources in code order: 110 calls, criminal cases, the dispute register.
SOURCES: dict[str, str] = {
    "110": "110警情 (110 call)",
    "criminal_case": "刑事案件 (criminal case)",
    "dispute_register": "矛盾纠纷登记 (dispute register)",
}
SOURCE_NAMES: tuple[str, ...] = tuple(SOURCES)

#: Columns of the incident store, in order.
STORE_COLUMNS: tuple[str, ...] = (
    "incident_id",
    "time",
    "category",
    "subcategory",
    "source",
    "lon",
    "lat",
    "address",
    "text",
    "synthetic",
    "x_geocode_quality",
)

#: Local time zone of every incident time.
TIMEZONE = "Asia/Shanghai"
_UTC_OFFSET_S = 8 * 3600  # China has kept UTC+8 with no daylight saving since 1991.

#: Local hours counted as night, 20:00 to 06:00 (the heat layer's night filter, the demo theft profile).
NIGHT_HOURS: tuple[int, ...] = (*range(20, 24), *range(0, 6))


def _label_key(label) -> str:
    text = unicodedata.normalize("NFKC", str(label)).strip().lower()
    return re.sub(r"[\s_\-/·.、]+", "", text)


_ALIASES: list[tuple[tuple[str, str | None], tuple[str, ...]]] = [
    (("盗窃", None), ("盗窃", "盗窃案", "盗窃案件", "盗窃类", "theft", "larceny", "stealing")),
    (("盗窃", "入室盗窃"), ("入室盗窃", "入户盗窃", "入室盗窃案", "撬门入室盗窃", "溜门入室盗窃", "burglary", "home burglary", "residential burglary", "breaking and entering")),
    (("盗窃", "盗窃车内物品"), ("盗窃车内物品", "盗窃车内财物", "车内盗窃", "砸车盗窃", "砸车窗盗窃", "theft from vehicle", "theft from car", "theft from a vehicle", "car break-in")),
    (("盗窃", "其他盗窃"), ("其他盗窃", "扒窃", "盗窃电动车", "盗窃电瓶车", "盗窃自行车", "盗窃摩托车", "盗窃机动车", "盗窃电瓶", "other theft", "pickpocketing", "bicycle theft", "vehicle theft", "e-bike theft")),
    (("侵财", None), ("侵财", "侵财类", "侵财案件", "侵财类案件", "property crime", "property offence", "property offense")),
    (("侵财", "抢劫"), ("抢劫", "抢劫案", "持刀抢劫", "robbery")),
    (("侵财", "抢夺"), ("抢夺", "抢夺案", "飞车抢夺", "snatching", "snatch theft", "bag snatching")),
    (("侵财", "电信网络诈骗"), ("电信网络诈骗", "电诈", "电信诈骗", "网络诈骗", "电话诈骗", "网络电信诈骗", "telecom fraud", "online fraud", "telecom and online fraud", "telecom network fraud", "phone scam")),
    (("侵财", "其他侵财"), ("其他侵财", "诈骗", "合同诈骗", "敲诈勒索", "侵占", "fraud", "extortion", "other property crime")),
    (("刑事", "其他刑事"), ("刑事", "刑事案件", "其他刑事", "其他刑事案件", "故意伤害", "故意毁坏财物", "寻衅滋事", "强奸", "贩毒", "assault", "criminal", "criminal case", "other criminal", "other crime", "vandalism")),
    (("矛盾纠纷", None), ("矛盾纠纷", "纠纷", "民事纠纷", "dispute", "disputes", "civil dispute")),
    (("矛盾纠纷", "邻里纠纷"), ("邻里纠纷", "邻里", "邻里矛盾", "neighbour dispute", "neighbor dispute", "neighbourhood dispute")),
    (("矛盾纠纷", "家庭纠纷"), ("家庭纠纷", "家庭", "家庭矛盾", "婚姻家庭纠纷", "家暴", "domestic dispute", "family dispute", "domestic violence")),
    (("矛盾纠纷", "感情纠纷"), ("感情纠纷", "感情", "情感纠纷", "恋爱纠纷", "relationship dispute", "romantic dispute")),
    (("矛盾纠纷", "债务纠纷"), ("债务纠纷", "债务", "经济纠纷", "欠款纠纷", "借贷纠纷", "劳资纠纷", "debt dispute", "money dispute", "wage dispute")),
    (("矛盾纠纷", "其他纠纷"), ("其他纠纷", "other dispute")),
    (("其他警情", "其他警情"), ("其他警情", "其他", "其它", "求助", "噪音扰民", "交通事故", "走失", "咨询", "other", "other 110 call", "assistance", "noise complaint", "traffic accident", "missing person")),
]

#: Documented mapping of labels found in exports to (category, subcategory).
#: Keys are normalised labels (NFKC, lower case, no spaces, dashes or dots);
#: subcategory None means the label names only the category.
LABEL_TABLE: dict[str, tuple[str, str | None]] = {_label_key(a): target for target, aliases in _ALIASES for a in aliases}

_SOURCE_ALIASES: dict[str, tuple[str, ...]] = {
    "110": ("110", "110警情", "警情", "接警", "110报警", "110 call", "110call", "call", "police call"),
    "criminal_case": ("criminal_case", "刑事案件", "刑事立案", "立案", "案件", "criminal case", "case"),
    "dispute_register": ("dispute_register", "矛盾纠纷登记", "纠纷登记", "矛盾纠纷", "调解", "dispute register", "dispute"),
}
#: Documented mapping of source labels to :data:`SOURCES`.
SOURCE_TABLE: dict[str, str] = {_label_key(a): src for src, aliases in _SOURCE_ALIASES.items() for a in aliases}


def map_label(label, extra: dict | None = None) -> tuple[str, str | None] | None:
    """Return ``(category, subcategory)`` for a label, or None when it maps nowhere.

    Parameters
    ----------
    label
        A category or subcategory label, Chinese or English (see :data:`LABEL_TABLE`).
    extra
        The user's own labels from :func:`parse_label_table`; they win over the table.

    Returns
    -------
    tuple or None
        The subcategory is None when the label names only a category.
    """
    if label is None:
        return None
    key = _label_key(label)
    if extra and key in extra:
        return extra[key]
    return LABEL_TABLE.get(key)


def parse_label_table(labels: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    """Check the user's own label table: ``{"label": "category/subcategory"}`` (or just ``"category"``).

    Returns
    -------
    dict
        Normalised label -> ``(category, subcategory)``, for :func:`classify`.

    Raises
    ------
    SchemaError
        Listing every target that is not in the taxonomy.
    """
    out: dict[str, tuple[str, str | None]] = {}
    problems = []
    for label, target in labels.items():
        cat, _, sub = str(target).partition("/")
        cat, sub = cat.strip(), sub.strip() or None
        if cat not in CATEGORIES or (sub is not None and sub not in CATEGORIES[cat]):
            problems.append(f"labels: {label!r} -> {target!r} is not in the taxonomy; write CATEGORY or CATEGORY/SUBCATEGORY, e.g. 盗窃/入室盗窃")
            continue
        out[_label_key(label)] = (cat, sub)
    if problems:
        raise SchemaError("the label table has targets outside the taxonomy", problems)
    return out


def _is_ancestor(parent: str, child: str) -> bool:
    c: str | None = child
    while c is not None:
        if c == parent:
            return True
        c = CATEGORY_PARENT[c]
    return False


def classify(category=None, subcategory=None, *, extra: dict | None = None) -> tuple[str, str | None]:
    """Map a pair of labels to the taxonomy.

    Parameters
    ----------
    category, subcategory
        Labels as found in a file; either may be None.
    extra
        The user's own labels (:func:`parse_label_table`).

    Returns
    -------
    (category, subcategory)
        Canonical names; the subcategory is None when only a category was given.

    Raises
    ------
    ValueError
        With the reason when a label maps nowhere, both are missing, or they disagree.
    """
    cat_given = not _blank(category)
    sub_given = not _blank(subcategory)
    if not cat_given and not sub_given:
        raise ValueError("no category: give a category (警情类别) such as 盗窃, 侵财, 刑事, 矛盾纠纷 or 其他警情")
    c = map_label(category, extra) if cat_given else None
    s = map_label(subcategory, extra) if sub_given else None
    if cat_given and c is None:
        raise ValueError(f"category label {str(category).strip()!r} maps to nothing in the taxonomy; add it to the 'labels' of a --mapping file or fix the label")
    if sub_given and s is None:
        raise ValueError(f"subcategory label {str(subcategory).strip()!r} maps to nothing in the taxonomy; add it to the 'labels' of a --mapping file or fix the label")
    if s is None:
        return c  # type: ignore[return-value]
    if c is not None and not _is_ancestor(c[0], s[0]):
        raise ValueError(f"category {str(category).strip()!r} ({c[0]}) and subcategory {str(subcategory).strip()!r} ({s[0]}) disagree; fix one of them")
    if s[1] is None and c is not None and c[0] == s[0]:
        return c
    return s


def map_source(label) -> str | None:
    """Return the canonical source (:data:`SOURCE_NAMES`) of a label, or None when it maps nowhere."""
    if _blank(label):
        return None
    return SOURCE_TABLE.get(_label_key(label))


def _blank(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and np.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


# --- times ----------------------------------------------------------------------

_DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?"
    r"(?:\s*[T\s]?\s*(\d{1,2})\s*[:时点]\s*(?:(\d{1,2})\s*(?:[:分]\s*(?:(\d{1,2})(?:\.\d+)?\s*秒?)?)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_COMPACT_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:[T\s]?(\d{2})(\d{2})(\d{2})?)?$")
_TIME_ONLY_RE = re.compile(r"^(?:上午|下午|晚上)?\s*\d{1,2}\s*[:时点]\s*\d{0,2}\s*分?(?:\s*[:]?\s*\d{1,2}\s*秒?)?$")
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
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
    text = unicodedata.normalize("NFKC", str(value)).strip()
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
    if _TIME_ONLY_RE.match(text):
        raise ValueError(f"{text!r} is a time of day without a date; give the date too (e.g. 2021-03-04 21:15)")
    raise ValueError(f"{text!r} is not a date and time; write e.g. 2021-03-04 21:15 or 2021年3月4日 21时15分")


def _from_excel(number: float) -> dt.datetime:
    lo, hi = _EXCEL_RANGE
    if not np.isfinite(number) or not lo <= number <= hi:
        raise ValueError(f"{number!r} is not a date: as an Excel serial number it lies outside 1990-2099; write e.g. 2021-03-04 21:15")
    # Round to the second: Excel stores times as fractions of a day.
    return _EXCEL_EPOCH + dt.timedelta(seconds=round(number * 86400.0))


def format_time(t: dt.datetime) -> str:
    """Return the store's text of a naive local time: ISO 8601 with ``+08:00``."""
    return t.strftime("%Y-%m-%dT%H:%M:%S") + "+08:00"


# --- arrays ---------------------------------------------------------------------


@dataclass
class IncidentArrays:
    """Incidents as NumPy arrays, one element per incident.

    Attributes
    ----------
    lon, lat
        WGS-84 degrees (float64); NaN where unknown.
    time_s
        Local wall-clock time in Asia/Shanghai as int64 seconds since
        1970-01-01 00:00 (local), so ``time_s // 3600 % 24`` is the hour of day.
    category
        int8 codes into :data:`CATEGORY_NAMES`.
    subcategory
        int8 codes into :data:`SUBCATEGORY_NAMES`, -1 when none.
    source
        int8 codes into :data:`SOURCE_NAMES`.
    ids
        Incident ids (object array), or None when not kept.
    """

    lon: np.ndarray
    lat: np.ndarray
    time_s: np.ndarray
    category: np.ndarray
    subcategory: np.ndarray
    source: np.ndarray
    ids: np.ndarray | None = None
    attrs: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.lon.shape[0])

    def subset(self, mask: np.ndarray) -> IncidentArrays:
        """Return the incidents where ``mask`` is True (or at the given indices)."""
        return IncidentArrays(
            self.lon[mask],
            self.lat[mask],
            self.time_s[mask],
            self.category[mask],
            self.subcategory[mask],
            self.source[mask],
            None if self.ids is None else self.ids[mask],
            dict(self.attrs),
        )

    @property
    def hour(self) -> np.ndarray:
        """Hour of day, 0-23 (int64)."""
        return (self.time_s // 3600) % 24

    @property
    def times(self) -> np.ndarray:
        """Local times as ``datetime64[s]`` (naive, Asia/Shanghai wall clock)."""
        return self.time_s.astype("datetime64[s]")

    def to_frame(self) -> pd.DataFrame:
        """Return a DataFrame with readable columns (time as naive local datetime64)."""
        sub_names = np.array((*SUBCATEGORY_NAMES, None), dtype=object)
        return pd.DataFrame(
            {
                "incident_id": self.ids if self.ids is not None else np.arange(len(self)).astype(str),
                "time": self.times,
                "category": np.asarray(CATEGORY_NAMES, dtype=object)[self.category],
                "subcategory": sub_names[self.subcategory],
                "source": np.asarray(SOURCE_NAMES, dtype=object)[self.source],
                "lon": self.lon,
                "lat": self.lat,
            }
        )

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> IncidentArrays:
        """Build arrays from a frame with ``time``, ``category``, ``source`` and ``lon``/``lat`` (or a point geometry).

        ``time`` may be datetime64 (naive local, or tz-aware: converted to
        Asia/Shanghai) or store text; ``category``/``source`` canonical names.

        Raises
        ------
        SchemaError
            If a column is missing or holds a value outside the taxonomy.
        """
        problems: list[str] = []
        if "lon" in df.columns and "lat" in df.columns:
            lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(dtype=float)
            lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(dtype=float)
        elif hasattr(df, "geometry"):
            g = df.to_crs(settings.storage_crs).geometry if df.crs is not None else df.geometry
            lon, lat = g.x.to_numpy(dtype=float), g.y.to_numpy(dtype=float)
        else:
            problems.append("columns 'lon' and 'lat' (WGS-84 degrees) or a point geometry are needed")
            lon = lat = np.zeros(0)
        for col in ("time", "category", "source"):
            if col not in df.columns:
                problems.append(f"column '{col}' is missing")
        if problems:
            raise SchemaError("incidents cannot be used", problems)
        time_s = _times_to_seconds(df["time"])
        category = _codes(df["category"], CATEGORY_NAMES, "category", problems)
        source = _codes(df["source"], SOURCE_NAMES, "source", problems)
        if "subcategory" in df.columns:
            sub = df["subcategory"].where(df["subcategory"].notna(), None)
            subcategory = _codes(sub, SUBCATEGORY_NAMES, "subcategory", problems, allow_missing=True)
        else:
            subcategory = np.full(len(df), -1, dtype=np.int8)
        if problems:
            raise SchemaError("incidents cannot be used", problems)
        ids = df["incident_id"].astype(str).to_numpy(dtype=object) if "incident_id" in df.columns else None
        return cls(lon, lat, time_s, category, subcategory, source, ids)


def _codes(values: pd.Series, names: tuple[str, ...], what: str, problems: list[str], *, allow_missing: bool = False) -> np.ndarray:
    cat = pd.Categorical(values, categories=list(names))
    codes = np.asarray(cat.codes, dtype=np.int8)
    bad = codes < 0
    if allow_missing:
        bad &= pd.notna(values).to_numpy() & (values.astype(str).str.strip() != "").to_numpy()
    if bad.any():
        odd = sorted({str(v) for v in np.asarray(values, dtype=object)[bad]})[:5]
        problems.append(f"column '{what}': {len(np.flatnonzero(bad))} values outside the taxonomy, e.g. {odd}; use one of {', '.join(names)}")
    return codes


def _times_to_seconds(values: pd.Series) -> np.ndarray:
    """Local (Asia/Shanghai) int64 seconds of times: naive values are local wall-clock time, aware ones are converted.

    ISO 8601 text is parsed vectorised when every value is naive or every value
    carries the same offset; anything else (mixed offsets, 2021/3/4, 2021年3月4日,
    datetime objects) goes value by value through :func:`parse_time`.
    Missing values (NaN, None) become NaT's integer, as before.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        s = values
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert(TIMEZONE).dt.tz_localize(None)
        return s.to_numpy(dtype="datetime64[s]").astype(np.int64)
    values = pd.Series(values)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            parsed = pd.to_datetime(values, format="ISO8601")
    except (ValueError, TypeError, Warning):
        parsed = None
    if parsed is not None and pd.api.types.is_datetime64_any_dtype(parsed):
        return _times_to_seconds(parsed)
    missing = values.isna().to_numpy()
    out = np.full(len(values), np.iinfo(np.int64).min, dtype=np.int64)
    out[~missing] = [_local_seconds(parse_time(v)) for v in values.to_numpy(dtype=object)[~missing]]
    return out


def load_incidents(path: str | os.PathLike | None = None) -> IncidentArrays:
    """Read the incident store (default ``data/incidents.csv``) into arrays.

    Parameters
    ----------
    path
        A store written by :func:`import_incidents` or the demo generator.

    Returns
    -------
    IncidentArrays
        ``attrs["synthetic"]`` is True when any row is marked synthetic,
        ``attrs["source"]`` the path.

    Raises
    ------
    DataFileError
        If the file is missing or not an incident store.
    """
    path = Path(path) if path is not None else settings.data_path("incidents.csv")
    if not path.exists():
        msg = f"{path}: no incident store; import one with 'python -m geo incidents import FILE' or make the demo with scripts/make_demo_incidents.py"
        raise DataFileError(msg)
    _check_store_header(path)
    df = pd.read_csv(
        path,
        encoding="utf-8-sig",
        usecols=["incident_id", "time", "category", "subcategory", "source", "lon", "lat", "synthetic"],
        dtype={"incident_id": str, "time": str, "category": str, "subcategory": str, "source": str, "synthetic": str},
        keep_default_na=False,
        na_values=[""],
    )
    try:
        arrays = IncidentArrays.from_frame(df)
    except SchemaError as exc:
        msg = f"{path}: not a valid incident store"
        raise SchemaError(msg, exc.problems) from exc
    except ValueError as exc:
        msg = f"{path}: a 'time' value is not ISO 8601 ({exc}); re-import the source file"
        raise DataFileError(msg) from exc
    arrays.attrs["synthetic"] = bool(df["synthetic"].astype(str).str.lower().eq("true").any())
    arrays.attrs["source"] = str(path)
    return arrays


def _check_store_header(path: Path) -> None:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh), [])
    if tuple(header) != STORE_COLUMNS:
        msg = f"{path}: not an incident store (its header is {header[:6]}...); the store's columns are {', '.join(STORE_COLUMNS)}"
        raise DataFileError(msg)


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


def _iter_chunks(path: Path, chunksize: int) -> tuple[list[str], Iterator[pd.DataFrame]]:
    """Return the headers and an iterator of object DataFrames of at most ``chunksize`` rows."""
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        import openpyxl

        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises zipfile, KeyError and its own errors on a bad workbook
            msg = f"{path}: cannot be read as an XLSX workbook ({exc})"
            raise DataFileError(msg) from exc
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None:
            wb.close()
            msg = f"{path}: the first sheet is empty; it needs a header row"
            raise DataFileError(msg)
        headers = [str(h).strip() if h is not None else f"column {i + 1}" for i, h in enumerate(header_row)]

        def gen() -> Iterator[pd.DataFrame]:
            try:
                batch: list = []
                for r in rows:
                    r = list(r[: len(headers)]) + [None] * (len(headers) - len(r))
                    batch.append(r)
                    if len(batch) >= chunksize:
                        yield pd.DataFrame(batch, columns=headers, dtype=object)
                        batch = []
                if batch:
                    yield pd.DataFrame(batch, columns=headers, dtype=object)
            finally:
                wb.close()

        return headers, gen()
    if suffix not in {".csv", ".txt"}:
        msg = f"{path}: unsupported file type {suffix!r}; import .csv or .xlsx"
        raise DataFileError(msg)
    if path.stat().st_size == 0:
        msg = f"{path}: the file is empty; it needs a header row"
        raise DataFileError(msg)
    from geo.io import detect_encoding

    enc = detect_encoding(path)
    try:
        reader = pd.read_csv(
            path, dtype=str, encoding=enc, keep_default_na=False, na_values=[""], skip_blank_lines=False, chunksize=chunksize
        )
    except pd.errors.EmptyDataError as exc:
        msg = f"{path}: the file has no header row; it needs one"
        raise DataFileError(msg) from exc
    headers = [str(c).strip().lstrip("\ufeff") for c in reader.orig_names] if hasattr(reader, "orig_names") else None

    def gen_csv() -> Iterator[pd.DataFrame]:
        try:
            for chunk in reader:
                chunk.columns = [str(c).strip().lstrip("\ufeff") for c in chunk.columns]
                yield chunk.astype(object)
        except pd.errors.ParserError as exc:
            msg = f"{path}: not a well-formed CSV table ({exc}); check quoting and the number of columns on that line"
            raise DataFileError(msg) from exc
        finally:
            reader.close()

    it = gen_csv()
    if headers is None:
        first = next(it, None)
        if first is None:
            return [], iter(())
        headers = list(first.columns)

        def chained() -> Iterator[pd.DataFrame]:
            yield first
            yield from it

        return headers, chained()
    return headers, it


_FULLWIDTH = str.maketrans("０１２３４５６７８９．－＋，", "0123456789.-+,")


def _number(value) -> float | None:
    if _blank(value):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        f = float(value)
    else:
        text = unicodedata.normalize("NFKC", str(value)).translate(_FULLWIDTH).strip().replace("°", "")
        try:
            f = float(text)
        except ValueError:
            return None
    return f if np.isfinite(f) else None


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
        if all(_blank(v) for v in rec.values()):
            result.empty += 1
            continue
        reasons: list[str] = []
        # time
        t = None
        time_v, date_v = get(rec, "time"), get(rec, "date")
        try:
            if not _blank(date_v) and not _blank(time_v) and isinstance(time_v, (str, dt.time)) and _is_time_only(time_v):
                d = parse_time(date_v)
                tt = time_v if isinstance(time_v, dt.time) else _parse_clock(str(time_v))
                t = dt.datetime(d.year, d.month, d.day, tt.hour, tt.minute, tt.second)
            elif not _blank(time_v):
                t = parse_time(time_v)
            elif not _blank(date_v):
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
        src = map_source(src_label) if not _blank(src_label) else ctx.source
        if src is None:
            if _blank(src_label):
                reasons.append("no source: add a source column (110, 刑事案件, 矛盾纠纷登记) or pass --source")
            else:
                reasons.append(f"source label {str(src_label).strip()!r} maps to nothing; use 110, 刑事案件 (criminal_case) or 矛盾纠纷登记 (dispute_register)")
        # location
        lon_v, lat_v = get(rec, "lon"), get(rec, "lat")
        address = get(rec, "address")
        address = None if _blank(address) else str(address).strip()
        lon = lat = None
        datum = ctx.datum
        if _blank(lon_v) and _blank(lat_v):
            if address is None:
                reasons.append("no location: neither coordinates (经度/纬度) nor an address")
        else:
            lon, lat = _number(lon_v), _number(lat_v)
            if lon is None or lat is None:
                which = "longitude" if lon is None else "latitude"
                raw = lon_v if lon is None else lat_v
                reasons.append(f"{which}: missing while the other coordinate is given" if _blank(raw) else f"{which}: {raw!r} is not a number of degrees")
            elif not bool(_crs.in_china(lon, lat)):
                if bool(_crs.in_china(lat, lon)):
                    reasons.append(f"longitude and latitude look swapped ({lon}, {lat}); put longitude (about 108.4 here) in the lon column")
                else:
                    reasons.append(f"coordinates ({lon}, {lat}) lie outside China; check the numbers and that they are degrees")
            d_label = get(rec, "datum")
            if not _blank(d_label):
                try:
                    datum = _crs.normalize_datum(str(d_label))
                except DatumError as exc:
                    reasons.append(f"datum: {exc}")
        # id
        iid = get(rec, "incident_id")
        if not _blank(iid):
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
                "text": "" if _blank(text) else str(text).strip(),
                "synthetic": "true" if not _blank(synth) and str(synth).strip().lower() in {"true", "1", "yes", "是"} else "false",
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
                p["incident_id"],
                p["time"],
                p["category"],
                p["subcategory"],
                p["source"],
                f"{p['lon']:.{prec}f}",
                f"{p['lat']:.{prec}f}",
                p["address"],
                p["text"],
                p["synthetic"],
                p["quality"],
            ]
        )
    result.imported += len(out_rows)
    return out_rows


def _id_text(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return unicodedata.normalize("NFKC", str(v)).strip()


def _is_time_only(v) -> bool:
    return isinstance(v, dt.time) or bool(_TIME_ONLY_RE.match(unicodedata.normalize("NFKC", str(v)).strip()))


def _parse_clock(text: str) -> dt.time:
    nums = [int(n) for n in re.findall(r"\d+", unicodedata.normalize("NFKC", text))]
    h = nums[0] + (12 if ("下午" in text or "晚上" in text) and nums[0] < 12 else 0)
    return dt.time(h, nums[1] if len(nums) > 1 else 0, nums[2] if len(nums) > 2 else 0)


def _reject(out, result: ImportResult, row: int, reason: str, rec: dict) -> None:
    result.rejected += 1
    if len(result.rejects) < 1000:
        result.rejects.append((row, reason))
    raw = json.dumps({k: _plain(v) for k, v in rec.items()}, ensure_ascii=False)
    out.writerow([row, reason, raw])


def _plain(v):
    if _blank(v):
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
    path: str | os.PathLike,
    *,
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
        ``.csv`` (UTF-8, UTF-8 with BOM or GB18030/GBK, detected) or ``.xlsx`` (first sheet).
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
    path = Path(path)
    if not path.exists():
        msg = f"{path}: no such file"
        raise DataFileError(msg)
    out = Path(out) if out is not None else settings.data_path("incidents.csv")
    rejects_path = Path(rejects) if rejects is not None else out.parent / f"{path.stem}_rejects.csv"
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

    existing: set[str] = set()
    store_total = 0
    if out.exists() and out.stat().st_size > 0:
        _check_store_header(out)
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
                if not _ends_with_newline(out):
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


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        if fh.tell() == 0:
            return True
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


def write_store(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a frame with :data:`STORE_COLUMNS` as an incident store (UTF-8 with BOM, atomic).

    Parameters
    ----------
    df
        Columns of :data:`STORE_COLUMNS`; ``time`` as store text.
    path
        Destination.

    Returns
    -------
    pathlib.Path
    """
    missing = [c for c in STORE_COLUMNS if c not in df.columns]
    if missing:
        msg = f"cannot write an incident store: columns {missing} are missing"
        raise SchemaError(msg)
    buf = _stdio.StringIO()
    df.loc[:, list(STORE_COLUMNS)].to_csv(buf, index=False, lineterminator="\r\n")
    path = Path(path)
    with atomic_writer(path, "w", encoding="utf-8-sig", newline="") as fh:
        fh.write(buf.getvalue())
    return path


# --- periods --------------------------------------------------------------------


def _local_seconds(t: dt.datetime) -> int:
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
            return _local_seconds(parse_time(v))
        text = str(v).strip()
        m = re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", text)
        if not m:
            return _local_seconds(parse_time(text))
        y, mo, d = int(m.group(1)), m.group(2), m.group(3)
        if mo is None:
            t = dt.datetime(y + 1 if is_end else y, 1, 1)
        elif d is None:
            mo_i = int(mo)
            t = dt.datetime(y + (mo_i == 12), mo_i % 12 + 1, 1) if is_end else dt.datetime(y, mo_i, 1)
        else:
            t = dt.datetime(y, int(mo), int(d)) + (dt.timedelta(days=1) if is_end else dt.timedelta(0))
        return _local_seconds(t)

    return parse(start, False), parse(end, True)


def month_index(time_s: np.ndarray) -> np.ndarray:
    """Return months since 1970-01 (int64) of local times in seconds: ``year * 12 + month - 1 - 1970 * 12``."""
    return np.asarray(time_s, dtype=np.int64).astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)


def as_arrays(incidents) -> IncidentArrays:
    """Return ``incidents`` as :class:`IncidentArrays` (arrays pass through; frames are converted)."""
    if isinstance(incidents, IncidentArrays):
        return incidents
    if isinstance(incidents, pd.DataFrame):
        return IncidentArrays.from_frame(incidents)
    msg = f"incidents must be IncidentArrays or a DataFrame, not {type(incidents).__name__}"
    raise TypeError(msg)
