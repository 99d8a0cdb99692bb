"""Patrol tracks: plan versus reality.

``fixes`` (reading GPX/CSV/XLSX fixes, device ids, cleaning), ``store`` (the
GeoParquet track store, by month), ``importer`` (one file or a folder, all or
nothing), ``checkins`` (check-in points and records), ``kernels`` and ``scan``
(the streaming array engine), ``dosage`` (visits, minutes, night presence and
stops per estate) and ``compare`` (plan against actual per team).
"""

from __future__ import annotations

from geo.tracks.compare import plan_vs_actual, route_samples, unvisited_estates
from geo.tracks.dosage import dosage_table, run_scan, visit_table
from geo.tracks.importer import ImportReport, import_tracks
from geo.tracks.scan import ScanResult, Visits, scan
from geo.tracks.store import iter_chunks, read_fixes, store_dir, write_fixes

__all__ = [
    "ImportReport", "ScanResult", "Visits", "dosage_table", "import_tracks", "iter_chunks", "plan_vs_actual", "read_fixes",
    "route_samples", "run_scan", "scan", "store_dir", "unvisited_estates", "visit_table", "write_fixes",
]
