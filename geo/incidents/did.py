"""Staggered difference-in-differences of rectification, with placebo inference and displacement.

The before/after comparison of :mod:`geo.incidents.effect` reads every change
after a window as the window's effect, including a district-wide trend. Here
the estates of later batches, before their own window starts, are the
comparison group: they were not yet rectified, so their change over the same
months is what the treated estate would have shown without rectification.

Attribution. Each incident counts for the nearest estate within
:data:`geo.settings.incident_radius_m` (``mode="nearest"``, the default of
:data:`geo.settings.effect_assign_mode`), so it counts once, and pooled figures
add distinct incidents.

Sites. Estates of one window whose geometries lie within ``site_m`` of each
other (default: the attribution radius; linked step by step) are one *site*,
tested as one unit with their incidents added (each incident still once).
Within the radius an incident could belong to either estate, and with
incidents scattered around an estate (the demo's spread 90 m) nearest-estate
attribution hands part of one estate's incidents to its neighbour: an effect
at one shows, diluted, at the other (the neighbour false positives of
per-estate tests). So the table says what the data can show: a row
``SH-01+SH-03`` with ``separable`` false reports the site, never one of its
estates. For the same reason an estate within ``site_m`` of a treated site is
not used as its control (its counts share the treated estates' incidents),
though it may be tested itself.

Estimate. For a treated estate (or a batch of estates sharing a window) with
window ``[s, e]``: the *pre* months are the data's months before ``s``, the
*post* months those after ``e`` in which at least one control estate has not
started its window. The controls are the estates whose window starts after
``e``; each control's monthly count is divided by its own pre-period mean, and
the control index ``r(t)`` of month ``t`` is the sum of counts over the sum of
those means, over the controls not yet started at ``t`` (so ``r`` averages 1
over the pre months). The rate ratio (incidence rate ratio, IRR) is::

    IRR = (sum over post of n(t) / sum over post of r(t)) / (sum over pre of n(t) / sum over pre of r(t))

i.e. the treated rate after over before, divided by the controls' change over
the same calendar months: the average effect on the treated estates in the
months after their window where a not-yet-rectified comparison exists (for
the 2022 batch: December 2022 to December 2023, against the 2023 batch in
December 2022 and the 2024 batch throughout). ``change_pct = (IRR - 1) * 100``.
A batch whose window ends when no later batch remains (the last batch) has no
control: "no control".

Inference. Placebo windows by permutation: the "post" label is given to
randomly chosen months of the pre and post months together (as many as the
real post months; seeded, :data:`geo.settings.effect_placebo_permutations`
draws), the IRR recomputed, and the p-value is the share of placebo IRRs at
least as far from 1 (on the log scale, with 0.5 added to each count) as the
observed one, ``(1 + k) / (draws + 1)``. Contiguous placebo windows are too
few to test with (36 months before the 2022 window leave about a dozen), so
months are drawn freely; that assumes months are exchangeable once the
control index is divided out (no trend the controls do not share, no
autocorrelation). Sites are tested one by one; their p-values are
corrected with Benjamini-Hochberg across the rows of the table
(``q_value``), and a verdict needs ``q_value`` below alpha.

Power on the demo. Over seeds 0-39 of :mod:`benchmarks.demo_incidents`, the
2022 sites whose estates were all effective (a 55 % drop) were found 86 times
in 108 and the sites with none flagged 3 times in 108; an effect diluted in a
mixed site (one effective estate beside one that is not) is found less often.

Displacement. The same estimate for the ring around each estate (incidents
farther than ``incident_radius_m`` from every estate and within
:data:`geo.settings.displacement_outer_m` of it, given to the nearest): a drop
inside with a rise in the ring suggests crime moved next door; a drop in both,
a diffusion of benefits.

Caveats: a statistical association under the assumption that treated and
control estates would have followed parallel trends; not proof that the
rectification caused the change.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import settings
from geo.crs import to_metric
from geo.incidents.attribution import assign_incidents, ring_incidents
from geo.incidents.effect import month_label, prepare_months, window_months
from geo.incidents.fdr import correct
from geo.incidents.reporting import method_line

CAVEAT = "association under parallel trends with not-yet-rectified estates; not proof of cause"


def _matrix(months: np.ndarray, ii: np.ndarray, ee: np.ndarray, n_est: int, ds: int, de: int) -> np.ndarray:
    n_m = de - ds + 1
    return np.bincount(ee * n_m + (months[ii] - ds), minlength=n_est * n_m).reshape(n_est, n_m).astype(float)


def _design(counts: np.ndarray, treated: np.ndarray, start: np.ndarray, end: np.ndarray, has: np.ndarray, s: int, e: int, ds: int,
            exclude: np.ndarray | None = None):
    """Months, the treated series, the control index and the pre/post masks of one window ``[s, e]``.

    ``exclude`` marks estates that may not serve as controls (within the radius of a treated estate).
    """
    n_m = counts.shape[1]
    t = np.arange(n_m) + ds
    pre = t < s
    usable = has & (start > e) & ~treated
    if exclude is not None:
        usable &= ~exclude
    controls = np.flatnonzero(usable)
    if pre.sum() == 0 or len(controls) == 0:
        return None
    mu = counts[controls][:, pre].mean(axis=1)
    active = start[controls][:, None] > t[None, :]  # control not yet started at t
    num = (counts[controls] * active).sum(axis=0)
    den = (mu[:, None] * active).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 0, num / den, np.nan)
    post = (t > e) & active.any(axis=0) & np.isfinite(r)
    n = counts[treated].sum(axis=0)
    return n, r, pre & np.isfinite(r), post, len(controls)


def _irr(n: np.ndarray, r: np.ndarray, post: np.ndarray, pre: np.ndarray, add: float = 0.0) -> float:
    rp, rb = r[post].sum(), r[pre].sum()
    if not (rp > 0 and rb > 0):
        return float("nan")
    before = (n[pre].sum() + add) / rb
    if before <= 0:
        return float("nan")
    return float(((n[post].sum() + add) / rp) / before)


def placebo_p(n: np.ndarray, r: np.ndarray, pre: np.ndarray, post: np.ndarray, *, permutations: int, seed: int) -> float:
    """Two-sided placebo p-value of the IRR: the post label given to random months (see the module docstring)."""
    months = np.flatnonzero(pre | post)
    k = int(post.sum())
    if k == 0 or k == len(months) or permutations <= 0:
        return float("nan")
    obs = abs(np.log(_irr(n, r, post, pre, 0.5)))
    rng = np.random.default_rng(seed)
    keys = rng.random((permutations, len(months)))
    pick = np.argpartition(keys, k - 1, axis=1)[:, :k]
    is_post = np.zeros((permutations, len(months)), dtype=bool)
    np.put_along_axis(is_post, pick, True, axis=1)
    nm, rm = n[months], r[months]
    n_post, r_post = is_post @ nm, is_post @ rm
    n_pre, r_pre = nm.sum() - n_post, rm.sum() - r_post
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = np.abs(np.log(((n_post + 0.5) / r_post) / ((n_pre + 0.5) / r_pre)))
    return float((1 + np.sum(stat >= obs - 1e-12)) / (permutations + 1))


def did_table(
    incidents,
    estates: gpd.GeoDataFrame,
    *,
    categories=None,
    data_start=None,
    data_end=None,
    radius_m: float | None = None,
    mode: str | None = None,
    alpha: float | None = None,
    permutations: int | None = None,
    seed: int | None = None,
    min_months_after: int | None = None,
    ring_outer_m: float | None = None,
    site_m: float | None = None,
    by: str = "estate",
) -> pd.DataFrame:
    """Difference-in-differences of each estate (or batch) against not-yet-rectified estates.

    Parameters
    ----------
    incidents, estates, categories, data_start, data_end
        As :func:`geo.incidents.effect.effect_table`.
    radius_m, mode
        Attribution (default radius :data:`geo.settings.incident_radius_m`, mode
        :data:`geo.settings.effect_assign_mode`, ``"nearest"``).
    alpha
        Level of the verdicts (on the BH-adjusted p-value); default :data:`geo.settings.effect_alpha`.
    permutations, seed
        Placebo permutations (defaults :data:`geo.settings.effect_placebo_permutations`, :data:`geo.settings.effect_seed`).
    min_months_after
        Fewer post months with a control: "too short".
    ring_outer_m
        Outer distance of the displacement ring (default :data:`geo.settings.displacement_outer_m`).
    site_m
        Estates of one window this close to each other (metres, inclusive, single linkage) form one site
        (default: the attribution radius); see the module docstring.
    by
        ``"estate"`` (one row per site: an estate, or estates that cannot be separated) or ``"batch"``
        (estates sharing a window pooled, distinct incidents).

    Returns
    -------
    pandas.DataFrame
        One row per site or batch: ``estate_id`` (the site's estates joined by ``+``) or ``batch``,
        ``estates`` (how many), ``separable`` (False when a site holds several estates: its figures
        are the site's, not any one estate's), ``window``,
        ``controls`` (number of control estates), ``months_pre``, ``months_post``,
        ``post_months`` (first-last), ``n_pre``, ``n_post``, ``irr``,
        ``change_pct``, ``p_value`` (placebo), ``q_value`` (BH across rows),
        ``verdict_code`` (``fewer``, ``more``, ``no_clear_change``,
        ``too_short``, ``no_control``, ``no_batch_year``, ``no_incidents``), and the
        ring's ``ring_n_pre``, ``ring_n_post``, ``ring_irr``, ``ring_change_pct``,
        ``ring_p_value``. ``attrs["method"]`` is the one-line method note;
        ``attrs`` also carry attribution, permutations, seed and alpha.
    """
    alpha = settings.effect_alpha if alpha is None else float(alpha)
    permutations = int(settings.effect_placebo_permutations if permutations is None else permutations)
    seed = int(settings.effect_seed if seed is None else seed)
    min_after = settings.effect_min_months_after if min_months_after is None else int(min_months_after)
    mode = mode or settings.effect_assign_mode
    radius = float(settings.incident_radius_m if radius_m is None else radius_m)
    outer = float(settings.displacement_outer_m if ring_outer_m is None else ring_outer_m)
    site = radius if site_m is None else float(site_m)
    if by not in ("estate", "batch"):
        msg = f"by must be 'estate' or 'batch', not {by!r}"
        raise ValueError(msg)
    inc, months, ds, de = prepare_months(incidents, categories=categories, data_start=data_start, data_end=data_end)
    start, end, has, warnings = window_months(estates)
    n_est = len(estates)
    ii, ee = assign_incidents(inc, estates, radius_m=radius, mode=mode)
    if mode == "radius":  # pooled rows must still count each incident once: see _pool below
        pairs = (ii, ee)
    counts = _matrix(months, ii, ee, n_est, ds, de)
    ri, re_ = ring_incidents(inc, estates, inner_m=radius, outer_m=outer)
    ring = _matrix(months, ri, re_, n_est, ds, de)
    ids = estates["estate_id"].astype(str).to_numpy()
    near = estate_distances(estates) <= site
    groups: list[tuple[str, np.ndarray]] = []
    if by == "estate":
        site_of = site_labels(near, start, end, has)
        groups = [("+".join(ids[site_of == g]), site_of == g) for g in np.unique(site_of)]
    else:
        keys = sorted({(int(start[i]), int(end[i])) for i in range(n_est) if has[i]})
        groups = [(f"{month_label(s)}..{month_label(e)}", has & (start == s) & (end == e)) for s, e in keys]
        groups += [("no window", ~has)] if (~has).any() else []
    rows = []
    for k, (name, members) in enumerate(groups):
        row = {"estate_id" if by == "estate" else "batch": name, "estates": int(members.sum()), "separable": by == "batch" or members.sum() == 1}
        idx = np.flatnonzero(members)
        if not has[idx].all() or len(idx) == 0:
            rows.append({**row, "window": "", "verdict_code": "no_batch_year"})
            continue
        s, e = int(start[idx[0]]), int(end[idx[0]])
        row["window"] = f"{month_label(s)}..{month_label(e)}"
        c = _pool(counts, members, pairs, months, ds, de) if mode == "radius" and members.sum() > 1 else counts
        buffer = near[members].any(axis=0) & ~members  # controls this close share the treated estates' incidents
        d = _design(c, members, start, end, has, s, e, ds, exclude=buffer)
        if d is None:
            rows.append({**row, "controls": 0, "verdict_code": "no_control"})
            continue
        n, r, pre, post, n_ctrl = d
        row.update(controls=n_ctrl, months_pre=int(pre.sum()), months_post=int(post.sum()), n_pre=int(n[pre].sum()), n_post=int(n[post].sum()))
        if post.any():
            tpost = np.flatnonzero(post) + ds
            row["post_months"] = f"{month_label(int(tpost.min()))}..{month_label(int(tpost.max()))}"
        if post.sum() < min_after:
            rows.append({**row, "verdict_code": "too_short"})
            continue
        row["irr"] = _irr(n, r, post, pre)
        row["p_value"] = placebo_p(n, r, pre, post, permutations=permutations, seed=seed + k)
        rd = _design(ring, members, start, end, has, s, e, ds, exclude=buffer)
        if rd is not None:
            rn, rr, rpre, rpost, _ = rd
            row.update(ring_n_pre=int(rn[rpre].sum()), ring_n_post=int(rn[rpost].sum()), ring_irr=_irr(rn, rr, rpost, rpre),
                       ring_p_value=placebo_p(rn, rr, rpre, rpost, permutations=permutations, seed=seed + k))
        row["verdict_code"] = "no_incidents" if row["n_pre"] + row["n_post"] == 0 else "tested"
        rows.append(row)
    out = pd.DataFrame(rows)
    for col in ("controls", "months_pre", "months_post", "n_pre", "n_post", "irr", "p_value", "ring_n_pre", "ring_n_post", "ring_irr", "ring_p_value", "post_months"):
        if col not in out.columns:
            out[col] = np.nan
    out["post_months"] = out["post_months"].fillna("")
    out["change_pct"] = (out["irr"] - 1.0) * 100.0
    out["ring_change_pct"] = (out["ring_irr"] - 1.0) * 100.0
    sig, q = correct(out["p_value"].to_numpy(dtype=float), alpha)
    out["q_value"] = q
    tested = out["verdict_code"] == "tested"
    out.loc[tested, "verdict_code"] = np.where(sig[tested], np.where(out.loc[tested, "irr"] < 1, "fewer", "more"), "no_clear_change")
    if by == "estate":
        for col in ("community", "name"):
            values = estates[col].astype(str).to_numpy() if col in estates.columns else np.full(n_est, "", dtype=object)
            out.insert(1, col, ["/".join(dict.fromkeys(values[m])) for _, m in groups])
    attribution = f"each incident to the nearest estate within {radius:g} m" if mode == "nearest" else f"every estate within {radius:g} m (pooled rows count distinct incidents)"
    method = method_line(
        f"difference-in-differences against not-yet-rectified estates (rate ratio), placebo p from {permutations} random post-month draws (seed {seed}); "
        f"attribution: {attribution}; estates of one window within {site:g} m of each other are one site (their incidents cannot be separated), "
        f"no control within {site:g} m of a treated site; ring {radius:g}-{outer:g} m for displacement",
        f"Benjamini-Hochberg FDR at {alpha:g} across the {int(tested.sum())} tested rows",
        CAVEAT,
    )
    out.attrs.update(data_months=(month_label(ds), month_label(de)), alpha=alpha, permutations=permutations, seed=seed, mode=mode, radius_m=radius,
                     ring_outer_m=outer, site_m=site, attribution=attribution, warnings=warnings, method=method, min_months_after=min_after)
    return out


def estate_distances(estates: gpd.GeoDataFrame) -> np.ndarray:
    """Planar distances (metres, metric CRS) between every two estates' geometries; a square matrix."""
    g = to_metric(estates, crs=settings.metric_crs).geometry.to_numpy()
    return shapely.distance(g[:, None], g[None, :])


def site_labels(near: np.ndarray, start: np.ndarray, end: np.ndarray, has: np.ndarray) -> np.ndarray:
    """Site number of each estate: connected components of ``near`` among estates of the same window.

    Estates without a window stay on their own.
    """
    n = len(near)
    label = np.arange(n)
    same = near & has[:, None] & has[None, :] & (start[:, None] == start[None, :]) & (end[:, None] == end[None, :])
    for i in range(n):  # union by relabelling: n is the number of estates (tens)
        for j in np.flatnonzero(same[i]):
            a, b = label[i], label[j]
            if a != b:
                label[label == max(a, b)] = min(a, b)
    return label


def _pool(counts: np.ndarray, members: np.ndarray, pairs, months: np.ndarray, ds: int, de: int) -> np.ndarray:
    """Counts where the members' row holds each incident near any member once (radius mode)."""
    ii, ee = pairs
    mine = members[ee]
    uniq = np.unique(ii[mine])
    out = counts.copy()
    out[members] = 0.0
    first = np.flatnonzero(members)[0]
    out[first] = np.bincount(months[uniq] - ds, minlength=de - ds + 1)
    return out


def event_study(incidents, estates: gpd.GeoDataFrame, *, categories=None, data_start=None, data_end=None, radius_m: float | None = None,
                mode: str | None = None, site_m: float | None = None, level: float = 0.95) -> pd.DataFrame:
    """Incidents by month relative to each batch's window start, treated beside control, and their ratio to expectation.

    The expectation of month ``t`` is what the treated estates would have had if they had followed the
    controls: their pre-window incidents per unit of the control index, times the index ``r(t)`` (as in
    :func:`did_table`, controls within ``site_m`` of a treated estate left out). ``ratio`` is observed over
    expected: about 1 before the window when trends are parallel, below 1 after it when incidents fell.
    The band is the exact (Garwood) Poisson interval of the month's count over the expectation; it takes the
    control index as known, so it is somewhat too narrow.

    Returns
    -------
    pandas.DataFrame
        One row per batch window and relative month ``rel_month`` (0 = the
        window's first month; negative before): ``month`` (calendar), ``treated``
        (incidents per treated estate that month), ``control`` (per control
        estate not yet started that month; NaN when none), ``controls``,
        ``n_treated`` (the treated estates' incidents), ``expected``, ``ratio``,
        ``ratio_low``, ``ratio_high`` (NaN where no control is left) and ``phase``
        (``before``, ``window``, ``after``). ``attrs["level"]`` is the band's level.
    """
    from scipy.stats import chi2

    inc, months, ds, de = prepare_months(incidents, categories=categories, data_start=data_start, data_end=data_end)
    start, end, has, _ = window_months(estates)
    radius = float(settings.incident_radius_m if radius_m is None else radius_m)
    ii, ee = assign_incidents(inc, estates, radius_m=radius, mode=mode or settings.effect_assign_mode)
    counts = _matrix(months, ii, ee, len(estates), ds, de)
    near = estate_distances(estates) <= (radius if site_m is None else float(site_m))
    t = np.arange(ds, de + 1)
    tail = (1.0 - level) / 2.0
    rows = []
    for s, e in sorted({(int(start[i]), int(end[i])) for i in range(len(estates)) if has[i]}):
        treated = has & (start == s) & (end == e)
        ctrl = has & (start > e)
        active = start[ctrl][:, None] > t[None, :]
        n_active = active.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            control = np.where(n_active > 0, (counts[ctrl] * active).sum(axis=0) / n_active, np.nan)
        treated_rate = counts[treated].mean(axis=0)
        n = counts[treated].sum(axis=0)
        expected = np.full(len(t), np.nan)
        d = _design(counts, treated, start, end, has, s, e, ds, exclude=near[treated].any(axis=0) & ~treated)
        if d is not None:
            _, r, pre, _, _ = d
            if r[pre].sum() > 0:
                expected = r * (n[pre].sum() / r[pre].sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            ok = np.isfinite(expected) & (expected > 0)
            low = np.where(ok, np.where(n > 0, chi2.ppf(tail, 2 * n) / 2.0, 0.0) / expected, np.nan)
            high = np.where(ok, chi2.ppf(1.0 - tail, 2 * n + 2) / 2.0 / expected, np.nan)
            ratio = np.where(ok, n / expected, np.nan)
        for j, m in enumerate(t):
            rows.append({"window": f"{month_label(s)}..{month_label(e)}", "rel_month": int(m - s), "month": month_label(int(m)),
                         "treated": float(treated_rate[j]), "control": float(control[j]), "controls": int(n_active[j]),
                         "n_treated": int(n[j]), "expected": float(expected[j]), "ratio": float(ratio[j]), "ratio_low": float(low[j]),
                         "ratio_high": float(high[j]), "phase": "before" if m < s else ("window" if m <= e else "after")})
    out = pd.DataFrame(rows)
    out.attrs["level"] = level
    return out
