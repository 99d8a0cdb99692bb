"""Typed defaults of the engine, read at call time.

Every function that takes one of these values as an optional argument reads the
module attribute when it is called, not when it is defined, so a test or the app
can change a setting for a whole run::

    from geo import settings
    settings.rule_radius_m = 800.0

All distances are planar metres in :data:`metric_crs`.
"""

from __future__ import annotations

import os
from pathlib import Path

# --- the 1-km rule ----------------------------------------------------------

#: Radius of the plan's rule (P5): a team whose route comes within this many
#: metres of an estate (inclusive) is *nearby* and must bring it into its patrol.
rule_radius_m: float = 1000.0

#: A route *covers* an estate whose address point lies within this many metres
#: (inclusive): the patrol actually reaches the estate's gate.
cover_distance_m: float = 100.0

#: Cover distance used when an estate is given as a footprint polygon.
cover_distance_polygon_m: float = 30.0

#: Estates one HTML map (``python -m geo map``) draws at most. The city-size layout (20,000 estates, 5,000 routes)
#: made a 64 MB page in 21 s; the province one (170,000, 50,000) a 571 MB page in 208 s with 7.5 GB of memory, which
#: no browser opens. Above it the command asks for a part (``--community``) or the briefing instead.
map_estates_max: int = 20_000

# --- coordinate reference systems ------------------------------------------

#: Canonical storage CRS: WGS-84 longitude/latitude (RFC 7946 GeoJSON).
storage_crs: str = "EPSG:4326"

#: Metric CRS for every distance in Shahe: CGCS2000 / 3-degree Gauss-Kruger
#: CM 108E. Its scale factor at Wanzhou is about 1.00002 (2 cm per km).
metric_crs: str = "EPSG:4545"

#: A metric CRS stretches distances by its point scale factor k. Where k departs
#: from 1 by more than this anywhere among the estates (1e-4: 10 cm at 1 km),
#: the coverage engine divides each pair's planar distance by k at its estate,
#: which gives the distance on the ground to about 1 cm at 1 km. Shahe
#: in EPSG:4545 (k - 1 about 2e-5) stays below it; a layout wider than one
#: zone, e.g. all of Chongqing in a UTM zone (k up to 1.0028, 2.8 m at 1 km),
#: does not.
scale_correction_from: float = 1e-4

#: Decimal places kept for longitude/latitude in written GeoJSON (about 1 cm).
coordinate_precision: int = 7

#: Rough bounding box of mainland China and its islands, (west, south, east,
#: north) in degrees; used for the "outside China" check and the datum
#: conversions, which pass points outside it through unchanged.
china_bounds: tuple[float, float, float, float] = (73.5, 18.0, 135.1, 53.6)

#: Approximate extent of Shahe subdistrict (WGS-84, west, south, east, north).
#: No official boundary is public; this box is drawn around the subdistrict's
#: known neighbours and landmarks and is labelled approximate wherever shown.
shahe_bounds: tuple[float, float, float, float] = (108.350, 30.826, 108.394, 30.860)

# --- data paths --------------------------------------------------------------

#: Folder of the shipped data; ``SHAHE_DATA_DIR`` in the environment overrides it.
data_dir: Path = Path(os.environ.get("SHAHE_DATA_DIR", Path(__file__).resolve().parent.parent / "data"))


#: Language of what the command line draws and records (maps, briefings, the route history's own
#: phrases such as "restore version 1"): ``zh`` (default) or ``en``; ``SHAHE_LANG`` overrides.
lang: str = os.environ.get("SHAHE_LANG", "zh")


def data_path(name: str) -> Path:
    """Return the path of a data file inside :data:`data_dir`.

    Parameters
    ----------
    name
        File name, e.g. ``"estates.geojson"``.

    Returns
    -------
    pathlib.Path
        ``data_dir / name``, read at call time.
    """
    return Path(data_dir) / name


def coverage_threads() -> int:
    """Threads of the coverage engine: :data:`coverage_workers`, or one per CPU when it is 0 (read at call time)."""
    return coverage_workers or os.cpu_count() or 1

# --- coverage engine (geo.coverage, geo.routes, geo.extensions) -------------

