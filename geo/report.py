"""Tables for users: the coverage report per estate, obligations per team, and summaries per status.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import settings
from geo._validate import is_blank, is_true
from geo.coverage.estate_index import EstateIndex
from geo.coverage.kernels import join_groups, text_ranks
from geo.coverage.model import CoverageModel, solved_model
from geo.coverage.rule import STATUSES, Rule, as_rule
from geo.extensions import extension_proposals, extension_totals

#: Estates from which :func:`coverage_table` makes the model's table in a thread beside the extension proposals.
TABLE_BESIDE_FROM = 20_000

#: Columns of the coverage report, in order (those present are written; ids joined with ';').
#: The command line and the app write the same report.
REPORT_COLUMNS: tuple[str, ...] = (
    "estate_id",
    "name",
    "community",
    "address",
    "batch_year",
    "status",
    "covering_count",
    "nearby_count",
    "obligations_count",
    "nearest_team_id",
    "nearest_distance_m",
    "covering_team_ids",
    "nearby_team_ids",
    "recommended_team_id",
    "recommended_extension_m",
    "extension_measure",
    "geocode_quality",
    "approximate_position",
)


def is_approximate_position(quality, synthetic=None) -> bool:
    """Whether an estate's position is approximate: not surveyed (``geocode_quality`` other than ``surveyed``) or synthetic."""
    return is_true(synthetic) or is_blank(quality) or str(quality).strip() != "surveyed"


def synthetic_flags(frame: pd.DataFrame) -> pd.Series:
    """Per row: whether the ``synthetic`` column says true (False where there is no such column)."""
    if "synthetic" not in frame.columns:
        return pd.Series(False, index=frame.index, dtype=bool)
    col = frame["synthetic"]
    if pd.api.types.is_bool_dtype(col.dtype):  # as the readers type it: no per-row call
        return col.fillna(False).astype(bool)
    return col.map(is_true).astype(bool)


def approximate_positions(frame: pd.DataFrame) -> pd.Series:
    """Per estate: whether its position is approximate (see :func:`is_approximate_position`)."""
    surveyed = pd.Series(False, index=frame.index, dtype=bool)
    if "geocode_quality" in frame.columns:
        try:  # the rule of is_approximate_position, on the whole column: text "surveyed" (spaces aside)
            surveyed = frame["geocode_quality"].str.strip().eq("surveyed").fillna(False).astype(bool)
        except AttributeError:  # no text in the column (all empty): nothing is surveyed
            pass
    return ~surveyed | synthetic_flags(frame)


def report_columns(table: pd.DataFrame) -> list[str]:
    """The columns of :data:`REPORT_COLUMNS` that ``table`` has, in report order."""
    return [c for c in REPORT_COLUMNS if c in table.columns]

# --- tables for users ------------------------------------------------------------


