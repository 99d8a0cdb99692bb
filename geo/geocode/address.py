"""Parsing of Shahe-style street addresses.

An address of the plan's ledger reads, from large to small::

    [重庆市][万州区][沙河街道][凤仙路社区] 凤仙路 457号 附1号

that is an optional administrative prefix, a road name ending in 路, 大道,
街, 巷 or 道, a house number or a range of them (431-441号, 1-5号) and an
optional sub-number (附N号, 附1、2、3号, 附1-3号, 457-3, 457号之3). ``N-M``
after the road is a range when M is larger than N and a sub-number when it is
not (457-3 is 457号附3号). Words after the number (旁, 对面, 3栋2单元, a
landmark) are kept in ``extra``, never dropped. :func:`normalize_address` folds full-width digits and
punctuation to ASCII and drops spaces, so variants typed by hand parse to the
same parts. :func:`parse_address` raises :class:`~geo.errors.GeocodeError`
naming the part it could not find; it never guesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from geo._validate import ascii_text
from geo.errors import GeocodeError

__all__ = ["ParsedAddress", "admin_tokens", "describe_ignored", "normalize_address", "outside_reason", "parse_address"]

#: Suffixes that end a road name, longest first.
ROAD_SUFFIXES: tuple[str, ...] = ("大道", "大街", "路", "街", "巷", "道")

#: Administrative names of the subdistrict, as an address prefix may give them.
CITY = "重庆市"
DISTRICT = "万州区"
SUBDISTRICT = "沙河街道"
#: Village-level units of the subdistrict (a 2019-era dictionary); see DOMAIN.md.
COMMUNITIES: tuple[str, ...] = ("凤仙路社区", "申明社区", "沙河社区", "花青路社区", "玉城社区", "落凼社区")

# Short forms folded to the full names before the prefix is read.
_PREFIX_ALIASES = (
    (re.compile(r"^重庆(?!市)"), "重庆市"),
    (re.compile(r"^万州(?!区)"), "万州区"),
    (re.compile(r"^沙河街道办事处"), "沙河街道"),
    (re.compile(r"^沙河(?=凤仙路|申明|花青路|花园路|青年路|文家巷|滨湖路)"), "沙河街道"),
)
# One administrative token: the shortest run of non-digits ending in an admin suffix.
_PREFIX_TOKEN = re.compile(r"^(?P<tok>[^\d号]+?(?:省|自治区|市|区|县|街道办事处|街道|镇|乡|社区|居委会|村委会|村))")
_ROAD_SUFFIX_RE = "|".join(ROAD_SUFFIXES)
_ROAD_NUMBER = re.compile(rf"(?P<road>.*?(?:{_ROAD_SUFFIX_RE}))(?P<number>\d+)")
_TAIL = re.compile(
    r"""^(?P<number>\d+)
        (?:
            号?(?:附|之)(?P<subs>\d+(?:、\d+)*)(?:-(?P<subs_to>\d+))?号?   # 附1号, 附1、2、3号, 之3, 附1-3号
          | 号?-(?P<dash>\d+)号?                      # 457-3 (sub-number), 431-441号 (range)
          | 号                                       # 457号
        )?
        (?P<extra>.*)$""",
    re.VERBOSE,
)

#: Longest sub-number range spelt out (附1-3号 -> 1, 2, 3).
_MAX_SUB_RANGE = 99

_DASHES = dict.fromkeys(map(ord, "－—–‐‑﹣−~〜"), "-")
# 431至441号 is a range like 431-441号.
_RANGE_WORD = re.compile(r"(?<=\d)号?至(?=\d)")
_LIST_SEPARATORS = dict.fromkeys(map(ord, ",，;；/／"), "、")


@dataclass(frozen=True)
class ParsedAddress:
    """The parts of one address.

    Attributes
    ----------
    raw
        The address as given.
    normalized
        The address after :func:`normalize_address`.
    prefix
        Administrative tokens before the road, in order (e.g. ``("重庆市", "万州区", "沙河街道")``).
    road
        Road name including its suffix, e.g. ``"凤仙路"``.
    number
        House number (门牌号) as an integer; the first of a range.
    sub_numbers
        Sub-numbers (附N号) in the order given, a range 附1-3号 spelt out as
        ``(1, 2, 3)``; empty when there is none.
    extra
        Text after the number that is not a sub-number (旁, 对面, 3栋2单元, a
        landmark), kept as given; the geocoder places the number and says it
        ignored these words.
    number_to
        Last house number of a range (441 in 431-441号), or None.
    """

    raw: str
    normalized: str
    prefix: tuple[str, ...]
    road: str
    number: int
    sub_numbers: tuple[int, ...] = ()
    extra: str = ""
    number_to: int | None = None

    @property
    def is_range(self) -> bool:
        """True for a range of house numbers (431-441号)."""
        return self.number_to is not None

    @property
    def number_text(self) -> str:
        """House number as text: ``"457"``, or ``"431-441"`` for a range."""
        return f"{self.number}-{self.number_to}" if self.is_range else str(self.number)

    @property
    def sub_number(self) -> str | None:
        """Sub-numbers as text joined with 、 (``"1、2、3"``), or None."""
        return "、".join(map(str, self.sub_numbers)) if self.sub_numbers else None

    @property
    def community(self) -> str | None:
        """The community named in the prefix, if any."""
        return next((t for t in self.prefix if t.endswith("社区")), None)

    @property
    def canonical(self) -> str:
        """Road, number and sub-number in the ledger's spelling, e.g. ``凤仙路457号附1、2号``."""
        text = f"{self.road}{self.number_text}号"
        if self.sub_numbers:
            text += f"附{self.sub_number}号"
        return text


