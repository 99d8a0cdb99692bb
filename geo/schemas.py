"""Documented schemas of the project's data files.

A schema lists every property a feature (or a table row) may carry, its type,
whether it is required and its allowed values, plus the geometry types allowed.
Properties whose names start with ``x_`` are the user's own and pass unchecked;
any other name not in the schema is reported as unknown, which catches typos.

The README renders these tables; :func:`describe` produces the same text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Qualities of a geocoded position, best first:
#:
#: * ``surveyed``: a surveyed point from the overrides file;
#: * ``exact``: an online geocoder matched the house number;
#: * ``interpolated``: placed by house number (or the middle of a range of
#:   numbers) along a road centreline of the gazetteer;
#: * ``partial``: placed like ``interpolated`` or ``exact``, but part of the
#:   address was not used: words after the number (旁, 对面, 3栋2单元, a
#:   landmark) or a sub-number set back only as far as the cap; the note says which;
#: * ``road``: only the road was found: the middle of the road;
#: * ``failed``: no point (the note says why).
GEOCODE_QUALITIES = ("surveyed", "exact", "interpolated", "partial", "road", "failed")
ORG_TYPES = ("police", "property", "enterprise", "school", "volunteer")
SHIFTS = ("day", "night", "all")


@dataclass(frozen=True)
class Field:
    """One property of a schema.

    Parameters
    ----------
    name
        Property name as written in files.
    kind
        ``"str"``, ``"int"``, ``"float"`` or ``"bool"``.
    required
        Whether every feature must carry a non-empty value.
    choices
        Allowed values, or None for any value of the kind.
    description
        What the value means, with its unit.
    """

    name: str
    kind: str
    required: bool = True
    choices: tuple | None = None
    description: str = ""


@dataclass(frozen=True)
class Schema:
    """The schema of one kind of data file."""

    name: str
    id_field: str
    fields: tuple[Field, ...]
    geometry_types: tuple[str, ...]
    description: str = ""
    extra_prefix: str = "x_"
    field_index: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "field_index", {f.name: f for f in self.fields})

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required fields."""
        return tuple(f.name for f in self.fields if f.required)


ESTATES = Schema(
    name="estates",
    id_field="estate_id",
    geometry_types=("Point", "Polygon", "MultiPolygon"),
    description="One feature per site of the plan's ledger: the address point (or a footprint polygon).",
    fields=(
        Field("estate_id", "str", description="stable id of the ledger row, e.g. SH-01"),
        Field("seq", "int", required=False, description="row number in the plan's attachment (1-24)"),
        Field("name", "str", description="estate name as printed (老旧小区名称); several rows may share it"),
        Field("community", "str", description="community (所属社区)"),
        Field("address", "str", description="address as printed (详细地址)"),
        Field("batch_year", "int", choices=(2022, 2023, 2024), description="year of the rectification batch (整治时间)"),
        Field("batch_period", "str", required=False, description="rectification window as printed, e.g. 2022年1月至2022年11月"),
        Field("buildings", "int", required=False, description="number of buildings (楼栋)"),
        Field("units", "int", required=False, description="number of stairwell units (单元)"),
        Field("remarks", "str", required=False, description="remarks (备注)"),
        Field("geocode_quality", "str", required=False, choices=GEOCODE_QUALITIES, description="how the point was found"),
        Field("geocode_source", "str", required=False, description="provider and file/version that gave the point"),
        Field("geocode_road", "str", required=False, description="parsed road name"),
        Field("geocode_number", "str", required=False, description="parsed house number"),
        Field("geocode_sub_number", "str", required=False, description="parsed sub-number (附N号)"),
        Field("geocode_note", "str", required=False, description="why the point is where it is"),
        Field("synthetic", "bool", required=False, description="true when the position is invented or approximate"),
    ),
)

