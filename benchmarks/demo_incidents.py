"""Seeded generator of synthetic demonstration incidents (none of them real).

The generator draws Poisson counts per estate, month and category, places
each incident around its origin and gives it an hour of day:

* **Around estates.** Each estate has a "hotness" drawn once (log-normal, a
  few estates much hotter than the rest); thefts, property crimes, other
  criminal cases and other 110 calls scale with it. Disputes scale with the
  estate's stairwell units (单元): denser blocks, more neighbours, more disputes.
* **The 申明坝 industrial park** (approximate position
  :data:`geo.settings.shenmingba_park_lonlat`) is a hot spot of thefts and
  other calls, spread over a few hundred metres.
* **Background.** Incidents spread uniformly over the approximate area
  :data:`geo.settings.shahe_bounds`.
* **Night.** Thefts are three times as likely per hour between 20:00 and 06:00
  as by day, so more than half of them fall at night.
* **Rectification.** About half of the estates of each batch are marked
  *effective* (seeded): after their window (from December of the batch year)
  their rates are multiplied by :attr:`DemoParams.effective_drop`; the others
  carry on unchanged. ``frame.attrs["effective"]`` lists them. Estates of one
  batch within :attr:`DemoParams.compound_m` (90 m, the incidents' spread) of
  each other are one compound under neighbouring house numbers (渝万钢门窗宿舍 at
  申明中路206号 and 208号, 10 m apart; the 花园小区 rows along 凤仙路) and are
  rectified as one job: they all take the draw of the compound's first estate.
  An effect planted at one of them only would be neither realistic nor
  identifiable: their incidents come from one cloud, and no method that
  places incidents can tell whose they are. Estates farther apart (滨湖公寓
  and 和福小区, 175 m) are drawn on their own; an effect at one of them shows
  partly at the other whenever incidents are attributed by distance, which is
  why :func:`geo.incidents.did.did_table` reports estates within the
  attribution radius of each other as one site.

Every row has ``synthetic = true``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import settings
from geo.crs import lonlat_to_metric_transformer, metric_to_lonlat_transformer
from geo.incidents.store import STORE_COLUMNS
from geo.incidents.taxonomy import CATEGORIES
from geo.incidents.times import NIGHT_HOURS

#: Subcategory weights of each category, and the chance that an incident is a 110 call
#: (otherwise a criminal case, or a dispute-register entry for disputes).
_MIX = {
    "盗窃": ((0.4, 0.3, 0.3), 0.4, "criminal_case"),
    "侵财": ((0.1, 0.15, 0.6, 0.15), 0.3, "criminal_case"),
    "刑事": ((1.0,), 0.2, "criminal_case"),
    "矛盾纠纷": ((0.3, 0.3, 0.1, 0.2, 0.1), 0.4, "dispute_register"),
    "其他警情": ((1.0,), 1.0, "110"),
}

@dataclass(frozen=True)
class DemoParams:
    """Parameters of the generator; rates are incidents per month."""

    seed: int = 20220105
    first_year: int = 2019
    last_year: int = 2024
    #: Per estate of hotness 1, by category (disputes: per stairwell unit).
    estate_rates: dict = field(
        default_factory=lambda: {"盗窃": 1.2, "侵财": 0.35, "刑事": 0.15, "矛盾纠纷": 0.25, "其他警情": 0.8}
    )
    #: Spread of log-hotness between estates, and how many estates are made three times hotter.
    hotness_sigma: float = 0.5
    n_hot_estates: int = 4
    park_rates: dict = field(default_factory=lambda: {"盗窃": 6.0, "侵财": 1.0, "其他警情": 3.0})
    background_rates: dict = field(default_factory=lambda: {"盗窃": 3.0, "侵财": 1.5, "刑事": 1.0, "矛盾纠纷": 2.0, "其他警情": 6.0})
    spread_m: float = 90.0
    park_spread_m: float = 250.0
    #: Rate multiplier after the window for estates marked effective.
    effective_drop: float = 0.45
    effective_share: float = 0.5
    #: Estates of one batch this close (metres, single linkage) are one compound, rectified as one job:
    #: they share one draw of "effective" (see the module docstring).
    compound_m: float = 90.0
    #: How much more likely a theft is per night hour than per day hour.
    night_theft_factor: float = 3.0


def make_demo_incidents(estates: gpd.GeoDataFrame, *, params: DemoParams | None = None) -> pd.DataFrame:
    """Generate synthetic incidents around ``estates``.

    Parameters
    ----------
    estates
        GeoDataFrame with ``estate_id``, ``batch_year`` and ``units`` (points or
        polygons; their centroids are used).
    params
        Generator parameters (default :class:`DemoParams`).

    Returns
    -------
    pandas.DataFrame
        The store's columns (:data:`geo.incidents.STORE_COLUMNS`, ``synthetic``
        all true) plus ``origin`` (estate id, ``park`` or ``background``), sorted
        by time. ``attrs["effective"]`` lists the estates whose rates drop.
    """
    p = params or DemoParams()
    rng = np.random.default_rng(p.seed)
    fwd = lonlat_to_metric_transformer()
    inv = metric_to_lonlat_transformer()
    em = estates.to_crs(settings.metric_crs)
    cx, cy = em.geometry.centroid.x.to_numpy(), em.geometry.centroid.y.to_numpy()
    ids = estates["estate_id"].astype(str).to_numpy()
    n_est = len(ids)
    units = pd.to_numeric(estates.get("units", pd.Series(np.nan, index=estates.index)), errors="coerce").fillna(2).to_numpy(dtype=float)
    batch = pd.to_numeric(estates.get("batch_year", pd.Series(np.nan, index=estates.index)), errors="coerce").to_numpy(dtype=float)
    hot = rng.lognormal(0.0, p.hotness_sigma, n_est)
    hot[rng.choice(n_est, size=min(p.n_hot_estates, n_est), replace=False)] *= 3.0
    effective = np.zeros(n_est, dtype=bool)
    for y in np.unique(batch[np.isfinite(batch)]):
        members = np.flatnonzero(batch == y)
        effective[rng.choice(members, size=round(len(members) * p.effective_share), replace=False)] = True
    compound = compounds(cx, cy, batch, p.compound_m)
    effective = effective[compound]  # one rectification per compound: its estates take its first estate's draw

    months = np.arange((p.first_year - 1970) * 12, (p.last_year - 1970 + 1) * 12)
    win_end = np.where(np.isfinite(batch), (np.nan_to_num(batch) - 1970) * 12 + 10, np.iinfo(np.int64).max)
    factor = np.where(effective[:, None] & (months[None, :] > win_end[:, None]), p.effective_drop, 1.0)  # estates x months

    parts = []
    for cat, rate in p.estate_rates.items():
        scale = units if cat == "矛盾纠纷" else hot
        lam = rate * scale[:, None] * factor
        k = rng.poisson(lam)
        e_idx, m_idx = np.nonzero(k)
        reps = k[e_idx, m_idx]
        e = np.repeat(e_idx, reps)
        parts.append(_place(rng, cat, np.repeat(months[m_idx], reps), cx[e], cy[e], p.spread_m, ids[e]))
    px, py = fwd.transform(*settings.shenmingba_park_lonlat)
    for cat, rate in p.park_rates.items():
        k = rng.poisson(rate, len(months))
        n = int(k.sum())
        parts.append(_place(rng, cat, np.repeat(months, k), np.full(n, px), np.full(n, py), p.park_spread_m, np.full(n, "park", dtype=object)))
    west, south, east, north = settings.shahe_bounds
    bx, by = fwd.transform(np.array([west, east]), np.array([south, north]))
    for cat, rate in p.background_rates.items():
        k = rng.poisson(rate, len(months))
        n = int(k.sum())
        ux, uy = rng.uniform(bx[0], bx[1], n), rng.uniform(by[0], by[1], n)
        parts.append(_place(rng, cat, np.repeat(months, k), ux, uy, 0.0, np.full(n, "background", dtype=object)))

    df = pd.concat(parts, ignore_index=True)
    hours = _hours(rng, df["category"].to_numpy(), p.night_theft_factor)
    month = df.pop("month").to_numpy().astype("datetime64[M]")
    days_in = ((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(np.int64)
    day = (rng.random(len(df)) * days_in).astype(np.int64)
    minute = rng.integers(0, 60, len(df))
    t = month.astype("datetime64[s]") + (day * 86400 + hours * 3600 + minute * 60).astype("timedelta64[s]")
    lon, lat = inv.transform(df.pop("x").to_numpy(), df.pop("y").to_numpy())
    order = np.argsort(t, kind="stable")
    df = df.iloc[order].reset_index(drop=True)
    t = t[order]
    prec = settings.coordinate_precision
    df["lon"] = np.round(np.asarray(lon)[order], prec)
    df["lat"] = np.round(np.asarray(lat)[order], prec)
    df["time"] = np.datetime_as_string(t, unit="s").astype(object) + "+08:00"
    df["incident_id"] = [f"DEMO-{i:06d}" for i in range(1, len(df) + 1)]
    df["address"] = ""
    df["text"] = ""
    df["synthetic"] = "true"
    df["x_geocode_quality"] = "synthetic"
    out = df[[*STORE_COLUMNS, "origin"]]
    out.attrs["effective"] = sorted(ids[effective].tolist())
    out.attrs["params"] = p
    return out


def compounds(x: np.ndarray, y: np.ndarray, batch: np.ndarray, within_m: float) -> np.ndarray:
    """Index of each estate's compound: its first estate among those of its batch linked by steps of at most ``within_m``."""
    n = len(x)
    label = np.arange(n)
    near = (np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :]) <= within_m) & (batch[:, None] == batch[None, :])
    for i in range(n):
        for j in np.flatnonzero(near[i]):
            a, b = label[i], label[j]
            if a != b:
                label[label == max(a, b)] = min(a, b)
    return label