def normalize_address(text: str) -> str:
    """Return an address with full-width characters folded and spaces removed.

    NFKC folds full-width digits, letters and brackets to ASCII; every kind of
    dash becomes ``-``; list separators (，,；/) become 、; all white space,
    including the ideographic space, is dropped.

    Parameters
    ----------
    text
        An address.

    Returns
    -------
    str
    """
    folded = ascii_text(str(text))
    folded = folded.translate(_DASHES).translate(_LIST_SEPARATORS)
    return _RANGE_WORD.sub("-", re.sub(r"\s+", "", folded))


def _strip_prefix(text: str) -> tuple[tuple[str, ...], str]:
    for pattern, full in _PREFIX_ALIASES:
        text = pattern.sub(full, text, count=1)
    tokens: list[str] = []
    while True:
        m = _PREFIX_TOKEN.match(text)
        if not m:
            break
        rest = text[m.end() :]
        # Only strip a token when a road and number still follow: "新区路5号" keeps its road.
        road = _ROAD_NUMBER.match(rest)
        if road is None or road.group("road") in ROAD_SUFFIXES:
            break
        tokens.append(m.group("tok"))
        text = rest
        for pattern, full in _PREFIX_ALIASES:
            text = pattern.sub(full, text, count=1)
    return tuple(tokens), text


def admin_tokens(text: str) -> tuple[str, ...] | None:
    """Split text made only of administrative names into them.

    Parameters
    ----------
    text
        Normalized text, e.g. ``"重庆万州沙河街道凤仙路社区"``.

    Returns
    -------
    tuple of str or None
        The names with short forms folded (``("重庆市", "万州区", "沙河街道", "凤仙路社区")``),
        ``()`` for empty text, None when anything else is left.
    """
    tokens: list[str] = []
    rest = text
    while rest:
        for pattern, full in _PREFIX_ALIASES:
            rest = pattern.sub(full, rest, count=1)
        m = _PREFIX_TOKEN.match(rest)
        if m is None:
            return None
        tokens.append(m.group("tok"))
        rest = rest[m.end() :]
    return tuple(tokens)


