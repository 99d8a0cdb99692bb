"""Per-estate incident measures, the risk ranking and the proposed three-year list.

The plan (P3) asks each estate's 110 calls and criminal cases to be reviewed
"from the totals of thefts, property crimes, criminal cases and disputes" to
draw up the three-year list. This module counts incidents around each estate,
combines the counts into one documented score and proposes batches.

Counting. An incident counts for an estate when it lies within
:data:`geo.settings.incident_radius_m` of the estate's geometry (mode
``"radius"``: an incident between two estates counts for both), or only for
the nearest estate within that distance (mode ``"nearest"``: every incident
counts once). Distances are planar metres in the metric CRS of
:func:`geo.crs.to_metric`.

Components of the score (:data:`COMPONENTS`): one per category, so every
incident counts in exactly one component (nested components, "property crime
including theft", "all criminal offences", made a theft count three times):

* ``theft``: 盗窃;
* ``other_property``: other property crime (侵财 other than theft);
* ``other_criminal``: other criminal offences (刑事);
* ``disputes``: 矛盾纠纷;
* ``other_calls``: other 110 calls (其他警情).

Default weights (:data:`geo.settings.risk_weights`): theft 2 (the plan names
burglary and theft from cars first among the problems rectification answers),
other property crime 1, other criminal 1, disputes 1, other calls 0.5 (the
least specific of the five). With components that no longer nest, theft
weighs 2 instead of the 3 it weighed implicitly before.

Score. Each component's counts are normalised across the estates, then
``score = sum(weight[k] * normalised[k])`` with :data:`geo.settings.risk_weights`.
Normalisation ``"z"`` (default) is the z-score (population standard deviation;
a component equal for every estate contributes 0); ``"rank"`` is the average
rank scaled to 0..1, which no single extreme estate can dominate.
Counts are used by default, as the plan speaks of totals (总量); ``per_units=True``
uses rates per 100 stairwell units (单元) of the ledger instead, which is fairer
between large and small estates. An estate without a unit count has no rate:
it is left out of the normalisation and the ranking (``rank`` empty,
``why`` says so, ``attrs["missing_units"]`` lists it), never taken as zero,
which would rank it safest.

Batches. Estates are ordered by score (worst first; ties by estate id) and cut
into thirds: the first third is proposed for the first batch year, and so on.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import settings
from geo.incidents.attribution import assign_incidents
from geo.incidents.store import IncidentArrays, as_arrays
from geo.incidents.taxonomy import CATEGORY_NAMES
from geo.incidents.times import period_bounds

#: Score components: name -> (Chinese label, category names counted); each category in exactly one.
COMPONENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "theft": ("盗窃", ("盗窃",)),
    "other_property": ("其他侵财", ("侵财",)),
    "other_criminal": ("其他刑事", ("刑事",)),
    "disputes": ("矛盾纠纷", ("矛盾纠纷",)),
    "other_calls": ("其他110警情", ("其他警情",)),
}
NORMALISATIONS = ("z", "rank")


def _component_masks(inc: IncidentArrays) -> dict[str, np.ndarray]:
    out = {}
    for name, (_, cats) in COMPONENTS.items():
        out[name] = np.isin(inc.category, [CATEGORY_NAMES.index(c) for c in cats])
    return out


def estate_measures(
    incidents,
    estates: gpd.GeoDataFrame,
    *,
    radius_m: float | None = None,
    mode: str | None = None,
    start=None,
    end=None,
) -> pd.DataFrame:
    """Count incidents per estate by category and score component over a period.

    Parameters
    ----------
    incidents
        :class:`~geo.incidents.IncidentArrays` or a frame.
    estates
        GeoDataFrame with ``estate_id`` and, for rates, ``units``.
    radius_m, mode
        See :func:`assign_incidents`.
    start, end
        Period (see :func:`geo.incidents.period_bounds`); None: all the data.

    Returns
    -------
    pandas.DataFrame
        One row per estate (index ``estate_id``, in the estates' order): a
        count column per category (:data:`~geo.incidents.CATEGORY_NAMES`), one
        per component (:data:`COMPONENTS`), ``total``, ``units`` and
        ``<component>_per100u`` (per 100 units; NaN without units).
    """
    inc = as_arrays(incidents)
    lo, hi = period_bounds(start, end)
    keep = np.ones(len(inc), dtype=bool)
    if lo is not None:
        keep &= inc.time_s >= lo
    if hi is not None:
        keep &= inc.time_s < hi
    inc = inc.subset(keep)
    ii, ee = assign_incidents(inc, estates, radius_m=radius_m, mode=mode)
    n_est = len(estates)
    ncat = len(CATEGORY_NAMES)
    by_cat = np.bincount(ee * ncat + inc.category[ii].astype(np.int64), minlength=n_est * ncat).reshape(n_est, ncat)
    out = pd.DataFrame(by_cat, columns=list(CATEGORY_NAMES), index=pd.Index(estates["estate_id"].astype(str).to_numpy(), name="estate_id"))
    for name, mask in _component_masks(inc).items():
        out[name] = np.bincount(ee[mask[ii]], minlength=n_est)
    out["total"] = np.bincount(ee, minlength=n_est)
    units = pd.to_numeric(estates["units"], errors="coerce").to_numpy(dtype=float) if "units" in estates.columns else np.full(n_est, np.nan)
    units = np.where(units > 0, units, np.nan)
    out["units"] = units
    for name in COMPONENTS:
        out[f"{name}_per100u"] = out[name].to_numpy() / units * 100.0
    out.attrs.update(radius_m=float(settings.incident_radius_m if radius_m is None else radius_m), mode=mode or settings.incident_assign_mode)
    return out


def counts_by_period(incidents, estates: gpd.GeoDataFrame, *, freq: str = "year", radius_m: float | None = None, mode: str | None = None) -> pd.DataFrame:
    """Count incidents per estate, category and period.

    Parameters
    ----------
    freq
        ``"year"`` or ``"month"``.

    Returns
    -------
    pandas.DataFrame
        Long table: ``estate_id``, ``period`` (``2021`` or ``2021-03``), ``category``, ``count``
        (only non-zero counts).
    """
    if freq not in ("year", "month"):
        msg = f"freq must be 'year' or 'month', not {freq!r}"
        raise ValueError(msg)
    inc = as_arrays(incidents)
    ii, ee = assign_incidents(inc, estates, radius_m=radius_m, mode=mode)
    t = inc.time_s[ii].astype("datetime64[s]")
    period = t.astype("datetime64[Y]" if freq == "year" else "datetime64[M]").astype(str)
    df = pd.DataFrame(
        {
            "estate_id": estates["estate_id"].astype(str).to_numpy()[ee],
            "period": period,
            "category": np.asarray(CATEGORY_NAMES, dtype=object)[inc.category[ii]],
        }
    )
    return df.groupby(["estate_id", "period", "category"], sort=True).size().rename("count").reset_index()


def parse_weights(text: str | dict | None) -> dict[str, float]:
    """Return the score weights: :data:`geo.settings.risk_weights` updated by ``text``.

    Parameters
    ----------
    text
        ``"theft=2,disputes=0.5"`` or a dict; None for the defaults.

    Raises
    ------
    ValueError
        If a name is not a component or a value is not a non-negative number.
    """
    weights = {k: float(settings.risk_weights.get(k, 0.0)) for k in COMPONENTS}
    if text is None:
        return weights
    items = text.items() if isinstance(text, dict) else [part.split("=", 1) if "=" in part else (part, "") for part in str(text).split(",") if part.strip()]
    problems = []
    for k, v in items:
        k = str(k).strip()
        if k not in COMPONENTS:
            problems.append(f"{k!r} is not a component; use {', '.join(COMPONENTS)}")
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            problems.append(f"{k}={v!r}: the weight must be a number, e.g. {k}=2")
            continue
        if not np.isfinite(f) or f < 0:
            problems.append(f"{k}={v}: the weight must be a non-negative number")
            continue
        weights[k] = f
    if problems:
        raise ValueError("bad weights: " + "; ".join(problems))
    return weights


def normalise(values: np.ndarray, how: str = "z") -> np.ndarray:
    """Normalise one component across estates: z-score (population std) or rank scaled to 0..1."""
    v = np.asarray(values, dtype=float)
    if how == "z":
        sd = v.std()
        return np.zeros_like(v) if not sd > 0 else (v - v.mean()) / sd
    if how == "rank":
        if len(v) < 2:
            return np.zeros_like(v)
        return (pd.Series(v).rank(method="average").to_numpy() - 1.0) / (len(v) - 1.0)
    msg = f"unknown normalisation {how!r}; use one of {', '.join(NORMALISATIONS)}"
    raise ValueError(msg)


def risk_table(
    incidents,
    estates: gpd.GeoDataFrame,
    *,
    weights=None,
    window=None,
    normalisation: str = "z",
    per_units: bool = False,
    radius_m: float | None = None,
    mode: str | None = None,
) -> pd.DataFrame:
    """Rank estates by a composite risk score and propose the three-year list.

    Parameters
    ----------
    incidents
        :class:`~geo.incidents.IncidentArrays` or a frame.
    estates
        GeoDataFrame with ``estate_id``; ``name``, ``community``, ``units`` and
        ``batch_year`` (the plan's batch) are used when present.
    weights
        Dict or ``"theft=2,..."`` text (see :func:`parse_weights`).
    window
        ``(first_year, last_year)`` or ``"2019-2021"``; default :data:`geo.settings.risk_window`.
    normalisation
        ``"z"`` or ``"rank"``.
    per_units
        Score rates per 100 units instead of counts.
    radius_m, mode
        See :func:`assign_incidents`.

    Returns
    -------
    pandas.DataFrame
        One row per estate, worst first: ``rank``, ``estate_id``, ``name``,
        ``community``, ``units``, the component values, ``score``,
        ``proposed_batch`` (1, 2, 3), ``proposed_year``, ``plan_year``,
        ``agreement`` (``same``, ``plan later``, ``plan earlier``) and ``why``
        (the components that drive the score, with counts and z).
        ``attrs`` carry the weights, window, normalisation and radius.
    """
    w = parse_weights(weights)
    first, last = parse_window(window)
    m = estate_measures(incidents, estates, radius_m=radius_m, mode=mode, start=first, end=last)
    value_cols = [f"{k}_per100u" if per_units else k for k in COMPONENTS]
    values = m[value_cols].to_numpy(dtype=float)
    n = len(m)
    ids = m.index.to_numpy()
    ranked = np.isfinite(values).all(axis=1) if per_units else np.ones(n, dtype=bool)
    norm = np.full(values.shape, np.nan)
    if ranked.any():
        norm[ranked] = np.column_stack([normalise(values[ranked, j], normalisation) for j in range(len(COMPONENTS))])
    wv = np.array([w[k] for k in COMPONENTS])
    contrib = norm * wv
    score = contrib.sum(axis=1)
    n_ranked = int(ranked.sum())
    order = np.lexsort((ids[ranked], -score[ranked]))
    rank_r = np.empty(n_ranked, dtype=np.int64)
    rank_r[order] = np.arange(1, n_ranked + 1)
    rank = np.full(n, -1, dtype=np.int64)
    rank[ranked] = rank_r
    batch = np.where(ranked, (rank - 1) * 3 // max(n_ranked, 1) + 1, 0)
    years = sorted({int(y) for y in pd.to_numeric(estates.get("batch_year", pd.Series(dtype=float)), errors="coerce").dropna()})
    out = pd.DataFrame({"rank": pd.array([int(r) if r > 0 else pd.NA for r in rank], dtype="Int64"), "estate_id": ids})
    for col in ("name", "community"):
        out[col] = estates[col].astype(str).to_numpy() if col in estates.columns else ""
    out["units"] = m["units"].to_numpy()
    for j, k in enumerate(COMPONENTS):
        out[value_cols[j]] = values[:, j]
        out[f"{k}_norm"] = norm[:, j]
    out["score"] = score
    out["proposed_batch"] = pd.array([int(b) if b > 0 else pd.NA for b in batch], dtype="Int64")
    out["proposed_year"] = [years[b - 1] if len(years) == 3 and b > 0 else pd.NA for b in batch]
    plan = pd.to_numeric(estates["batch_year"], errors="coerce").to_numpy() if "batch_year" in estates.columns else np.full(n, np.nan)
    out["plan_year"] = pd.array([int(p) if np.isfinite(p) else pd.NA for p in plan], dtype="Int64")
    out["agreement"] = [_agreement(p, q) for p, q in zip(out["plan_year"], out["proposed_year"], strict=True)]
    out["why"] = [_why(contrib[i], norm[i], values[i], value_cols, rank[i], n_ranked, score[i]) if ranked[i]
                  else "no unit count in the ledger: no rate, not ranked (add the estate's 单元 count)" for i in range(n)]
    out = out.assign(_key=np.where(ranked, rank, n + 1)).sort_values(["_key", "estate_id"]).drop(columns="_key").reset_index(drop=True)
    out.attrs.update(missing_units=[str(i) for i in ids[~ranked]], weights=w, window=(first, last), normalisation=normalisation, per_units=per_units, radius_m=m.attrs["radius_m"], mode=m.attrs["mode"])
    return out


def risk_method(attrs: dict) -> str:
    """The one-line method note of a :func:`risk_table` (from its ``attrs``)."""
    from geo.incidents.reporting import method_line

    weights = ", ".join(f"{k}={v:g}" for k, v in attrs["weights"].items())
    what = "rates per 100 units" if attrs.get("per_units") else "counts"
    return method_line(
        f"weighted sum of {attrs['normalisation']}-normalised {what} of five non-overlapping components ({weights}), "
        f"{attrs['window'][0]}-{attrs['window'][1]}, incidents within {attrs['radius_m']:g} m ({attrs['mode']})",
        "none (a ranking, not a test)",
        "the weights are a policy choice; counts follow where people live and report",
    )


def parse_window(window) -> tuple[int, int]:
    """Return ``(first_year, last_year)`` from a tuple, ``"2019-2021"``, one year, or None (the setting)."""
    if window is None:
        window = settings.risk_window
    if isinstance(window, str):
        parts = [p for p in window.replace("~", "-").replace("至", "-").split("-") if p.strip()]
        try:
            years = [int(p) for p in parts]
        except ValueError:
            years = []
        if len(years) not in (1, 2):
            msg = f"window {window!r}: write it as FIRST-LAST years, e.g. 2019-2021"
            raise ValueError(msg)
        window = (years[0], years[-1])
    elif isinstance(window, int):
        window = (window, window)
    first, last = (int(window[0]), int(window[1]))
    if first > last:
        msg = f"window {first}-{last}: the first year comes after the last"
        raise ValueError(msg)
    return first, last


def _agreement(plan, proposed) -> str:
    if plan is pd.NA or proposed is pd.NA:
        return "no plan year"
    if int(plan) == int(proposed):
        return "same"
    return "plan later" if int(plan) > int(proposed) else "plan earlier"


def _why(contrib: np.ndarray, norm: np.ndarray, values: np.ndarray, cols: list[str], rank: int, n: int, score: float) -> str:
    labels = [COMPONENTS[k][0] for k in COMPONENTS]
    order = np.argsort(-contrib, kind="stable")
    high = [j for j in order if contrib[j] > 0][:2]
    low = [j for j in order[::-1] if contrib[j] < 0][:2]
    parts = [f"score {score:+.2f}, rank {rank}/{n}"]
    for head, picks in (("high", high), ("low", low)):
        if picks:
            parts.append(f"{head}: " + ", ".join(f"{labels[j]} {_fmt(values[j])} (norm {norm[j]:+.2f})" for j in picks))
    if not high and not low:
        parts.append("all components equal")
    return "; ".join(parts)


def _fmt(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"
