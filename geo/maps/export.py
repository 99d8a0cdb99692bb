"""Exporting maps: coverage columns onto estates, and one HTML file that opens with no internet."""

from __future__ import annotations

from pathlib import Path

from geo import io
from geo.maps import offline
from geo.report import coverage_table

#: Columns taken from geo.report.coverage_table onto the estates.
COVERAGE_COLUMNS = ("status", "nearest_team_id", "nearest_distance_m", "covering_team_ids", "nearby_team_ids")


def add_coverage(estates, routes) -> tuple[object, str | None]:
    """Return estates with coverage columns from :func:`geo.report.coverage_table`, and a note when there are none."""
    if routes is None or len(routes) == 0:
        return estates, "no patrol routes given: estates drawn without coverage status"
    table = coverage_table(estates, routes)
    cols = [c for c in COVERAGE_COLUMNS if c in table.columns]
    out = estates.drop(columns=[c for c in cols if c in estates.columns])
    extra = table[["estate_id", *cols]].drop_duplicates("estate_id")
    merged = out.merge(extra, on="estate_id", how="left")
    return merged.set_geometry(out.geometry.name).set_crs(estates.crs, allow_override=True), None


def write_map(m, out: Path, *, allow_hosts: tuple[str, ...] = ()) -> int:
    """Render a map with inline assets, refuse it if it would need the internet, write it atomically.

    Returns
    -------
    int
        Size of the file in bytes.

    Raises
    ------
    OfflineAssetError
        From :func:`geo.offline.render_offline_html`, naming ``out``; nothing is written then.
    """
    try:
        page = offline.render_offline_html(m, allow_hosts=allow_hosts)
    except offline.OfflineAssetError as exc:
        err = offline.OfflineAssetError(f"{out}: not written: {exc}")
        err.remote_urls = exc.remote_urls
        raise err from exc
    data = page.encode("utf-8")
    io.atomic_write(out, data)
    return len(data)
