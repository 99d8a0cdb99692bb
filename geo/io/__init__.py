"""Validating readers and atomic writers: ``tables`` (CSV/XLSX), ``features`` (GeoJSON,
GeoPackage, lon/lat tables) and ``writers`` (GeoJSON, CSV/XLSX).

Every reader takes a path, the file's bytes or a binary file object (an
upload), with ``name=`` for the file name its messages give.
"""

from __future__ import annotations

from geo._atomic import atomic_write, atomic_writer
from geo._validate import parse_degrees
from geo.io.features import read_estates, read_features, read_incidents, read_lines, read_plan, read_posts, read_routes
from geo.io.tables import LAT_COLUMNS, LON_COLUMNS, Input, Source, as_input, detect_encoding, iter_records, read_table
from geo.io.writers import (
    EXCEL_CELL_MAX_CHARS,
    FORMULA_TRIGGERS,
    RESERVED_MEMBERS,
    geojson_bytes,
    geojson_text,
    guard_formulas,
    table_bytes,
    to_geojson_dict,
    write_geojson,
    write_table,
)

__all__ = ["EXCEL_CELL_MAX_CHARS", "FORMULA_TRIGGERS", "LAT_COLUMNS", "LON_COLUMNS", "RESERVED_MEMBERS", "Input", "Source", "as_input", "atomic_write", "atomic_writer", "detect_encoding", "geojson_bytes", "geojson_text", "guard_formulas", "iter_records", "parse_degrees", "read_estates", "read_features", "read_incidents", "read_lines", "read_plan", "read_posts", "read_routes", "read_table", "table_bytes", "to_geojson_dict", "write_geojson", "write_table"]
