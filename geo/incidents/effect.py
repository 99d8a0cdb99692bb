"""Did incidents drop after an estate's rectification? (P7: 最大限度压降警情)

For each estate the rectification window is the ledger's ``batch_period``
(the plan's 整治时间, e.g. ``2022年1月至2022年11月``: start year-month to end
year-month, both inclusive; see :func:`parse_batch_period`). An estate with no
``batch_period`` falls back to January-November of its ``batch_year``. A
``batch_period`` that does not parse falls back the same way and is reported in
``attrs["warnings"]`` of the table (estate id and value), so one mistyped cell
does not stop the comparison of the other estates; callers show the warnings.
*Before* is every whole month of the data before the window, *after* every
month after it. Each incident counts for the nearest estate within the radius
(:data:`geo.settings.effect_assign_mode`; see :func:`geo.incidents.attribution.assign_incidents`),
so pooled figures (:func:`effect_summary`) add distinct incidents; with
``mode="radius"`` an incident near several estates of one group still counts
once for the group.

The test is the conditional binomial test of two Poisson rates: given
``n = n_before + n_after`` incidents, under "no change" each falls after the
window with probability ``months_after / (months_before + months_after)``;
:func:`scipy.stats.binomtest` gives the two-sided p-value of the observed
``n_after``. It assumes incidents are independent and the rate constant within
each period (no trend, no season), which is optimistic: read a small p-value
as "more than month-to-month noise", not as proof that rectification caused
the change. When fewer than :data:`geo.settings.effect_min_months_after`
months follow the window (the 2024 batch ends in November 2024), the verdict
says so plainly instead of guessing.

Verdicts come twice: ``verdict_code`` for programs (:data:`VERDICT_CODES`) and
``verdict``, an English sentence for the command line (:func:`verdict_text`).
``months_after`` (per estate) or ``shortest_after`` (per group) gives the months
a ``too_short`` verdict refers to.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.stats import binomtest

from geo import settings
from geo.incidents.attribution import assign_incidents
from geo.incidents.reporting import method_line
from geo.incidents.store import as_arrays
from geo.incidents.taxonomy import CATEGORY_NAMES
from geo.incidents.times import month_index, period_bounds
from geo.plan import parse_batch_period

_EPOCH_YEAR = 1970
CAVEAT = "constant rates before and after, no comparison group; a change is not proof that rectification caused it"


def _month_of(value, *, is_end: bool) -> int:
    lo, hi = period_bounds(value if not is_end else None, value if is_end else None)
    s = hi - 1 if is_end else lo
    return int(month_index(np.array([s]))[0])


def _month_label(m: int) -> str:
    return f"{_EPOCH_YEAR + m // 12}-{m % 12 + 1:02d}"


#: Verdict codes and their English sentences (``too_short`` adds the months, see :func:`verdict_text`).
VERDICT_TEXT: dict[str, str] = {
    "fewer": "fewer",
    "more": "more",
    "no_clear_change": "no clear change",
    "no_incidents": "no incidents",
    "no_data_after": "no data after the window",
    "no_data_before": "no data before the window",
    "no_batch_year": "no batch year",
    "too_short": "too short",
}
VERDICT_CODES: tuple[str, ...] = tuple(VERDICT_TEXT)


def verdict_text(code: str, months: int | None = None, *, pooled: bool = False) -> str:
    """English sentence of a verdict code (the ``verdict`` column).

    Parameters
    ----------
    code
        One of :data:`VERDICT_CODES`.
    months
        For ``too_short``: months after the window (of the shortest estate when ``pooled``).
    pooled
        True for a group of estates (:func:`effect_summary`).
    """
    if code != "too_short" or months is None:
        return VERDICT_TEXT.get(code, code)
    n = int(months)
    unit = "month" if n == 1 else "months"
    if pooled:
        return f"too short: an estate has only {n} {unit} after its window"
    return f"too short: only {n} {unit} after the window"


def _verdict(n_before: int, n_after: int, months_before: int, months_after: int, p: float, alpha: float, min_after: int) -> str:
    if months_after <= 0:
        return "no_data_after"
    if months_before <= 0:
        return "no_data_before"
    if months_after < min_after:
        return "too_short"
    if n_before + n_after == 0:
        return "no_incidents"
    if p < alpha:
        return "fewer" if n_after / months_after < n_before / months_before else "more"
    return "no_clear_change"


def _windows(estates: gpd.GeoDataFrame, year: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """First and last month of each estate's window, whether it has one, and warnings."""
    has_year = np.isfinite(year)
    start = np.where(has_year, (np.nan_to_num(year) - _EPOCH_YEAR) * 12, 0).astype(np.int64)
    end = start + 10  # November
    has = has_year.copy()
    warnings: list[str] = []
    if "batch_period" not in estates.columns:
        return start, end, has, warnings
    ids = estates["estate_id"].astype(str).to_numpy()
    for i, value in enumerate(estates["batch_period"].to_numpy(dtype=object)):
        try:
            window = parse_batch_period(value)
        except ValueError as exc:
            fallback = f"January-November {int(year[i])} (batch_year)" if has_year[i] else "nothing (no batch_year either)"
            warnings.append(f"estate {ids[i]}: batch_period {exc}; used {fallback}")
            continue
        if window is None:
            continue
        start[i], end[i] = window
        has[i] = True
        if has_year[i] and _EPOCH_YEAR + window[0] // 12 != int(year[i]):
            warnings.append(f"estate {ids[i]}: batch_period {value!r} starts in another year than batch_year {int(year[i])}; the period is used")
    return start, end, has, warnings