def coverage_table(
    estates: gpd.GeoDataFrame, routes: gpd.GeoDataFrame, *, rule: Rule | None = None, network=None,
    model: CoverageModel | None = None, proposals: gpd.GeoDataFrame | None = None, **rule_args,
) -> gpd.GeoDataFrame:
    """Coverage status of every estate, with its recommended extension.

    Parameters
    ----------
    estates, routes
        GeoDataFrames in one CRS (WGS-84 as read by :mod:`geo.io`).
    rule
        The question (:class:`geo.coverage.rule.Rule`; default the settings').
    network
        Optional road network (path or GeoDataFrame of lines) to measure
        extensions along; see :func:`geo.extensions.extension_proposals`.
    model
        A solved model to reuse instead of building one from the frames.
    proposals
        The result of :func:`geo.extensions.extension_proposals` for the same
        model, to reuse instead of computing it again (``network`` is then unused).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per estate in input order: ``estate_id``, ``name``,
        ``community``, ``batch_year`` (when present), the columns of
        :meth:`CoverageModel.table`, ``recommended_team_id``,
        ``recommended_extension_m``, ``extension_measure``, and the estate
        geometry in the estates' CRS.
    """
    model = solved_model(estates, routes, rule=as_rule(rule, **rule_args), model=model)
    # The table uses each estate's recommended figures only: no connector line is made or reprojected.
    def recommended():
        return extension_proposals(estates, routes, model=model, network=network, lines=False, recommended_only=True)

    if proposals is None and settings.coverage_threads() > 1 and len(model.estate_ids) >= TABLE_BESIDE_FROM:
        # the model's table (its id lists joined by Arrow, without the interpreter lock) in a thread while the proposals
        # are made here: both only read the solved model
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(model.table)
            props = recommended()
            table = pending.result()
    else:
        props = proposals if proposals is not None else recommended()
        table = model.table()
    best = props if props["recommended"].all() else props.loc[props["recommended"]]  # (only rank 1 when made here: no copy)
    rec = pd.DataFrame({"estate_id": best["estate_id"], "recommended_team_id": best["team_id"],
                        "recommended_extension_m": best["extension_m"], "extension_measure": best["extension_measure"]}, copy=False)
    at = _row_positions(table["estate_id"], rec["estate_id"])
    if at is None:
        table = table.merge(rec, on="estate_id", how="left")
        table["recommended_team_id"] = table["recommended_team_id"].fillna("")
        table["extension_measure"] = table["extension_measure"].fillna("")
    else:  # one recommendation per estate, each found in the table: placed by position (a merge of 170,000 ids costs more)
        # an estate without one gets "" (no team, no measure) and NaN metres
        for col, empty in (("recommended_team_id", ""), ("recommended_extension_m", np.nan), ("extension_measure", "")):
            values = np.full(len(table), empty, dtype=object if isinstance(empty, str) else float)
            values[at] = rec[col].to_numpy(dtype=values.dtype)
            table[col] = values
    front = [c for c in ("estate_id", "name", "community", "batch_year") if c in estates.columns]
    attrs = pd.DataFrame(estates[front]).reset_index(drop=True)
    ids = attrs["estate_id"].to_numpy(dtype=object)
    if not (len(ids) and pd.api.types.infer_dtype(ids, skipna=False) == "string"):
        attrs["estate_id"] = attrs["estate_id"].astype(str)
    if attrs["estate_id"].equals(table["estate_id"]):  # the model's estates in the frame's order: side by side
        # a frame of the columns themselves (pd.concat would copy and consolidate every column: 0.1 s at province size)
        columns = {**{c: attrs[c] for c in attrs.columns}, **{c: table[c] for c in table.columns if c != "estate_id"}}
        out = pd.DataFrame(columns, copy=False)
    else:
        out = attrs.merge(table, on="estate_id", how="left")
    # copy=False: `out` is this function's own frame (geopandas would otherwise copy and consolidate every column, 0.1-0.2 s at province size)
    return gpd.GeoDataFrame(out, geometry=estates.geometry.reset_index(drop=True).values, crs=estates.crs, copy=False)


def _row_positions(keys: pd.Series, values: pd.Series) -> np.ndarray | None:
    """The row of ``keys`` holding each of ``values``, or None when that is not one row each (then a merge decides)."""
    index = pd.Index(keys)
    if not index.is_unique or not pd.Index(values).is_unique:
        return None
    at = index.get_indexer(values)
    return None if (at < 0).any() else at


def team_table(
    estates: gpd.GeoDataFrame, routes: gpd.GeoDataFrame, *, rule: Rule | None = None, network=None,
    model: CoverageModel | None = None, proposals: gpd.GeoDataFrame | None = None, **rule_args,
) -> pd.DataFrame:
    """What each team covers and what the rule obliges it to cover.

    Parameters are those of :func:`coverage_table`.

    Returns
    -------
    pandas.DataFrame
        One row per team: ``team_id``, ``team``, ``org_type``, ``route_ids``,
        ``covered_estate_ids``, ``nearby_estate_ids``, ``obliged_estate_ids``
        (nearby, not covering, at estates that are ``coverable`` in the
        chosen mode), the counts of each, and ``obligation_extension_m``: the
        total extra metres (there and back) if the team takes all its
        obligations; ids joined with ``;``.
    """
    model = solved_model(estates, routes, rule=as_rule(rule, **rule_args), model=model)
    if proposals is None:  # the sums alone, not a row per obligation
        ext = extension_totals(model, network=network)
    else:
        ext = proposals.groupby("team_id")["extension_m"].sum() if len(proposals) else pd.Series(dtype=float)
    return _team_rows(model, ext)


#: Columns of :func:`team_table`, in order.
TEAM_TABLE_COLUMNS: tuple[str, ...] = (
    "team_id", "team", "org_type", "route_ids", "covered_count", "obliged_count", "nearby_count",
    "covered_estate_ids", "obliged_estate_ids", "nearby_estate_ids", "obligation_extension_m",
)