def _place(rng, cat: str, months: np.ndarray, x0: np.ndarray, y0: np.ndarray, spread_m: float, origin: np.ndarray) -> pd.DataFrame:
    n = len(months)
    weights, p110, other_source = _MIX[cat]
    subs = np.asarray(CATEGORIES[cat], dtype=object)
    sub = subs[rng.choice(len(subs), size=n, p=np.asarray(weights) / np.sum(weights))] if n else subs[:0]
    source = np.where(rng.random(n) < p110, "110", other_source).astype(object)
    return pd.DataFrame(
        {
            "month": months,
            "x": x0 + rng.normal(0.0, spread_m, n) if spread_m > 0 else x0,
            "y": y0 + rng.normal(0.0, spread_m, n) if spread_m > 0 else y0,
            "category": np.full(n, cat, dtype=object),
            "subcategory": sub,
            "source": source,
            "origin": origin,
        }
    )


def _hours(rng, categories: np.ndarray, night_factor: float) -> np.ndarray:
    night = np.isin(np.arange(24), NIGHT_HOURS)
    theft_w = np.where(night, night_factor, 1.0)
    other_w = np.ones(24)
    other_w[7:23] = 2.0  # people call and quarrel when they are awake
    out = np.empty(len(categories), dtype=np.int64)
    is_theft = categories == "盗窃"
    out[is_theft] = rng.choice(24, size=int(is_theft.sum()), p=theft_w / theft_w.sum())
    out[~is_theft] = rng.choice(24, size=int((~is_theft).sum()), p=other_w / other_w.sum())
    return out
