"""Tests of geo.coverage.rule: the Rule value and the shift filter."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from geo import settings
from geo.coverage.rule import Rule, as_rule, check_shift, patrols_in


class TestRule:
    def test_frozen_and_hashable(self):
        rule = Rule(radius_m=800.0, cover_m=50.0, strict=True, shift="night")
        with pytest.raises(dataclasses.FrozenInstanceError):
            rule.radius_m = 900.0  # type: ignore[misc]
        assert hash(rule) == hash(Rule(800.0, 50.0, True, "night")) and rule == Rule(800.0, 50.0, True, "night")

    def test_all_means_every_route_and_an_unknown_shift_is_refused(self):
        assert Rule(shift="all").shift is None
        with pytest.raises(ValueError, match="unknown shift filter 'evening'"):
            Rule(shift="evening")

    def test_default_radius_is_read_when_asked(self, monkeypatch):
        rule = Rule()
        monkeypatch.setattr(settings, "rule_radius_m", 750.0)
        assert rule.resolved_radius_m == 750.0
        assert Rule(radius_m=600).resolved_radius_m == 600.0

    def test_rule_or_keywords_not_both(self):
        assert as_rule(radius_m=800.0, strict=True) == Rule(radius_m=800.0, strict=True)
        rule = Rule(cover_m=40.0)
        assert as_rule(rule) is rule
        with pytest.raises(ValueError, match="either rule= or"):
            as_rule(rule, shift="day")
        with pytest.raises(TypeError):
            as_rule(rule, radius=5)  # type: ignore[call-arg]

    def test_report_tables_take_the_rule_or_the_old_keywords(self):
        import geopandas as gpd
        import shapely

        from geo import report

        estates = gpd.GeoDataFrame({"estate_id": ["E"]}, geometry=[shapely.Point(108.37, 30.84)], crs="EPSG:4326")
        routes = gpd.GeoDataFrame(
            {"route_id": ["R"], "team_id": ["T"], "shift": ["night"]},
            geometry=[shapely.LineString([(108.3705, 30.835), (108.3705, 30.845)])],  # about 48 m east
            crs="EPSG:4326",
        )
        by_rule = report.coverage_table(estates, routes, rule=Rule(cover_m=30.0, shift="day"))
        by_keywords = report.coverage_table(estates, routes, cover_m=30.0, shift="day")
        assert by_rule["status"].tolist() == by_keywords["status"].tolist() == ["gap"]  # the night route does not count by day
        assert report.coverage_table(estates, routes, rule=Rule(shift="night"))["status"].tolist() == ["covered"]


def test_shift_filter():
    shifts = np.array(["day", "night", "all"], dtype=object)
    assert patrols_in(shifts, None).tolist() == [True, True, True]
    assert patrols_in(shifts, "day").tolist() == [True, False, True]
    assert patrols_in(shifts, "night").tolist() == [False, True, True]
    assert check_shift("all") is None