def _team_rows(model: CoverageModel, ext: pd.Series, *, columns: tuple[str, ...] = TEAM_TABLE_COLUMNS) -> pd.DataFrame:
    """The rows of :func:`team_table` from a solved model and each team's extension metres, on arrays (no per-team step).

    Every list is put in text order by one sort of (team, item) ranks and
    joined per team by :func:`geo.coverage.kernels.join_groups`. Only
    ``columns`` are made (in :data:`TEAM_TABLE_COLUMNS`' order): at province
    size the nearby estates' lists alone join 2.4 M ids.
    """
    pairs = model.pairs()
    team_ids = model.team_ids
    n_teams = len(team_ids)
    team_rank = text_ranks(team_ids)  # code -> place of the team in text order
    active = np.flatnonzero(model.active_routes())
    route_team = team_rank[model.route_team[active]]
    route_names = [str(r) for r in model.route_ids[active]]
    pair_team = team_rank[model.route_team[pairs["route_index"].to_numpy()]]  # a pair's route is its team's nearest
    estate_ids = [str(e) for e in model.estate_ids]
    estate_rank = text_ranks(estate_ids)
    pair_estate = pairs["estate_index"].to_numpy(dtype=np.int64)
    covers = pairs["covers"].to_numpy(dtype=bool)
    obliged = pairs["obligation"].to_numpy(dtype=bool)

    def joined(groups, items, ranks, names, keep=None):
        if keep is not None:
            groups, items = groups[keep], items[keep]
        order = np.lexsort((ranks[items], groups))
        return join_groups(groups[order], items[order], names, n_teams), np.bincount(groups, minlength=n_teams)

    route_count = np.bincount(route_team, minlength=n_teams)
    nearby_count = np.bincount(pair_team, minlength=n_teams)
    shown = (route_count > 0) | (nearby_count > 0)  # teams with an active route or a nearby estate
    by_text = np.asarray(team_ids, dtype=object)[np.argsort(team_rank)]
    attrs = model.team_attrs if model.team_attrs is not None else pd.DataFrame(index=pd.Index([], name="team_id"))
    made = {
        "team_id": lambda: by_text,
        "team": lambda: _attr(attrs, "team", by_text),
        "org_type": lambda: _attr(attrs, "org_type", by_text),
        "route_ids": lambda: joined(route_team, np.arange(len(active)), text_ranks(route_names), route_names)[0],
        "covered_count": lambda: np.bincount(pair_team[covers], minlength=n_teams),
        "obliged_count": lambda: np.bincount(pair_team[obliged], minlength=n_teams),
        "nearby_count": lambda: nearby_count,
        "covered_estate_ids": lambda: joined(pair_team, pair_estate, estate_rank, estate_ids, covers)[0],
        "obliged_estate_ids": lambda: joined(pair_team, pair_estate, estate_rank, estate_ids, obliged)[0],
        "nearby_estate_ids": lambda: joined(pair_team, pair_estate, estate_rank, estate_ids)[0],
        "obligation_extension_m": lambda: ext.reindex(by_text, fill_value=0.0).to_numpy(dtype=float),
    }
    out = pd.DataFrame({c: made[c]() for c in TEAM_TABLE_COLUMNS if c in columns}, copy=False)
    return out[shown].reset_index(drop=True)


def _attr(attrs: pd.DataFrame, column: str, team_ids: np.ndarray) -> np.ndarray:
    """A team attribute per team id ('' where the team or the column is unknown)."""
    if column not in attrs.columns:
        return np.full(len(team_ids), "", dtype=object)
    return attrs[column].reindex(team_ids).fillna("").to_numpy(dtype=object)