#: Allowance of every "distance <= threshold" test, metres. It must be at least
#: what storing a position can move a distance: GeoJSON keeps
#: :data:`coordinate_precision` (7) decimals, so a coordinate moves by at most
#: 0.5e-7 degree. At Shahe (30.84 N, EPSG:4545) that is 4.8 mm east-west and
#: 5.5 mm north-south, 7.3 mm for one point; a distance between two stored
#: positions can change by twice that, 14.6 mm. With 2 cm a pair built exactly
#: at the radius is still at the radius once written and read back, and no
#: position in this project is known to better than a metre anyway.
distance_tolerance_m: float = 0.02

#: A route that crosses itself more than this many times gets a "suspect GPS
#: track" notice (a patrol loop may cross itself once or twice legitimately).
self_crossing_suspect_count: int = 3


# --- geocoding (geo.geocode) --------------------------------------------------
# Appended by the geocoding module; read at call time like everything above.

#: Provider used when none is named: "offline" (the shipped gazetteer), "amap" or "tianditu".
geocode_provider: str = os.environ.get("SHAHE_GEOCODER", "offline")

#: Road-centreline gazetteer of the offline provider (approximate, drawn by the project).
gazetteer_path: Path | None = None  # None: data_path("gazetteer.geojson")

#: Surveyed positions that win over every provider (estate_id or address -> lon, lat, datum).
geocode_overrides_path: Path | None = None  # None: data_path("geocode_overrides.csv")

#: Distance of an interpolated address point from the road centreline, metres.
geocode_side_offset_m: float = 15.0

#: An estate footprint drawn in the register must contain its surveyed point or pass within this many
#: metres of it (inclusive), so a polygon drawn around the wrong block is refused.
footprint_near_m: float = 50.0

#: Smallest and largest area (square metres, inclusive) of a plausible estate footprint: one small
#: building to a very large compound. Outside it the polygon is refused as a slip of the mouse.
footprint_min_area_m2: float = 100.0
footprint_max_area_m2: float = 500_000.0

#: Extra distance back from the road per sub-number (附1号, 附2号, ...), metres.
geocode_sub_setback_m: float = 10.0

#: Most an offline point is set back behind the street front for its
#: sub-numbers, metres (附5号 at 10 m each). A larger sub-number is placed at
#: the cap with quality "partial" and a note: a courtyard lies within a few
#: dozen metres of its street number, never kilometres away.
geocode_max_setback_m: float = 50.0

#: On-disk cache of online answers (SQLite); SHAHE_CACHE_DIR overrides the folder.
geocode_cache_path: Path = Path(os.environ.get("SHAHE_CACHE_DIR", Path.home() / ".cache" / "shahe-patrol")) / "geocode.sqlite"

#: Seconds to wait for an online geocoder before the address is reported as failed.
geocode_timeout_s: float = 10.0

#: Minimum seconds between two requests to one online geocoder (rate limit).
geocode_min_interval_s: float = 0.34

#: How far (degrees) an online answer may lie outside shahe_bounds before it is rejected.
geocode_bounds_margin_deg: float = 0.02

# --- incidents: import, risk, effect, heat layers, hot spots -----------------
# (geo.incidents, geo.risk, geo.effect, geo.heat, geo.hotspots)

#: Rows read per chunk when importing an incident file (bounds memory).
incident_import_chunksize: int = 50_000

# --- input caps (what any viewer's upload, paste or drawing may cost) -------

#: Most vertices one route line may have (a 1-second GPS track of 5 hours is 18,000); more is refused.
route_max_vertices_per_line: int = 20_000

#: Most vertices of all lines of one input (an upload, a paste, a drawing, ``routes add FILE``).
route_max_vertices_per_input: int = 50_000

#: Largest route input in bytes, whatever the channel (upload, paste, drawing, ``routes add FILE``).
route_max_input_bytes: int = 5_000_000

#: A new route line (drawn, pasted, uploaded or added from the command line) that stays farther than
#: this many metres from every estate of the register (from their convex hull) is refused: it could
#: neither cover nor be near any estate, so its coordinates are almost surely in the wrong datum, in
#: metres, or from another place. Well beyond the rule radius (1000 m) so no real extension is refused.
route_max_offset_m: float = 5000.0

#: Most vertices (current routes plus the draft) the app's preview map draws; beyond it the preview is refused.
preview_max_vertices: int = 60_000

#: Seconds a preview map should take; a slower one is reported with advice to simplify.
preview_budget_s: float = 10.0

#: Tolerance in metres of the simplified lines that display bands are buffered from (maps only;
#: the coverage always uses the full geometry).
display_simplify_m: float = 2.0

