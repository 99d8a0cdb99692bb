"""Patrol routes: ``load`` (reading, GPX, team checks, file metadata), ``edits`` (drafts and their preview)
and ``store`` (versioned saves with who, when and why).
"""

from __future__ import annotations

from geo.routes.load import check_teams, count_self_crossings, load_routes, read_gpx, self_crossing_notices

__all__ = ["check_teams", "count_self_crossings", "load_routes", "read_gpx", "self_crossing_notices"]