def status_summary(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Counts of estates per status: overall, per community and per batch year.

    Parameters
    ----------
    table
        Output of :func:`coverage_table`.

    Returns
    -------
    dict
        ``"total"``, ``"community"`` and ``"batch_year"`` (when the columns
        exist): DataFrames with one column per status.
    """
    out = {"total": table["status"].value_counts().reindex(STATUSES[::-1], fill_value=0).to_frame("estates").T}
    for key in ("community", "batch_year"):
        if key in table.columns:
            out[key] = status_counts_by(table[key], table["status"])
    return out


#: Kinds of keys (:func:`pandas.api.types.infer_dtype`) that :func:`status_counts_by` counts itself: they sort as crosstab sorts them.
_PLAIN_KEYS = frozenset({"string", "integer", "floating", "empty"})


def status_counts_by(keys: pd.Series, status: pd.Series) -> pd.DataFrame:
    """Estates per key and status: ``pd.crosstab(keys, status)`` with one column per status (in :data:`STATUSES` reversed).

    crosstab counts each group in Python (0.06 s for 2,300 communities at
    province size); here one :func:`numpy.bincount` of the (key, status)
    codes gives the same frame: keys sorted, rows of a missing key or
    status left out, a key seen only with statuses outside :data:`STATUSES`
    kept with zeros. Keys of other kinds (mixed types) go to crosstab.
    """
    statuses = list(STATUSES[::-1])
    given = status.notna().to_numpy()
    kind = pd.api.types.infer_dtype(keys, skipna=True)
    if kind not in _PLAIN_KEYS:
        return pd.crosstab(keys, status).reindex(columns=statuses, fill_value=0)
    codes, uniques = pd.factorize(keys[given], sort=True)
    seen = np.bincount(codes[codes >= 0], minlength=len(uniques)) > 0  # keys crosstab lists: those of some counted row
    col = pd.Categorical(status[given], categories=statuses).codes.astype(np.int64)
    keep = (codes >= 0) & (col >= 0)
    counts = np.bincount(codes[keep] * len(statuses) + col[keep], minlength=len(uniques) * len(statuses))
    index = pd.Index(uniques, name=keys.name)
    frame = pd.DataFrame(counts.reshape(len(uniques), len(statuses)), index=index,
                         columns=pd.Index(statuses, dtype=object, name=status.name))
    return frame if seen.all() else frame[seen]


# --- both readings of the rule ------------------------------------------------------

#: The two readings of the plan's 都应, in the order tables show them.
READINGS: tuple[str, ...] = ("default", "strict")

#: One line on what separates the readings, for every table that shows both.
READINGS_NOTE = (
    "default: an estate is covered when at least one team's route passes within the cover distance; "
    "strict (都应 read literally): only when every team within the rule radius covers it, so any nearby team "
    "that does not is obliged to extend"
)


def status_counts_by_reading(default: pd.DataFrame, strict: pd.DataFrame, *, estate_ids=None) -> pd.DataFrame:
    """Estates per status under the default and the strict reading, side by side.

    Parameters
    ----------
    default, strict
        Coverage tables (:func:`coverage_table` or :meth:`CoverageModel.table`)
        of the same estates and routes, solved with ``strict=False`` and ``strict=True``.
    estate_ids
        Count only these estates (e.g. those a filter shows); default all.

    Returns
    -------
    pandas.DataFrame
        Index ``covered``, ``coverable``, ``gap``; columns ``default`` and ``strict``.
    """
    out = {}
    for name, table in zip(READINGS, (default, strict), strict=True):
        status = table["status"] if estate_ids is None else table.loc[table["estate_id"].astype(str).isin([str(e) for e in estate_ids]), "status"]
        out[name] = status.value_counts().reindex(STATUSES[::-1], fill_value=0).astype(int)
    return pd.DataFrame(out)


def team_obligations_by_reading(
    estates: gpd.GeoDataFrame, routes: gpd.GeoDataFrame, *, rule: Rule | None = None, network=None,
    estate_index: EstateIndex | None = None, **rule_args,
) -> pd.DataFrame:
    """Each team's obligations under the default and the strict reading, side by side.

    Parameters
    ----------
    estates, routes, network
        See :func:`team_table`; it is called once per reading, on one solve.
    rule
        The question (:class:`geo.coverage.rule.Rule`); its ``strict`` is set
        to each reading in turn. ``rule_args``: radius_m, cover_m, shift instead of ``rule``.
    estate_index
        The estates' index made ahead (see :func:`geo.coverage.model.solved_model`).

    Returns
    -------
    pandas.DataFrame
        One row per team: ``team_id``, ``team``, ``org_type``, ``route_ids``,
        ``covered_count``, ``nearby_count`` (the same in both readings), then
        for each reading ``R`` in (``default``, ``strict``):
        ``R_obliged_count``, ``R_obliged_estate_ids`` (estates it must bring
        in, joined with ``;``) and ``R_extension_m`` (extra metres there and
        back if it takes them all, each estate's extension counted on its own).
    """
    base = solved_model(estates, routes, rule=replace(as_rule(rule, **rule_args), strict=False), estate_index=estate_index)
    kept = ("team_id", "team", "org_type", "route_ids", "covered_count", "nearby_count")
    per_reading = ("obliged_count", "obliged_estate_ids", "obligation_extension_m")
    out = None
    for name in READINGS:
        # One solve: the readings differ only in how the measured pairs are summed up (CoverageModel.with_reading),
        # so both tables list the same teams in the same order and only the obligations change (made once per reading).
        model = base.with_reading(strict=name == "strict")
        tt = _team_rows(model, extension_totals(model, network=network), columns=per_reading if out is not None else kept + per_reading)
        if out is None:
            out = tt[list(kept)].copy()
        out[f"{name}_obliged_count"] = tt["obliged_count"].to_numpy()
        out[f"{name}_obliged_estate_ids"] = tt["obliged_estate_ids"].to_numpy()
        out[f"{name}_extension_m"] = tt["obligation_extension_m"].to_numpy()
    return out