#: Most distance in metres between a drawn band's arcs and the circle they stand for (maps only): each band's
#: buffer gets as many segments per quarter circle as that needs (:func:`geo.maps.mapview.band_quad_segs`),
#: so a 1 km band and a 100 m band are drawn alike to within it (about a pixel at zoom 17).
display_band_tolerance_m: float = 1.0

#: An incident counts for an estate within this many metres of it (inclusive).
incident_radius_m: float = 300.0

#: How incidents are given to estates: "radius" (every estate within
#: incident_radius_m counts it) or "nearest" (only the nearest estate within it).
incident_assign_mode: str = "radius"

#: Weights of the risk score's components (see geo.risk.COMPONENTS).
#: Components do not overlap (each incident in one); theft weighs most, as the plan names it first.
risk_weights: dict[str, float] = {"theft": 2.0, "other_property": 1.0, "other_criminal": 1.0, "disputes": 1.0, "other_calls": 0.5}

#: Years of incidents the risk ranking looks at by default (the plan was drawn up
#: in early 2022 from the years before).
risk_window: tuple[int, int] = (2019, 2021)

#: Fewer months than this after an estate's batch window: the effect is "too short to tell".
effect_min_months_after: int = 6

#: Significance level of the before/after test and of hot spots.
effect_alpha: float = 0.05

#: Up to this many incidents a heat layer sends weighted points; above, a grid.
heat_max_points: int = 20_000

#: Largest heat-layer payload sent to the browser, bytes of JSON.
heat_budget_bytes: int = 2_000_000

#: Smallest grid cell of an aggregated heat layer, metres; doubled until the payload fits.
heat_min_cell_m: float = 25.0

#: With a PostGIS store holding more incidents than this, the app's density layer counts them per cell in SQL
#: (:func:`geo.store.heat.incident_cells`) and only the cells travel; at or below, the incidents are read as points.
heat_sql_min_incidents: int = 1_000_000

#: Area whose incidents reach a heat layer (WGS-84 west, south, east, north); None: shahe_bounds.
heat_bounds: tuple[float, float, float, float] | None = None

#: Approximate position of the 申明坝 industrial park (WGS-84 lon, lat); no survey is public.
shenmingba_park_lonlat: tuple[float, float] = (108.366, 30.851)

#: Grid cell of the hot-spot analysis, metres.
hotspot_cell_m: float = 200.0

#: Permutations of the hot-spot significance test, and its random seed.
hotspot_permutations: int = 999
hotspot_seed: int = 2022

#: A cell is called a cold spot only where its neighbourhood (cell and queen
#: neighbours) expects at least this many incidents (see geo.incidents.hotspots).
hotspot_cold_min_expected: float = 5.0

#: Threads of the coverage engine: its pair query (shapely releases the GIL) and its
#: scale factors (PROJ does);
#: 0 means one per CPU. Results never depend on it.
coverage_workers: int = 0

#: Input files of one command that together reach this many megabytes (counted
#: as GeoJSON: a GeoParquet megabyte as three, geo.io.beside.READ_WEIGHTS) are read
#: at once, one in a forked process beside the other (geo.io.beside), where the
#: system can fork and has more than one core. Results never depend on it.
read_beside_from_mb: float = 32.0

# --- effects: attribution, difference-in-differences, displacement ------------
# (geo.incidents.effect, geo.incidents.did)

#: How the effect analyses give incidents to estates: "nearest" (each incident to
#: the nearest estate within incident_radius_m, so each counts once) or "radius".
effect_assign_mode: str = "nearest"

#: Placebo permutations of the difference-in-differences test, and their seed.
effect_placebo_permutations: int = 999
effect_seed: int = 2022

#: Ring around each estate for displacement, metres: from incident_radius_m
#: (exclusive) out to this distance (inclusive).
displacement_outer_m: float = 600.0

# --- patrol tracks, check-ins and dosage (geo.tracks) --------------------------

#: Folder of the track store (GeoParquet, one file per month); None: data_path("tracks").
tracks_dir: Path | None = None

#: A fix reached faster than this from the previous kept fix (metres per second,
#: inclusive limit) is impossible for a patrol on foot or by car in town: dropped.
track_max_speed_mps: float = 40.0

#: A fix that lies more than this many metres from both neighbours, when the
#: neighbours lie within it of each other, is a GPS jump (a spike): dropped.
track_jump_m: float = 300.0

