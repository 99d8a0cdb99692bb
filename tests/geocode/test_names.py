"""Ignored words lower the quality; estate names without a number fall back to the ledger (geo.geocode.geocoder, names)."""

import json

import pytest

from geo import settings
from geo.cli.main import main as cli_main
from geo.errors import GeocodeError
from geo.geocode.geocoder import Geocoder, build_estates
from geo.geocode.names import EstateNames

# The eight 花园小区 rows of data/ledger.csv, read off the printed attachment.
HUAYUAN = [
    ("SH-09", "凤仙路443号"),
    ("SH-10", "凤仙路459号"),
    ("SH-11", "凤仙路457号附1号"),
    ("SH-12", "凤仙路457号附2号"),
    ("SH-13", "凤仙路457号附3号"),
    ("SH-14", "凤仙路457号附4号"),
    ("SH-15", "凤仙路431号"),
    ("SH-16", "凤仙路441号附1号"),
]


@pytest.fixture()
def geocoder(monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "geocode_overrides_path", tmp_path / "none.csv")
    return Geocoder("offline")


class TestIgnoredWords:
    @pytest.mark.parametrize("extra", ["旁", "对面", "3栋2单元", "沙河小学旁"])
    def test_point_is_the_numbers_with_a_note_and_a_lower_quality(self, geocoder, extra):
        plain = geocoder.geocode("凤仙路457号")
        r = geocoder.geocode(f"凤仙路457号{extra}")
        assert plain.quality == "interpolated" and r.quality == "partial"
        assert (r.lon, r.lat) == (plain.lon, plain.lat)
        assert repr(extra) in r.note and "ignored" in r.note and r.note.startswith(plain.note)

    def test_quality_order_puts_partial_between_interpolated_and_road(self):
        from geo.schemas import GEOCODE_QUALITIES

        assert GEOCODE_QUALITIES.index("interpolated") < GEOCODE_QUALITIES.index("partial") < GEOCODE_QUALITIES.index("road")

    def test_road_quality_is_not_raised_or_lowered(self, geocoder):
        r = geocoder.geocode("凤仙路9999号旁")
        assert r.quality == "road" and "ignored" in r.note


class TestNameFallback:
    def test_name_at_one_address_is_placed_there_and_says_so(self, geocoder):
        by_address = geocoder.geocode("凤仙路328号")
        r = geocoder.geocode("和谐小区")
        assert r.ok and (r.lon, r.lat) == (by_address.lon, by_address.lat)
        assert r.quality == by_address.quality == "interpolated"
        assert (r.road, r.number) == ("凤仙路", "328")
        assert "ledger.csv" in r.note and "SH-04" in r.note and "凤仙路328号" in r.note
        assert r.address == "和谐小区"

    def test_prefix_and_trailing_words(self, geocoder):
        by_address = geocoder.geocode("凤仙路328号")
        r = geocoder.geocode("重庆市万州区沙河街道凤仙路社区和谐小区3栋")
        assert (r.lon, r.lat) == (by_address.lon, by_address.lat)
        assert r.quality == "partial" and "'3栋'" in r.note

    def test_name_at_several_addresses_is_refused_with_the_list(self, geocoder):
        r = geocoder.geocode("花园小区")
        assert r.quality == "failed" and r.lon is None
        assert "8 addresses" in r.note
        for eid, addr in HUAYUAN:
            assert f"{eid} {addr}" in r.note
        with pytest.raises(GeocodeError, match="SH-16 凤仙路441号附1号"):
            geocoder.geocode("花园小区", strict=True)

    def test_estate_id_picks_one_of_several(self, geocoder):
        r = geocoder.geocode("花园小区", estate_id="SH-12")
        assert (r.lon, r.lat) == (geocoder.geocode("凤仙路457号附2号").lon, geocoder.geocode("凤仙路457号附2号").lat)
        assert "SH-12" in r.note and r.estate_id == "SH-12"

    def test_other_community_or_foreign_prefix_does_not_match(self, geocoder):
        assert geocoder.geocode("申明社区花园小区").quality == "failed"  # 花园小区 is in 凤仙路社区
        r = geocoder.geocode("北京市和谐小区")
        assert r.quality == "failed" and "北京市" in r.note
        assert geocoder.geocode("新和谐小区").quality == "failed"  # a different name

    def test_unknown_name_keeps_the_parser_message(self, geocoder):
        r = geocoder.geocode("不存在小区")
        assert r.quality == "failed" and "no road name" in r.note

    def test_ledger_row_without_a_number_does_not_loop(self, tmp_path, monkeypatch):
        monkeypatch.setattr(settings, "geocode_overrides_path", tmp_path / "none.csv")
        ledger = tmp_path / "ledger.csv"
        src = settings.data_path("ledger.csv").read_text(encoding="utf-8").splitlines()
        src[4] = src[4].replace("凤仙路328号", "和谐小区")
        ledger.write_text("\n".join(src) + "\n", encoding="utf-8")
        names = EstateNames.from_ledger(ledger)
        r = Geocoder("offline", names=names).geocode("和谐小区")
        assert r.quality == "failed" and "tried and failed" in r.note
        with pytest.raises(GeocodeError, match="SH-04"):
            build_estates(ledger, tmp_path / "e.geojson")

    def test_missing_ledger_gives_no_names(self, tmp_path):
        assert EstateNames.from_ledger(tmp_path / "none.csv").match("和谐小区") is None


class TestCli:
    def test_name_on_the_command_line(self, capsys, monkeypatch, tmp_path):
        monkeypatch.setattr(settings, "geocode_overrides_path", tmp_path / "none.csv")
        assert cli_main(["geocode", "和谐小区", "--json"]) == 0
        d = json.loads(capsys.readouterr().out)
        assert (d["road"], d["number"], d["quality"]) == ("凤仙路", "328", "interpolated") and "SH-04" in d["note"]
        assert cli_main(["geocode", "花园小区"]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "SH-09 凤仙路443号" in err

    def test_range_on_the_command_line(self, capsys, monkeypatch, tmp_path):
        monkeypatch.setattr(settings, "geocode_overrides_path", tmp_path / "none.csv")
        assert cli_main(["geocode", "凤仙路431-441号", "--json"]) == 0
        d = json.loads(capsys.readouterr().out)
        assert (d["number"], d["sub_number"], d["quality"]) == ("431-441", None, "interpolated")
