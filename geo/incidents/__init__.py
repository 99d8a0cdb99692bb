"""Incidents: taxonomy, times, the store and the importer; risk, effect, heat and hot spots.

Submodules: ``taxonomy`` (categories, sources, label tables), ``times`` (parsing,
periods), ``store`` (the incident store, CSV or GeoParquet, and its arrays),
``importer`` (CSV/XLSX/Parquet exports into the store), ``checks`` (the importer's
column-wise and row-by-row checks), ``bulk`` (column helpers of the checks),
``archive`` (Parquet archives as an import source), ``attribution`` (incidents to estates), ``filters``
(category, source, period, hours), ``risk`` (the ranking), ``effect``
(before/after), ``did`` (difference-in-differences, placebo inference,
displacement, event study), ``heat`` (heat-layer payloads), ``hotspots`` (Gi*
with FDR control), ``emerging`` (emerging hot spots), ``trend`` (Mann-Kendall),
``nearrepeat`` (Knox test), ``fdr`` (Benjamini-Hochberg) and ``reporting``
(p-values and method lines for readers). The package re-exports the first
four's public names.
"""

from __future__ import annotations

from geo.incidents.importer import (
    HEADER_ALIASES,
    Geocoder,
    ImportResult,
    import_incidents,
    read_mapping,
    resolve_columns,
)
from geo.incidents.store import STORE_COLUMNS, IncidentArrays, as_arrays, load_incidents, write_store
from geo.incidents.taxonomy import (
    CATEGORIES,
    CATEGORY_ENGLISH,
    CATEGORY_NAMES,
    CATEGORY_PARENT,
    LABEL_TABLE,
    SOURCE_NAMES,
    SOURCE_TABLE,
    SOURCES,
    SUBCATEGORY_NAMES,
    classify,
    map_label,
    map_source,
    parse_label_table,
)
from geo.incidents.times import (
    NIGHT_HOURS,
    TIMEZONE,
    format_time,
    month_index,
    parse_time,
    period_bounds,
)

__all__ = ["CATEGORIES", "CATEGORY_ENGLISH", "CATEGORY_NAMES", "CATEGORY_PARENT", "HEADER_ALIASES", "LABEL_TABLE", "NIGHT_HOURS", "SOURCES", "SOURCE_NAMES", "SOURCE_TABLE", "STORE_COLUMNS", "SUBCATEGORY_NAMES", "TIMEZONE", "Geocoder", "ImportResult", "IncidentArrays", "as_arrays", "classify", "format_time", "import_incidents", "load_incidents", "map_label", "map_source", "month_index", "parse_label_table", "parse_time", "period_bounds", "read_mapping", "resolve_columns", "write_store"]