ROUTES = Schema(
    name="patrol routes",
    id_field="route_id",
    geometry_types=("LineString", "MultiLineString"),
    description="One feature per patrol route; a team may have several routes.",
    fields=(
        Field("route_id", "str", description="stable id of the route"),
        Field("team_id", "str", description="id of the patrol team; one team id has one name"),
        Field("team", "str", description="team name (巡防队伍)"),
        Field("org_type", "str", choices=ORG_TYPES, description="police, property (物业), enterprise (企业), school (学校) or volunteer (群防群治)"),
        Field("shift", "str", choices=SHIFTS, description="day, night or all"),
        Field("schedule", "str", required=False, description="free text, e.g. 每日 20:00-23:00"),
        Field("synthetic", "bool", required=False, description="true for demonstration routes that are not real"),
        Field("note", "str", required=False, description="free text"),
    ),
)

INCIDENTS = Schema(
    name="incidents",
    id_field="incident_id",
    geometry_types=("Point",),
    description="One feature per incident (110 call, criminal case, dispute).",
    fields=(
        Field("incident_id", "str", description="unique id"),
        Field("time", "str", description="local time, ISO 8601, Asia/Shanghai"),
        Field("category", "str", description="category of the taxonomy (geo.incidents)"),
        Field("subcategory", "str", required=False, description="subcategory of the taxonomy"),
        Field("source", "str", description="110 call, criminal case or dispute register"),
        Field("address", "str", required=False, description="address, when given"),
        Field("text", "str", required=False, description="free text"),
        Field("synthetic", "bool", required=False, description="true for generated demonstration incidents"),
    ),
)

ROADS = Schema(
    name="road network",
    id_field="segment_id",
    geometry_types=("LineString", "MultiLineString"),
    description="Road centrelines to measure extensions along (e.g. data/gazetteer.geojson); other properties are kept as they are.",
    extra_prefix="",
    fields=(
        Field("road", "str", required=False, description="road name"),
        Field("segment_id", "str", required=False, description="id of the segment, unique when given"),
        Field("left_from", "int", required=False, description="first house number on the left"),
        Field("left_to", "int", required=False, description="last house number on the left"),
        Field("right_from", "int", required=False, description="first house number on the right"),
        Field("right_to", "int", required=False, description="last house number on the right"),
        Field("approximate", "bool", required=False, description="true when the line is drawn, not surveyed"),
        Field("source", "str", required=False, description="where the line comes from"),
    ),
)

CHECKIN_POINTS = Schema(
    name="check-in points",
    id_field="point_id",
    geometry_types=("Point",),
    description="One feature per check-in point (巡更点) of an estate, e.g. data/checkin_points.geojson.",
    fields=(
        Field("point_id", "str", description="stable id of the point, as the check-in devices report it, e.g. SH-06-A"),
        Field("estate_id", "str", description="estate the point belongs to (estate_id of the estates file)"),
        Field("name", "str", required=False, description="where the point is, e.g. 北门岗亭"),
        Field("synthetic", "bool", required=False, description="true for invented demonstration points"),
    ),
)

CHECKINS = Schema(
    name="check-in records",
    id_field="point_id",
    geometry_types=(),
    description="One row per check-in (a team touched a point): CSV/XLSX with point_id, team_id (or device_id) and time.",
    fields=(
        Field("point_id", "str", description="id of the check-in point (point_id of the points file)"),
        Field("team_id", "str", description="team that checked in (or device_id with a device table)"),
        Field("time", "str", description="local time of the check-in, Asia/Shanghai, e.g. 2026-03-04 22:05"),
    ),
)

SCHEMAS: dict[str, Schema] = {"estates": ESTATES, "routes": ROUTES, "incidents": INCIDENTS, "checkin_points": CHECKIN_POINTS}


def describe(schema: Schema) -> str:
    """Return a Markdown table of a schema's fields."""
    lines = ["| field | type | required | allowed values | meaning |", "|---|---|---|---|---|"]
    for f in schema.fields:
        choices = ", ".join(map(str, f.choices)) if f.choices else ""
        lines.append(f"| `{f.name}` | {f.kind} | {'yes' if f.required else 'no'} | {choices} | {f.description} |")
    lines.append(f"\nGeometry: {', '.join(schema.geometry_types)} in WGS-84 lon/lat. Properties starting with `{schema.extra_prefix}` are free.")
    return "\n".join(lines)
