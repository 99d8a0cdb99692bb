"""Surveyed positions typed in the register view.

A position is recorded by :func:`geo.geocode.overrides.record_override` as one
row of ``data/geocode_overrides.csv``, checked by the loader before the file is
replaced atomically; then ``data/estates.geojson`` is rebuilt with
:func:`geo.geocode.build_estates` from the app's data folder, so the estate's
point has quality ``surveyed``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo import geocode
from geo.geocode.overrides import OVERRIDE_COLUMNS, read_override_table, record_override

__all__ = ["COLUMNS", "read_overrides", "rebuild_estates", "record_override"]

COLUMNS = OVERRIDE_COLUMNS


def read_overrides(path: str | Path) -> pd.DataFrame:
    """The overrides table (text columns); empty with :data:`COLUMNS` when the file is missing."""
    return read_override_table(path)


def rebuild_estates(ledger_path: str | Path, out_path: str | Path, *, data_dir: str | Path, author: str = "(register view)",
                    reason: str = "surveyed position recorded") -> gpd.GeoDataFrame:
    """Geocode the ledger again (the overrides and gazetteer of ``data_dir`` first) and replace the estates file atomically;
    with a store in use, save them as a new version of its estates too (refused if someone else saved meanwhile)."""
    from geo.store.saving import build_estates_file

    return build_estates_file(lambda path: geocode.build_estates(ledger_path, path, data_dir=data_dir), out_path,
                              author=author, reason=reason, data_dir=data_dir)
