"""Values from the data files shown in the page's language: the plan's periods and the geocoder's notes.

The register keeps what the files hold: the plan's periods in Chinese ("2022年1月至2022年11月") and the
geocoder's notes in English (they are written once, by the command line). The page shows them in its own
language: a period as "Jan 2022 to Nov 2022" in English, and in Chinese each clause of a note that follows one
of the geocoder's sentence forms. A clause of another form (a note typed by a user, a rare message) is shown as
it is written.
"""

from __future__ import annotations

import re

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_PERIOD = re.compile(r"^\s*(\d{4})年(\d{1,2})月\s*(?:至|到|-|—|～|~)\s*(\d{4})年(\d{1,2})月\s*$")
_MONTH = re.compile(r"^\s*(\d{4})年(\d{1,2})月\s*$")


def _month(year: str, month: str) -> str:
    m = int(month)
    return f"{_MONTHS[m - 1]} {year}" if 1 <= m <= 12 else f"{year}-{month}"


def period_text(value, lang: str) -> object:
    """A plan period ("2022年1月至2022年11月") in ``lang``: unchanged in Chinese, "Jan 2022 to Nov 2022" in English.

    Values of another form (blank, a year alone, free text) are returned as they are.
    """
    if lang == "zh" or not isinstance(value, str):
        return value
    if found := _PERIOD.match(value):
        y0, m0, y1, m1 = found.groups()
        return f"{_month(y0, m0)} to {_month(y1, m1)}"
    if found := _MONTH.match(value):
        return _month(*found.groups())
    return value


_SIDE = {"left": "左", "right": "右"}
_NUMBER = r"(\d+(?:\.\d+)?)"
_BETWEEN_SIDE = re.compile(rf"^between numbers (\S+) and (\S+) on the (left|right) side of segment (\S+), {_NUMBER} m from the centreline$")
_BETWEEN_MIDDLE = re.compile(
    r"^between numbers (\S+) and (\S+) on the centreline of segment (\S+), since the range has numbers on both sides of the road$")
_CLAUSES = (
    (re.compile(rf"^(附\S+号) set back {_NUMBER} m behind the street front$"), lambda m: f"{m[1]}按退后临街面{m[2]}米放置"),
    (re.compile(r"^road position approximate, not surveyed$"), lambda m: "道路位置为近似，非实测"),
    (re.compile(r"^surveyed position from (\S+) row (\d+)(?:, converted from (\S+))?(?:: (.*))?$", re.S),
     lambda m: f"实测位置（{m[1]} 第{m[2]}行" + (f"，由{m[3]}换算" if m[3] else "") + "）" + (f"：{m[4]}" if m[4] else "")),
)


def _between_zh(part: str) -> str | None:
    if found := _BETWEEN_SIDE.match(part):
        lo, hi, side, segment, metres = found.groups()
        return f"在路段{segment}{_SIDE[side]}侧第{lo}号至第{hi}号之间插值，距道路中线{metres}米"
    if found := _BETWEEN_MIDDLE.match(part):
        lo, hi, segment = found.groups()
        return f"在路段{segment}中线上第{lo}号至第{hi}号之间插值（门牌号分布在道路两侧）"
    return None


def _clause_zh(clause: str) -> str:
    if clause.startswith("interpolated between numbers "):
        parts = re.split(r" and (?=between numbers )", clause[len("interpolated "):])
        said = [_between_zh(p) for p in parts]
        if all(said):
            return "；".join(said)
        return clause
    for pattern, words in _CLAUSES:
        if found := pattern.match(clause):
            return words(found)
    return clause


def geocode_note_text(value, lang: str) -> object:
    """A geocoder's note in ``lang``: unchanged in English; in Chinese each clause of a known form translated.

    Clauses are separated by "; " as the geocoder writes them.
    """
    if lang != "zh" or not isinstance(value, str) or not value:
        return value
    return "；".join(_clause_zh(c) for c in value.split("; "))