#: Two consecutive fixes further apart in time than this (seconds) are a gap:
#: the path between them is unknown, so nothing is interpolated across it.
track_gap_s: float = 300.0

#: How far (degrees) a fix may lie outside shahe_bounds before it is refused as
#: "far outside the district" (0.05 degrees is about 5 km).
track_bounds_margin_deg: float = 0.05

#: Night for dosage, local hours: from night_start_hour (inclusive) to
#: night_end_hour (exclusive) of the next morning; 20 and 6 mean 20:00-06:00.
night_start_hour: int = 20
night_end_hour: int = 6

#: A visit lasting from stop_min_minutes to stop_max_minutes (both inclusive)
#: counts as a "stop": the length the patrol research (the Koper curve) finds
#: deters crime best. Longer visits are counted as long stays.
stop_min_minutes: float = 10.0
stop_max_minutes: float = 15.0

#: Presence at one estate broken for at most this many seconds is one visit
#: (GPS noise at the edge of the cover distance does not make new visits).
visit_merge_gap_s: float = 120.0

#: A planned route counts as patrolled where a track passes within this many metres.
plan_tolerance_m: float = 30.0

#: Planned routes are sampled every this many metres to measure the share covered.
plan_sample_step_m: float = 5.0

#: Fixes handled per chunk by the dosage engine (bounds memory).
track_chunk_rows: int = 2_000_000


# --- rectification (一区一策, meetings, progress) ----------------------------------

#: Years of the plan (三年完成): records dated outside them are refused.
plan_years: tuple[int, int] = (2022, 2024)

#: Fewest people a residents' meeting needs to meet the plan (居民群众会议参与人数不得少于30人); a smaller meeting is kept and flagged.
meeting_min_attendance: int = 30

#: Most residents one stairwell unit can hold (6 floors x 2 flats x 5 people): attendance above units x this is refused as absurd.
residents_per_unit_max: int = 60

#: Units assumed for the plausibility check when the register has no unit count.
units_assumed_when_unknown: int = 4

#: Largest evidence attachment, in bytes.
attachment_max_bytes: int = 10_000_000

# --- near-repeat (geo.incidents.nearrepeat) -----------------------------------

#: Spatial bands of the Knox table, metres (upper limits, inclusive).
near_repeat_bands_m: tuple[float, ...] = (100.0, 200.0, 400.0)
#: Temporal bands of the Knox table, days (upper limits, inclusive).
near_repeat_bands_days: tuple[float, ...] = (7.0, 14.0, 30.0)
#: Monte-Carlo permutations of the Knox test, and their seed.
near_repeat_permutations: int = 999
near_repeat_seed: int = 2022

# --- planning extensions (geo.optimise) and response circles (geo.response) ----

#: A road end that stops at most this many metres (inclusive) short of another road
#: (a T-junction drawn by hand, or rounded on a trip through WGS-84) is joined to it
#: when the road network is built: snapped onto the other road's nearest point, which
#: becomes a junction, or merged with a road end or junction that near. 0 joins nothing.
road_join_m: float = 1.0

#: Seconds HiGHS may take before the best plan found so far (or the greedy plan) is returned.
optimise_time_limit_s: float = 30.0

#: A detour is drafted this many metres past the point where the estate comes
#: within its cover distance, so the drafted line covers it after any rounding
#: of written coordinates (7 decimals of a degree are about 1 cm).
optimise_overshoot_m: float = 0.5

#: Two estates of one team are joined into one detour (route -> first -> second)
#: only when they lie at most this far apart (straight line, metres).
optimise_pair_max_m: float = 600.0

#: Travel speed of a responding patrol per road class (``road_class`` of the road file), km/h.
response_speed_kmh: dict = {"national": 40.0, "avenue": 35.0, "street": 25.0, "lane": 12.0}

#: Speed on a road without ``road_class``, km/h.
response_default_speed_kmh: float = 20.0

#: Speed on foot from a post or an estate to its nearest road (the snap leg), km/h.
response_access_speed_kmh: float = 5.0

#: Response tiers, minutes (inclusive): an estate reached within 1 minute is tier 1, and so on.
response_tiers_min: tuple[float, ...] = (1.0, 3.0, 5.0)

#: Tier every estate should be in (residential estates fall in the 3- and 5-minute circles in
#: the practice this follows); the response report lists the estates outside it.
response_target_min: float = 5.0