def rate_test(n_before: int, months_before: float, n_after: int, months_after: float) -> float:
    """Two-sided p-value of "same Poisson rate before and after" (conditional binomial test).

    Returns NaN when a period has no exposure or there are no incidents.
    """
    n = int(n_before) + int(n_after)
    if months_before <= 0 or months_after <= 0 or n == 0:
        return float("nan")
    return float(binomtest(int(n_after), n, months_after / (months_before + months_after)).pvalue)


def window_months(estates: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """First and last month (inclusive) of each estate's window, whether it has one, and warnings.

    Raises
    ------
    ValueError
        If the estates have no ``batch_year`` column.
    """
    if "batch_year" not in estates.columns:
        msg = "estates need a 'batch_year' column (the plan's rectification year) for a before/after comparison"
        raise ValueError(msg)
    year = pd.to_numeric(estates["batch_year"], errors="coerce").to_numpy(dtype=float)
    return _windows(estates, year)


def prepare_months(incidents, *, categories=None, data_start=None, data_end=None):
    """Incidents of the chosen categories within the data's months, their month indices and the first and last month.

    Returns
    -------
    (IncidentArrays, months, first_month, last_month)
    """
    inc = as_arrays(incidents)
    months = month_index(inc.time_s)
    if data_start is None and len(inc) == 0:
        msg = "no incidents and no data_start/data_end: the data's months are unknown"
        raise ValueError(msg)
    ds = _month_of(data_start, is_end=False) if data_start is not None else int(months.min())
    de = _month_of(data_end, is_end=True) if data_end is not None else int(months.max())
    keep = (months >= ds) & (months <= de)
    if categories is not None:
        cats = [categories] if isinstance(categories, str) else list(categories)
        unknown = [c for c in cats if c not in CATEGORY_NAMES]
        if unknown:
            msg = f"unknown categories {unknown}; use {', '.join(CATEGORY_NAMES)}"
            raise ValueError(msg)
        keep &= np.isin(inc.category, [CATEGORY_NAMES.index(c) for c in cats])
    return inc.subset(keep), months[keep], ds, de


def effect_table(
    incidents,
    estates: gpd.GeoDataFrame,
    *,
    categories=None,
    data_start=None,
    data_end=None,
    radius_m: float | None = None,
    mode: str | None = None,
    alpha: float | None = None,
    min_months_after: int | None = None,
) -> pd.DataFrame:
    """Incidents per month before and after each estate's rectification window.

    Parameters
    ----------
    incidents
        :class:`~geo.incidents.IncidentArrays` or a frame.
    estates
        GeoDataFrame with ``estate_id`` and ``batch_year``, optionally ``batch_period``;
        ``name`` and ``community`` are kept.
    categories
        Category names to count (default: all).
    data_start, data_end
        First and last month the data covers (``"2019-01"``, ``2024``...);
        default: the months of the earliest and latest incident.
    radius_m, mode
        See :func:`geo.incidents.attribution.assign_incidents`.
    alpha
        Significance level (default :data:`geo.settings.effect_alpha`).
    min_months_after
        Fewer months after the window: "too short" (default :data:`geo.settings.effect_min_months_after`).

    Returns
    -------
    pandas.DataFrame
        One row per estate: ``estate_id``, ``name``, ``community``, ``batch_year``,
        ``window_start``, ``window_end`` (``"YYYY-MM"``, inclusive; blank without a window),
        ``months_before``, ``n_before``, ``rate_before`` (per month),
        ``months_after``, ``n_after``, ``rate_after``, ``change_pct``, ``p_value``,
        ``verdict_code`` (:data:`VERDICT_CODES`) and ``verdict`` (English).
        ``attrs["data_months"]`` is ``("YYYY-MM", "YYYY-MM")``; ``attrs["warnings"]``
        lists ``batch_period`` values that did not parse (estate id, value, fallback).
    """
    alpha = settings.effect_alpha if alpha is None else alpha
    min_after = settings.effect_min_months_after if min_months_after is None else int(min_months_after)
    inc, months, ds, de = prepare_months(incidents, categories=categories, data_start=data_start, data_end=data_end)
    mode = mode or settings.effect_assign_mode
    ii, ee = assign_incidents(inc, estates, radius_m=radius_m, mode=mode)
    win_start, win_end, has_window, warnings = window_months(estates)
    year = pd.to_numeric(estates["batch_year"], errors="coerce").to_numpy(dtype=float)
    n_est = len(estates)
    m = months[ii]
    before = m < win_start[ee]
    after = m > win_end[ee]
    n_before = np.bincount(ee[before], minlength=n_est)
    n_after = np.bincount(ee[after], minlength=n_est)
    months_before = np.clip(np.minimum(win_start, de + 1) - ds, 0, None)
    months_after = np.clip(de - np.maximum(win_end, ds - 1), 0, None)
    out = pd.DataFrame({"estate_id": estates["estate_id"].astype(str).to_numpy()})
    for col in ("name", "community"):
        out[col] = estates[col].astype(str).to_numpy() if col in estates.columns else ""
    out["batch_year"] = pd.array([int(y) if np.isfinite(y) else pd.NA for y in year], dtype="Int64")
    out["window_start"] = [_month_label(int(w)) if h else "" for w, h in zip(win_start, has_window, strict=True)]
    out["window_end"] = [_month_label(int(w)) if h else "" for w, h in zip(win_end, has_window, strict=True)]
    out["months_before"] = months_before
    out["n_before"] = n_before
    out["rate_before"] = np.where(months_before > 0, n_before / np.maximum(months_before, 1), np.nan)
    out["months_after"] = months_after
    out["n_after"] = n_after
    out["rate_after"] = np.where(months_after > 0, n_after / np.maximum(months_after, 1), np.nan)
    _finish(out, alpha, min_after, months_col="months_after")
    out.loc[~has_window, "verdict_code"] = "no_batch_year"
    out.loc[~has_window, "verdict"] = verdict_text("no_batch_year")
    radius = float(settings.incident_radius_m if radius_m is None else radius_m)
    attribution = f"each incident to the nearest estate within {radius:g} m" if mode == "nearest" else f"every estate within {radius:g} m"
    # For pooled rows: each incident once per group, whatever the attribution (see effect_summary).
    distinct = {}
    for by in ("batch_year", "community"):
        key = out[by].astype(str).to_numpy()[ee]
        pairs = pd.DataFrame({"group": key, "incident": ii, "before": before, "after": after})[has_window[ee]]
        distinct[by] = {
            str(g): [int(f[f["before"]]["incident"].nunique()), int(f[f["after"]]["incident"].nunique())] for g, f in pairs.groupby("group")
        }
    out.attrs.update(data_months=(_month_label(ds), _month_label(de)), alpha=alpha, min_months_after=min_after, warnings=warnings, mode=mode,
                     radius_m=radius, attribution=attribution,
                     method=method_line(f"before/after rates per month, conditional binomial test; attribution: {attribution}", "none (one test per estate)", CAVEAT),
                     distinct=distinct)
    return out


def _finish(out: pd.DataFrame, alpha: float, min_after: int, *, months_col: str, pooled: bool = False) -> None:
    with np.errstate(divide="ignore", invalid="ignore"):
        out["change_pct"] = (out["rate_after"] / out["rate_before"] - 1.0) * 100.0
    out.loc[~np.isfinite(out["change_pct"]), "change_pct"] = np.nan
    out["p_value"] = [
        rate_test(b, mb, a, ma) for b, mb, a, ma in zip(out["n_before"], out["months_before"], out["n_after"], out["months_after"], strict=True)
    ]
    out["verdict_code"] = [
        _verdict(b, a, mb, ma, p, alpha, min_after)
        for b, a, mb, ma, p in zip(out["n_before"], out["n_after"], out["months_before"], out["months_after"], out["p_value"], strict=True)
    ]
    out["verdict"] = [verdict_text(c, m, pooled=pooled) for c, m in zip(out["verdict_code"], out[months_col], strict=True)]


def effect_summary(table: pd.DataFrame, *, by: str = "batch_year", alpha: float | None = None, min_months_after: int | None = None) -> pd.DataFrame:
    """Pool an :func:`effect_table` per batch or per community.

    Counts and exposures (estate-months) are summed over the group's estates,
    then tested as one pair of rates.

    Parameters
    ----------
    table
        The result of :func:`effect_table`.
    by
        ``"batch_year"`` or ``"community"``.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``estates``, ``months_before``/``months_after``
        (estate-months), ``n_before``, ``n_after``, rates per estate-month,
        ``change_pct``, ``p_value``, ``verdict_code``, ``verdict`` and
        ``shortest_after`` (fewest months after the window of any of its estates).
    """
    alpha = settings.effect_alpha if alpha is None else alpha
    min_after = table.attrs.get("min_months_after", settings.effect_min_months_after) if min_months_after is None else int(min_months_after)
    if by not in ("batch_year", "community"):
        msg = f"by must be 'batch_year' or 'community', not {by!r}"
        raise ValueError(msg)
    no_window = table["verdict_code"] == "no_batch_year" if "verdict_code" in table.columns else table["verdict"] == "no batch year"
    t = table[~no_window]
    g = t.groupby(by, sort=True)
    out = g.agg(
        estates=("estate_id", "size"),
        months_before=("months_before", "sum"),
        n_before=("n_before", "sum"),
        months_after=("months_after", "sum"),
        n_after=("n_after", "sum"),
        shortest_after=("months_after", "min"),
    ).reset_index()
    distinct = table.attrs.get("distinct", {}).get(by)
    if distinct is not None:
        # Distinct incidents per group: an incident near two estates of one group counts once.
        for j, col in enumerate(("n_before", "n_after")):
            out[col] = [int(distinct.get(str(g), [0, 0])[j]) for g in out[by]]
    out["rate_before"] = np.where(out["months_before"] > 0, out["n_before"] / out["months_before"].clip(lower=1), np.nan)
    out["rate_after"] = np.where(out["months_after"] > 0, out["n_after"] / out["months_after"].clip(lower=1), np.nan)
    _finish(out, alpha, min_after, months_col="shortest_after", pooled=True)
    # A pooled group is "too short" when any of its estates is: the pooled after-period would be dominated by the others.
    short = (out["shortest_after"] < min_after) & (out["months_after"] > 0)
    out.loc[short, "verdict_code"] = "too_short"
    out.loc[out["shortest_after"] <= 0, "verdict_code"] = "no_data_after"
    out["verdict"] = [verdict_text(c, m, pooled=True) for c, m in zip(out["verdict_code"], out["shortest_after"], strict=True)]
    return out
