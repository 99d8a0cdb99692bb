"""Pausing the cyclic garbage collector around bulk work (geo._gc)."""

import gc

import pytest

from geo._gc import collector_paused


def test_paused_inside_and_back_after_even_on_error():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError, match="inside"), collector_paused():
        raise ValueError("raised inside")
    assert gc.isenabled()


def test_left_off_when_it_was_off():
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the block does not switch on what the caller switched off
    finally:
        gc.enable()


def test_the_engine_and_the_reader_leave_it_on(tmp_path):
    from geo import io, settings
    from geo.coverage.model import CoverageModel
    from geo.routes.load import load_routes

    estates = io.read_estates(settings.data_path("estates.geojson"))
    routes = load_routes(settings.data_path("patrol_routes.geojson"))
    assert gc.isenabled()
    CoverageModel.from_geodataframes(estates, routes).solve().table()
    assert gc.isenabled()
