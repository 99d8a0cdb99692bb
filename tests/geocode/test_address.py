"""Parsing of Shahe addresses (geo.address)."""

import csv

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo import settings
from geo.errors import GeocodeError
from geo.geocode.address import describe_ignored, normalize_address, outside_reason, parse_address


@pytest.fixture(scope="module")
def ledger():
    with open(settings.data_path("ledger.csv"), encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# Read off the printed attachment by hand: road, number, sub-numbers.
LEDGER_PARTS = {
    "SH-01": ("滨湖路", 1546, ()),
    "SH-02": ("申明大道", 211, (1,)),
    "SH-03": ("滨湖路", 1573, ()),
    "SH-04": ("凤仙路", 328, ()),
    "SH-05": ("申明大道", 267, ()),
    "SH-06": ("申明北路", 63, ()),
    "SH-07": ("申明中路", 206, ()),
    "SH-08": ("申明中路", 208, ()),
    "SH-09": ("凤仙路", 443, ()),
    "SH-10": ("凤仙路", 459, ()),
    "SH-11": ("凤仙路", 457, (1,)),
    "SH-12": ("凤仙路", 457, (2,)),
    "SH-13": ("凤仙路", 457, (3,)),
    "SH-14": ("凤仙路", 457, (4,)),
    "SH-15": ("凤仙路", 431, ()),
    "SH-16": ("凤仙路", 441, (1,)),
    "SH-17": ("滨湖路", 1580, ()),
    "SH-18": ("凤仙路", 587, ()),
    "SH-19": ("凤仙路", 477, (1, 2, 3)),
    "SH-20": ("青年路", 31, (1,)),
    "SH-21": ("青年路", 31, (2,)),
    "SH-22": ("花园路", 29, ()),
    "SH-23": ("文家巷", 12, (1,)),
    "SH-24": ("花园路", 46, ()),
}


class TestLedger:
    def test_every_ledger_address_parses_to_its_printed_parts(self, ledger):
        assert len(ledger) == 24
        for row in ledger:
            p = parse_address(row["address"])
            assert (p.road, p.number, p.sub_numbers) == LEDGER_PARTS[row["estate_id"]], row["address"]
            assert p.prefix == ()
            assert p.extra == ""

    def test_canonical_form_is_the_printed_address(self, ledger):
        for row in ledger:
            assert parse_address(row["address"]).canonical == row["address"]

    def test_sub_number_text(self):
        assert parse_address("凤仙路477号附1、2、3号").sub_number == "1、2、3"
        assert parse_address("凤仙路457号附1号").sub_number == "1"
        assert parse_address("凤仙路457号").sub_number is None


class TestVariants:
    @pytest.mark.parametrize(
        ("text", "prefix", "road", "number", "subs"),
        [
            ("凤仙路457号附3号", (), "凤仙路", 457, (3,)),
            ("凤仙路457号附3", (), "凤仙路", 457, (3,)),
            ("凤仙路457-3", (), "凤仙路", 457, (3,)),
            ("凤仙路457-3号", (), "凤仙路", 457, (3,)),
            ("凤仙路４５７－３号", (), "凤仙路", 457, (3,)),
            ("凤仙路457—3", (), "凤仙路", 457, (3,)),
            ("凤仙路457号之3", (), "凤仙路", 457, (3,)),
            ("凤仙路 457 号 附 3 号", (), "凤仙路", 457, (3,)),
            ("凤仙路\u3000457号\u3000附3号", (), "凤仙路", 457, (3,)),
            ("凤仙路477号附1,2,3号", (), "凤仙路", 477, (1, 2, 3)),
            ("凤仙路477号附1，2，3号", (), "凤仙路", 477, (1, 2, 3)),
            ("凤仙路457", (), "凤仙路", 457, ()),
            ("重庆市万州区沙河街道凤仙路社区凤仙路457号附1号", ("重庆市", "万州区", "沙河街道", "凤仙路社区"), "凤仙路", 457, (1,)),
            ("重庆万州沙河街道凤仙路328号", ("重庆市", "万州区", "沙河街道"), "凤仙路", 328, ()),
            ("万州区沙河街道办事处申明大道211号附1号", ("万州区", "沙河街道"), "申明大道", 211, (1,)),
            ("沙河凤仙路328号", ("沙河街道",), "凤仙路", 328, ()),
            ("花青路社区花园路29号", ("花青路社区",), "花园路", 29, ()),
            ("申明社区申明北路６３号", ("申明社区",), "申明北路", 63, ()),
            ("万州区沙河街道文家巷12号附1号", ("万州区", "沙河街道"), "文家巷", 12, (1,)),
            ("G318国道100号", (), "G318国道", 100, ()),
            ("某某街5号", (), "某某街", 5, ()),
        ],
    )
    def test_variant(self, text, prefix, road, number, subs):
        p = parse_address(text)
        assert (p.prefix, p.road, p.number, p.sub_numbers) == (prefix, road, number, subs)

    def test_trailing_text_is_kept_not_lost(self):
        p = parse_address("凤仙路328号和谐小区")
        assert (p.road, p.number, p.extra) == ("凤仙路", 328, "和谐小区")

    def test_community_prefix_is_not_taken_for_the_road(self):
        p = parse_address("凤仙路社区凤仙路328号")
        assert p.community == "凤仙路社区"
        assert p.road == "凤仙路"

    def test_normalize_folds_full_width_and_spaces(self):
        assert normalize_address(" 凤仙路 ４５７号－３ ") == "凤仙路457号-3"


ROADS = ["滨湖路", "申明大道", "凤仙路", "申明北路", "申明中路", "青年路", "花园路", "文家巷"]
PREFIXES = ["", "重庆市", "重庆市万州区", "万州区沙河街道", "重庆市万州区沙河街道凤仙路社区"]
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@given(
    road=st.sampled_from(ROADS),
    number=st.integers(1, 2000),
    subs=st.lists(st.integers(1, 9), max_size=3, unique=True),
    prefix=st.sampled_from(PREFIXES),
    wide=st.booleans(),
    spaced=st.booleans(),
)
def test_any_spelling_gives_the_same_parts(road, number, subs, prefix, wide, spaced):
    text = f"{prefix}{road}{number}号" + (f"附{'、'.join(map(str, subs))}号" if subs else "")
    if wide:
        text = text.translate(FULLWIDTH)
    if spaced:
        text = " ".join(text)
    p = parse_address(text)
    assert (p.road, p.number, p.sub_numbers) == (road, number, tuple(subs))


class TestErrors:
    @pytest.mark.parametrize(
        ("text", "words"),
        [
            ("", "empty"),
            ("   ", "empty"),
            ("凤仙路", "no house number"),
            ("凤仙路附近", "no house number"),
            ("328号", "no road name"),
            ("和谐小区", "no road name"),
            ("1600 Amphitheatre Parkway", "no road name"),
        ],
    )
    def test_unparseable_names_what_is_missing(self, text, words):
        with pytest.raises(GeocodeError, match=words):
            parse_address(text)

    def test_zero_is_not_a_house_number(self):
        with pytest.raises(GeocodeError, match="start at 1"):
            parse_address("凤仙路0号")


class TestOutside:
    def test_shahe_prefix_is_local(self):
        assert outside_reason(parse_address("重庆市万州区沙河街道凤仙路328号")) is None
        assert outside_reason(parse_address("凤仙路328号")) is None

    @pytest.mark.parametrize(
        ("text", "place"),
        [
            ("北京市海淀区中关村大街1号", "北京市"),
            ("重庆市渝中区解放碑路1号", "渝中区"),
            ("重庆市万州区太白街道白岩路5号", "太白街道"),
            ("四川省成都市人民南路1号", "四川省"),
        ],
    )
    def test_foreign_prefix_is_named(self, text, place):
        reason = outside_reason(parse_address(text))
        assert reason is not None and place in reason


class TestRangesAndExtraWords:
    @pytest.mark.parametrize(
        ("text", "number", "number_to", "subs", "number_text"),
        [
            ("凤仙路431-441号", 431, 441, (), "431-441"),
            ("凤仙路1-5号", 1, 5, (), "1-5"),
            ("凤仙路431号-441号", 431, 441, (), "431-441"),
            ("凤仙路431至441号", 431, 441, (), "431-441"),
            ("凤仙路４３１～４４１号", 431, 441, (), "431-441"),
            ("凤仙路457-3", 457, None, (3,), "457"),  # smaller second number: a sub-number, as before
            ("凤仙路457号附1-3号", 457, None, (1, 2, 3), "457"),
            ("凤仙路457号附1、2-4号", 457, None, (1, 2, 3, 4), "457"),
        ],
    )
    def test_ranges(self, text, number, number_to, subs, number_text):
        p = parse_address(text)
        assert (p.road, p.number, p.number_to, p.sub_numbers, p.number_text) == ("凤仙路", number, number_to, subs, number_text)
        assert p.is_range == (number_to is not None)
        assert p.extra == ""

    def test_range_canonical_form(self):
        assert parse_address("凤仙路431至441号").canonical == "凤仙路431-441号"
        assert parse_address("凤仙路457号附1-3号").canonical == "凤仙路457号附1、2、3号"

    def test_backwards_or_huge_sub_range_is_refused(self):
        with pytest.raises(GeocodeError, match="附1-3号"):
            parse_address("凤仙路457号附3-1号")
        with pytest.raises(GeocodeError, match="spans more than"):
            parse_address("凤仙路457号附1-5000号")

    @pytest.mark.parametrize("extra", ["旁", "对面", "3栋2单元", "沙河小学旁"])
    def test_words_after_the_number_are_kept(self, extra):
        p = parse_address(f"凤仙路457号{extra}")
        assert (p.number, p.sub_numbers, p.extra) == (457, (), extra)

    @pytest.mark.parametrize(
        ("extra", "meanings"),
        [
            ("旁", ["beside"]),
            ("对面", ["opposite"]),
            ("3栋2单元", ["building", "stairwell unit"]),
            ("沙河小学旁", ["beside", "landmark"]),
        ],
    )
    def test_describe_ignored_names_each_kind(self, extra, meanings):
        text = describe_ignored(extra)
        assert repr(extra) in text
        positions = [text.index(m) for m in meanings]
        assert positions == sorted(positions)
