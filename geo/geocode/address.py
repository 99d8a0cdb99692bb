"""Parsing of Shahe-style street addresses.

An address of the plan's ledger reads, from large to small::

    [重庆市][万州区][沙河街道][凤仙路社区] 凤仙路 457号 附1号

that is an optional administrative prefix, a road name ending in 路, 大道,
街, 巷 or 道, a house number and an optional sub-number (附N号, 附1、2、3号,
457-3, 457号之3). :func:`normalize_address` folds full-width digits and
punctuation to ASCII and drops spaces, so variants typed by hand parse to the
same parts. :func:`parse_address` raises :class:`~geo.errors.GeocodeError`
naming the part it could not find; it never guesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from geo._validate import ascii_text
from geo.errors import GeocodeError

__all__ = ["ParsedAddress", "normalize_address", "outside_reason", "parse_address"]

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
            号?(?:附|之)(?P<subs>\d+(?:、\d+)*)号?     # 457号附1号, 457号附1、2、3号, 457号之3
          | -(?P<dash>\d+)号?                        # 457-3, 457-3号
          | 号                                       # 457号
        )?
        (?P<extra>.*)$""",
    re.VERBOSE,
)

_DASHES = dict.fromkeys(map(ord, "－—–‐‑﹣−"), "-")
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
        House number (门牌号) as an integer.
    sub_numbers
        Sub-numbers (附N号) in the order given; empty when there is none.
    extra
        Text after the number that is not a sub-number (e.g. a building name), kept as given.
    """

    raw: str
    normalized: str
    prefix: tuple[str, ...]
    road: str
    number: int
    sub_numbers: tuple[int, ...] = ()
    extra: str = ""

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
        text = f"{self.road}{self.number}号"
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
    return re.sub(r"\s+", "", folded)


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
    if tail.group("subs"):
        subs = tuple(int(s) for s in tail.group("subs").split("、"))
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
    )


def outside_reason(parsed: ParsedAddress) -> str | None:
    """Return why an address's prefix puts it outside Shahe subdistrict, or None.

    Parameters
    ----------
    parsed
        A parsed address.

    Returns
    -------
    str or None
        A sentence naming the foreign province, city, district or
        subdistrict; None when the prefix is empty or names Shahe's own units.
    """
    for tok in parsed.prefix:
        if tok.endswith(("省", "自治区")):
            return f"the address is in {tok}, not in {CITY}{DISTRICT}{SUBDISTRICT}"
        if tok.endswith("市") and tok != CITY:
            return f"the address is in {tok}, not in {CITY}"
        if tok.endswith(("区", "县")) and not tok.endswith("社区") and tok != DISTRICT:
            return f"the address is in {tok}, not in {DISTRICT}"
        if tok.endswith(("街道", "镇", "乡")) and tok != SUBDISTRICT:
            return f"the address is in {tok}, not in {SUBDISTRICT}"
    return None
