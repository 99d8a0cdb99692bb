"""A plan of route extensions for the current routes: candidates, the choice, and the drafted lines.

:func:`plan_extensions` builds the coverage model of the routes (with the
shift filter, so a night target extends night routes only), the candidate
detours (:mod:`geo.optimise.candidates`), chooses among them
(:class:`geo.optimise.model.ExtensionModel`) and returns the plan as one
feature per detour in WGS-84, ready for ``python -m geo routes add plan.geojson``
or the app's plan view.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import settings
from geo.coverage.model import CoverageModel
from geo.coverage.rule import STATUSES
from geo.errors import SchemaError
from geo.optimise.candidates import build_candidates
from geo.optimise.model import ExtensionModel, Plan

__all__ = ["PlanResult", "budget_curve", "per_estate_sum", "plan_extensions"]

#: Kinds of detour, and what each means for the police.
KINDS = {
    "extension": "extension of a team's route to one estate",
    "joined": "one extension of a team's route that brings in two or more estates",
    "gap_extension": "extension of the nearest team beyond the rule radius, for an estate no team reaches",
    "new_police_loop": "a new police patrol loop from the nearest police post, for an estate no team reaches",
}


@dataclass
class PlanResult:
    """A plan and what it was computed from.

    Attributes
    ----------
    features
        One row per chosen detour (WGS-84): ``plan_id``, ``team_id``, ``team``,
        ``org_type``, ``shift``, ``kind``, ``route_id`` (the route it leaves;
        empty for a new loop), ``post_id``, ``cost_m`` (there and back),
        ``length_m`` (the drafted line), ``measure``, ``estate_ids`` (the
        estates it brings in, ``;``-joined), ``synthetic``.
    plan
        The solver's answer.
    per_estate_sum_m
        Sum, over the estates the plan serves, of their cheapest separate extensions (the hints' total).
    estates
        Per estate: ``estate_id``, ``status`` and ``need`` before the plan.
    unmeetable
        Estate ids that cannot reach the target k (fewer teams could ever cover them).
    notices
        Road-network fallbacks and other remarks, one line each.
    """

    features: gpd.GeoDataFrame
    plan: Plan
    per_estate_sum_m: float
    estates: pd.DataFrame
    unmeetable: list[str]
    notices: list[str] = field(default_factory=list)
    model: ExtensionModel | None = None
    candidates: pd.DataFrame | None = None


def plan_extensions(
    estates: gpd.GeoDataFrame,
    routes: gpd.GeoDataFrame,
    *,
    k: int = 1,
    strict: bool = False,
    shift: str | None = None,
    network=None,
    posts: gpd.GeoDataFrame | None = None,
    budget_m: float | None = None,
    weights=None,
    time_limit_s: float | None = None,
    method: str = "milp",
    gaps: bool = True,
    radius_m: float | None = None,
    cover_m: float | None = None,
) -> PlanResult:
    """Plan the cheapest extensions that bring every estate to ``k`` covering teams.

    Parameters
    ----------
    estates, routes
        WGS-84 GeoDataFrames as :func:`geo.io.read_estates` and :func:`geo.routes.load_routes` return them.
    k
        Covering teams every estate should have (1; 2 for a cross-patrol target). Existing cover counts.
    strict
        Strict reading: every nearby team must cover.
    shift
        ``day`` or ``night``: only that shift's routes count and are extended.
    network
        Road network (path or GeoDataFrame) to route detours along; None for straight lines.
    posts
        Police posts (GeoDataFrame of points with ``post_id``) for new loops at the gaps.
    budget_m
        Maximal covering within this many added metres instead of the minimum-cost full plan.
    weights
        Per-estate weights for the budgeted plan (mapping estate_id -> weight, or None for 1 each).
    time_limit_s, method
        See :meth:`ExtensionModel.solve`.
    gaps
        Also plan for the gaps.
    radius_m, cover_m
        Rule radius and cover distance (default: the settings).

    Raises
    ------
    SchemaError
        For ``k`` < 1 or a budget <= 0.
    """
    if int(k) != k or k < 1:
        msg = f"k = {k!r}: give the number of covering teams every estate should have, a whole number >= 1 (2 for cross-patrol)"
        raise SchemaError(msg)
    if budget_m is not None and not (np.isfinite(budget_m) and budget_m > 0):
        msg = f"budget {budget_m!r} m: give a budget of added metres greater than 0 (e.g. --budget-m 5000)"
        raise SchemaError(msg)
    cov = CoverageModel.from_geodataframes(estates, routes, radius_m=radius_m, cover_m=cover_m, shift=shift, strict=strict).solve()
    cand, est, notices = build_candidates(cov, k=int(k), strict=strict, network=network, posts=posts, gaps=gaps)
    weight = None
    if weights is not None:
        weight = np.array([float(weights.get(str(e), 1.0)) for e in est["estate_id"]])
    model = ExtensionModel(
        len(est), cand["team_code"].to_numpy(dtype=np.int64), cand["cost_m"].to_numpy(dtype=float), list(cand["covers"]),
        est["need"].to_numpy(), forbid_team=list(est["forbid_codes"]), must=list(cand["must"]), must_by_team=strict, weight=weight,
    )
    plan = model.solve(budget_m=budget_m, time_limit_s=time_limit_s, method=method)
    features = _features(cov, cand, model, plan, routes, posts)
    unmeetable = [str(est["estate_id"].iloc[i]) for i in plan.unmeetable]
    served = np.flatnonzero(est["need"].to_numpy() > 0)
    table = pd.DataFrame({"estate_id": est["estate_id"], "status": np.asarray(STATUSES, dtype=object)[est["status"].to_numpy()], "need": est["need"]})
    return PlanResult(features, plan, per_estate_sum(model, cand, served), table, unmeetable, notices, model, cand)


def per_estate_sum(model: ExtensionModel, cand: pd.DataFrame, estates) -> float:
    """Sum of each estate's cheapest separate extensions (its ``need`` cheapest, from distinct teams).

    Only single-estate detours count (what the per-estate hints propose), so
    the sum is what the police would add by following every hint separately.
    """
    single = np.flatnonzero(cand["targets"].map(len).to_numpy() == 1) if len(cand) else np.zeros(0, dtype=np.int64)
    firsts = np.array([cand["targets"].iat[j][0] for j in single.tolist()], dtype=np.int64)
    order = np.lexsort((model.cost_m[single], firsts))  # by estate, then cost (stable: candidate order breaks ties)
    single, firsts = single[order], firsts[order]
    total = 0.0
    for e in np.asarray(estates, dtype=np.int64).tolist():
        rows = single[np.searchsorted(firsts, e, side="left") : np.searchsorted(firsts, e, side="right")]
        teams: set[int] = set(model.forbid_team[e])
        taken = 0
        for j in rows.tolist():
            t = int(model.team[j])
            if t in teams or taken >= model.need[e]:
                continue
            teams.add(t)
            total += float(model.cost_m[j])
            taken += 1
    return total


def _features(cov: CoverageModel, cand: pd.DataFrame, model: ExtensionModel, plan: Plan, routes, posts) -> gpd.GeoDataFrame:
    attrs = cov.team_attrs if cov.team_attrs is not None else pd.DataFrame()
    synthetic = bool(routes.attrs.get("metadata", {}).get("synthetic")) or ("synthetic" in routes.columns and bool(routes["synthetic"].fillna(False).astype(bool).any()))
    rows, geoms = [], []
    for n, j in enumerate(plan.chosen.tolist(), start=1):
        c = cand.iloc[j]
        team_id = str(c["team_id"])
        if c["kind"] == "new_police_loop":
            name = str(posts.set_index("post_id").loc[c["post_id"], "name"]) if posts is not None and "name" in posts.columns else str(c["post_id"])
            team, org = f"新巡逻({name})", "police"
        else:
            team = str(attrs.loc[team_id, "team"]) if "team" in attrs.columns and team_id in attrs.index else team_id
            org = str(attrs.loc[team_id, "org_type"]) if "org_type" in attrs.columns and team_id in attrs.index else "police"
        brings = [str(cov.estate_ids[e]) for e in c["covers"].tolist() if int(c["team_code"]) not in model.forbid_team[e]]
        rows.append(
            {
                "plan_id": f"P-{n}",
                "team_id": team_id,
                "team": team,
                "org_type": org,
                "shift": str(c["shift"]),
                "kind": str(c["kind"]),
                "route_id": str(c["route_id"]),
                "post_id": str(c["post_id"]),
                "cost_m": round(float(c["cost_m"]), 2),
                "length_m": round(float(c["length_m"]), 2),
                "measure": str(c["measure"]),
                "estate_ids": ";".join(brings),
                "synthetic": synthetic,
            }
        )
        geoms.append(c["geometry"])
    cols = ["plan_id", "team_id", "team", "org_type", "shift", "kind", "route_id", "post_id", "cost_m", "length_m", "measure", "estate_ids", "synthetic"]
    frame = pd.DataFrame(rows, columns=cols)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=cov.crs).to_crs(settings.storage_crs).values, crs=settings.storage_crs)


def budget_curve(model: ExtensionModel, *, full_m: float, steps: int = 8, time_limit_s: float | None = None) -> pd.DataFrame:
    """What each extra kilometre buys: covered estates and weight against the budget.

    Parameters
    ----------
    model
        The extension model of a plan.
    full_m
        Added metres of the full (minimum-cost) plan; budgets run from ``full_m / steps`` to ``full_m``.
    steps
        Number of budgets.

    Returns
    -------
    pandas.DataFrame
        ``budget_m``, ``added_m``, ``estates_met`` (estates whose need the plan meets), ``weight_met``, ``optimal``.
    """
    rows = []
    served = model.need > 0
    for i in range(1, steps + 1):
        budget = full_m * i / steps
        if budget <= 0:
            continue
        p = model.solve(budget_m=budget, time_limit_s=time_limit_s)
        met = p.met & served
        rows.append({"budget_m": round(budget, 1), "added_m": round(p.added_m, 1), "estates_met": int(met.sum()),
                     "weight_met": round(float(model.weight[met].sum()), 3), "optimal": bool(p.optimal)})
    return pd.DataFrame(rows, columns=["budget_m", "added_m", "estates_met", "weight_met", "optimal"])
