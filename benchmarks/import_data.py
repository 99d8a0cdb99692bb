"""A synthetic incident export of any size, written to disk for the import benchmark, with a few bad rows planted.

Every row is invented (``synthetic`` is ``true`` on each): ids, times, labels and
positions are drawn from a seeded generator around Wanzhou. The columns are those
of a 110 export with Chinese headers; times come in the formats exports use
(mostly ``2021-03-04 21:15:00``, some ``2021/3/4 21:15``, a few ``2021年3月4日
21时15分``), labels in the Chinese and English forms of the label table, about one
row in twenty with GCJ-02 coordinates. :data:`BAD_ROWS` lists the planted rows
and the words their rejection must carry.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

#: Headers of the generated export.
HEADERS = ("警情编号", "报警时间", "警情类别", "警情细类", "来源", "经度", "纬度", "坐标系", "发案地址", "简要案情", "synthetic")

_LABELS = (
    ("盗窃", "入户盗窃"),
    ("盗窃", "盗窃车内物品"),
    ("盗窃", "扒窃"),
    ("侵财", "电诈"),
    ("侵财", "抢夺"),
    ("刑事", ""),
    ("矛盾纠纷", "邻里"),
    ("矛盾纠纷", "家庭纠纷"),
    ("dispute", "debt dispute"),
    ("其他警情", ""),
)
_SOURCES = ("110", "110警情", "刑事案件", "矛盾纠纷登记")

#: Planted bad rows: offset from the end of each tenth of the file -> (what is wrong, words of the rejection).
BAD_KINDS: tuple[tuple[str, str], ...] = (
    ("time of day without a date", "without a date"),
    ("longitude and latitude swapped", "swapped"),
    ("a label outside the taxonomy", "飞碟"),
    ("an id used earlier in the file", "duplicate id"),
    ("latitude missing", "latitude: missing"),
    ("a date that does not exist", "day is out of range"),
)


def bad_rows(rows: int) -> dict[int, str]:
    """Row numbers (header = row 1) of the planted bad rows of a file of ``rows`` data rows -> words of their rejection."""
    if rows < 20:
        return {}
    step = rows // (len(BAD_KINDS) + 1)
    return {2 + step * (k + 1): words for k, (_, words) in enumerate(BAD_KINDS)}


def write_export(path: str | os.PathLike, rows: int, *, seed: int = 2022) -> dict[int, str]:
    """Write a synthetic export of ``rows`` data rows to ``path`` (UTF-8 with BOM, as Excel saves CSV UTF-8).

    Returns
    -------
    dict
        The planted bad rows (:func:`bad_rows`): row number -> words of the reason.
    """
    rng = np.random.default_rng(seed)
    start = np.datetime64("2019-01-01T00:00:00", "s")
    t = start + rng.integers(0, 3 * 365 * 86400, rows).astype("timedelta64[s]")
    iso = np.datetime_as_string(t, unit="s")
    text = pd.Series(iso).str.replace("T", " ", regex=False)
    # Some exports write 2021/3/4 21:15, a few 2021年3月4日 21时15分.
    kind = rng.random(rows)
    dt_index = pd.DatetimeIndex(t)
    slash = kind < 0.1
    text[slash] = [f"{d.year}/{d.month}/{d.day} {d.hour}:{d.minute:02d}" for d in dt_index[slash]]
    chinese = kind > 0.995
    text[chinese] = [f"{d.year}年{d.month}月{d.day}日 {d.hour}时{d.minute}分" for d in dt_index[chinese]]
    label = rng.integers(0, len(_LABELS), rows)
    cats = np.array([c for c, _ in _LABELS], dtype=object)[label]
    subs = np.array([s for _, s in _LABELS], dtype=object)[label]
    src = np.array(_SOURCES, dtype=object)[rng.integers(0, len(_SOURCES), rows)]
    lon = 108.38 + rng.normal(0, 0.03, rows)
    lat = 30.81 + rng.normal(0, 0.03, rows)
    datum = np.where(rng.random(rows) < 0.05, "gcj02", "")
    road = rng.integers(1, 900, rows)
    df = pd.DataFrame(
        {
            "警情编号": np.char.add("110-", np.char.zfill(np.arange(1, rows + 1).astype(str), 8)),
            "报警时间": text.to_numpy(),
            "警情类别": cats,
            "警情细类": subs,
            "来源": src,
            "经度": np.char.mod("%.7f", lon),
            "纬度": np.char.mod("%.7f", lat),
            "坐标系": datum,
            "发案地址": np.char.add(np.char.add("合成路", road.astype(str)), "号"),
            "简要案情": np.where(rng.random(rows) < 0.3, "合成案情摘要", ""),
            "synthetic": "true",
        }
    )
    planted = bad_rows(rows)
    for (row, _), (what, _) in zip(planted.items(), BAD_KINDS, strict=True):
        i = row - 2
        if what.startswith("time of day"):
            df.iat[i, 1] = "21:15"
        elif what.startswith("longitude and"):
            df.iat[i, 5], df.iat[i, 6] = df.iat[i, 6], df.iat[i, 5]
        elif what.startswith("a label"):
            df.iat[i, 2], df.iat[i, 3] = "飞碟", ""
        elif what.startswith("an id"):
            df.iat[i, 0] = df.iat[0, 0]
        elif what.startswith("latitude"):
            df.iat[i, 6] = ""
        else:
            df.iat[i, 1] = "2021-02-30 10:00:00"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return planted