def parse_address(address: str) -> ParsedAddress:
    """Split an address into prefix, road, house number and sub-numbers.

    Parameters
    ----------
    address
        E.g. ``"凤仙路457号附1号"``, ``"重庆市万州区沙河街道凤仙路４５７－３"``.

    Returns
    -------
    ParsedAddress

    Raises
    ------
    GeocodeError
        If the address is empty, has no road name ending in 路/大道/街/巷/道,
        or no house number after the road; the message names what is missing.
    """
    if address is None or not str(address).strip():
        msg = "empty address: give a road and house number, e.g. 凤仙路328号"
        raise GeocodeError(msg)
    normalized = normalize_address(address)
    prefix, rest = _strip_prefix(normalized)
    m = _ROAD_NUMBER.match(rest)
    if m is None or not m.group("road"):
        if re.search(r"\d", rest) is None:
            road = re.match(rf"^(.*?(?:{_ROAD_SUFFIX_RE}))", rest)
            if road:
                msg = f"address {address!r}: no house number (…号) found after the road {road.group(1)!r}; add the number, e.g. {road.group(1)}1号"
            else:
                msg = f"address {address!r}: no road name ending in 路/大道/街/巷/道 and no house number found"
        else:
            lead = rest[: re.search(r"\d", rest).start()]
            found = f" (the text before the number is {lead!r})" if lead else ""
            msg = f"address {address!r}: no road name ending in 路/大道/街/巷/道 found before the house number{found}"
        raise GeocodeError(msg)
    road = m.group("road")
    tail = _TAIL.match(rest[m.start("number") :])
    if tail is None:  # pragma: no cover - the number group guarantees a match
        msg = f"address {address!r}: cannot read the house number"
        raise GeocodeError(msg)
    number = int(tail.group("number"))
    number_to = None
    if tail.group("subs"):
        subs = tuple(int(s) for s in tail.group("subs").split("、"))
        if tail.group("subs_to"):
            first, last = subs[-1], int(tail.group("subs_to"))
            if last <= first:
                msg = f"address {address!r}: sub-number range 附{first}-{last} does not run upwards; write it as 附{min(first, last)}-{max(first, last)}号"
                raise GeocodeError(msg)
            if last - first > _MAX_SUB_RANGE:
                msg = f"address {address!r}: sub-number range 附{first}-{last} spans more than {_MAX_SUB_RANGE} numbers; give the sub-number of one building"
                raise GeocodeError(msg)
            subs = subs[:-1] + tuple(range(first, last + 1))
    elif tail.group("dash") and int(tail.group("dash")) > number:
        number_to, subs = int(tail.group("dash")), ()
    elif tail.group("dash"):
        subs = (int(tail.group("dash")),)
    else:
        subs = ()
    if number <= 0 or any(s <= 0 for s in subs):
        msg = f"address {address!r}: house number and sub-numbers start at 1"
        raise GeocodeError(msg)
    return ParsedAddress(
        raw=str(address),
        normalized=normalized,
        prefix=prefix,
        road=road,
        number=number,
        sub_numbers=subs,
        extra=tail.group("extra") or "",
        number_to=number_to,
    )


def outside_reason(parsed: ParsedAddress | tuple[str, ...]) -> str | None:
    """Return why an address's prefix puts it outside Shahe subdistrict, or None.

    Parameters
    ----------
    parsed
        A parsed address, or its administrative prefix tokens.

    Returns
    -------
    str or None
        A sentence naming the foreign province, city, district or
        subdistrict; None when the prefix is empty or names Shahe's own units.
    """
    prefix = parsed if isinstance(parsed, tuple) else parsed.prefix
    for tok in prefix:
        if tok.endswith(("省", "自治区")):
            return f"the address is in {tok}, not in {CITY}{DISTRICT}{SUBDISTRICT}"
        if tok.endswith("市") and tok != CITY:
            return f"the address is in {tok}, not in {CITY}"
        if tok.endswith(("区", "县")) and not tok.endswith("社区") and tok != DISTRICT:
            return f"the address is in {tok}, not in {DISTRICT}"
        if tok.endswith(("街道", "镇", "乡")) and tok != SUBDISTRICT:
            return f"the address is in {tok}, not in {SUBDISTRICT}"
    return None


# Words after a house number that the geocoder recognises but cannot place, and what they mean.
_IGNORED_KINDS = (
    ("对面", "opposite: the place is across the road"),
    ("旁", "beside"),
    ("附近", "near"),
    ("单元", "stairwell unit"),
    ("栋", "building"),
    ("幢", "building"),
    ("楼", "building or floor"),
    ("室", "flat"),
)


def describe_ignored(extra: str) -> str:
    """Say what the words after a house number mean, for the note of a point that does not use them.

    Parameters
    ----------
    extra
        :attr:`ParsedAddress.extra`, e.g. ``"3栋2单元"``, ``"对面"``, ``"沙河小学旁"``.

    Returns
    -------
    str
        E.g. ``"words '3栋2单元' (stairwell unit, building) ignored"``; a
        landmark (text without a known word) is named as such.
    """
    found = sorted((extra.find(word), meaning) for word, meaning in _IGNORED_KINDS if word in extra)
    kinds = [meaning for _, meaning in found]
    if not kinds or re.sub("|".join(w for w, _ in _IGNORED_KINDS) + r"|\d", "", extra):
        kinds.append("a landmark or other words")
    return f"words {extra!r} ({', '.join(dict.fromkeys(kinds))}) ignored"
