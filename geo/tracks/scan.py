"""One streaming pass over the fixes: visits to estates, metres patrolled, planned-route samples reached.

Fixes arrive in chunks sorted by team and time (:func:`geo.tracks.store.iter_chunks`).
Consecutive fixes of a team no more than :data:`geo.settings.track_gap_s` apart
make a segment, travelled in a straight line at constant speed; across a longer
gap nothing is assumed. The last fix of each team is carried to the next chunk,
so a segment is never lost at a chunk boundary. Memory is bounded by the chunk
size plus the visits found (a few per estate per night), never by the number of fixes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from geo import settings
from geo.tracks.kernels import PointGrid, night_seconds_before, segment_intervals
from geo.tracks.store import Chunk

__all__ = ["ScanResult", "Visits", "merge_visits", "scan"]


@dataclass
class Visits:
    """Visits of teams to estates: presence within the cover distance, broken for at most the merge gap.

    Attributes are parallel arrays: ``team`` (code into the scan's team ids),
    ``estate`` (row of the estates), ``start_s``/``end_s`` (local seconds, float),
    ``present_s`` (seconds actually within the distance) and ``night_s`` (the
    night part of ``present_s``).
    """

    team: np.ndarray
    estate: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    present_s: np.ndarray
    night_s: np.ndarray

    @classmethod
    def empty(cls) -> Visits:
        z = np.zeros(0)
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), z, z, z, z)

    @classmethod
    def concat(cls, parts: list[Visits]) -> Visits:
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("team", "estate", "start_s", "end_s", "present_s", "night_s")))

    def __len__(self) -> int:
        return len(self.start_s)


def merge_visits(v: Visits, *, merge_gap_s: float | None = None) -> Visits:
    """Merge presence intervals (or partial visits) of one team at one estate that are at most ``merge_gap_s`` apart."""
    gap = settings.visit_merge_gap_s if merge_gap_s is None else merge_gap_s
    if len(v) == 0:
        return v
    order = np.lexsort((v.start_s, v.estate, v.team))
    team, est = v.team[order], v.estate[order]
    s, e = v.start_s[order], v.end_s[order]
    new_group = np.r_[True, (team[1:] != team[:-1]) | (est[1:] != est[:-1])]
    g = np.cumsum(new_group) - 1
    t_min = float(s.min())
    span = float(e.max() - t_min) + 2.0 * gap + 1.0
    # Running maximum of the ends within each (team, estate) group, by offsetting groups apart.
    run_end = np.maximum.accumulate((e - t_min) + g * span) - g * span + t_min
    new_visit = new_group.copy()
    new_visit[1:] |= s[1:] > run_end[:-1] + gap
    k = np.cumsum(new_visit) - 1
    first = np.flatnonzero(new_visit)
    last = np.r_[first[1:], len(s)] - 1
    return Visits(
        team=team[first], estate=est[first], start_s=s[first], end_s=run_end[last],
        present_s=np.bincount(k, weights=v.present_s[order]), night_s=np.bincount(k, weights=v.night_s[order]),
    )


@dataclass
class ScanResult:
    """What :func:`scan` found."""

    visits: Visits
    team_ids: list[str]
    metres_by_team: np.ndarray
    samples_reached: np.ndarray
    fixes: int = 0
    first_s: float | None = None
    last_s: float | None = None
    chunks: int = 0
    extra: dict = field(default_factory=dict)

    def team_metres(self) -> dict[str, float]:
        """Metres patrolled per team id."""
        return {t: float(self.metres_by_team[i]) for i, t in enumerate(self.team_ids) if i < len(self.metres_by_team)}


def scan(
    chunks: Iterable[Chunk],
    estate_x,
    estate_y,
    *,
    radius_m=None,
    sample_x=None,
    sample_y=None,
    sample_team: list[str] | None = None,
    tolerance_m: float | None = None,
    gap_s: float | None = None,
    merge_gap_s: float | None = None,
) -> ScanResult:
    """Stream fixes once: visits to every estate, metres per team, planned-route samples reached by their own team.

    Parameters
    ----------
    chunks
        Fixes sorted by team and time (e.g. :func:`geo.tracks.store.iter_chunks`).
    estate_x, estate_y
        Estate points, metres in :data:`geo.settings.metric_crs`.
    radius_m
        Cover distance (default :data:`geo.settings.cover_distance_m`), scalar or per estate; inclusive.
    sample_x, sample_y, sample_team
        Points sampled along planned routes and the team id of each; a sample is
        reached when a segment of *that* team passes within ``tolerance_m``.
    tolerance_m
        Default :data:`geo.settings.plan_tolerance_m`.
    gap_s, merge_gap_s
        Defaults :data:`geo.settings.track_gap_s` and ``visit_merge_gap_s``.
    """
    r = settings.cover_distance_m if radius_m is None else radius_m
    tol = settings.plan_tolerance_m if tolerance_m is None else tolerance_m
    gap = settings.track_gap_s if gap_s is None else gap_s
    est_grid = PointGrid(estate_x, estate_y, r)
    sx = np.zeros(0) if sample_x is None else np.asarray(sample_x, dtype=float)
    sy = np.zeros(0) if sample_y is None else np.asarray(sample_y, dtype=float)
    smp_grid = PointGrid(sx, sy, tol)
    sample_team_names = list(sample_team or [])
    reached = np.zeros(len(sx), dtype=bool)
    parts: list[Visits] = []
    metres = np.zeros(0)
    carry: dict[int, tuple[float, float, float]] = {}
    res = ScanResult(Visits.empty(), [], metres, reached)
    team_ids: list[str] = []
    sample_code = np.zeros(len(sx), dtype=np.int64)
    for ch in chunks:
        team_ids = ch.team_ids
        res.chunks += 1
        res.fixes += len(ch)
        team, t, x, y = ch.team, ch.time_s, ch.x, ch.y
        res.first_s = float(t.min()) if res.first_s is None else min(res.first_s, float(t.min()))
        res.last_s = float(t.max()) if res.last_s is None else max(res.last_s, float(t.max()))
        if len(metres) < len(team_ids):
            metres = np.r_[metres, np.zeros(len(team_ids) - len(metres))]
        if len(sx):
            codes = {n: i for i, n in enumerate(team_ids)}
            sample_code = np.array([codes.get(n, -1) for n in sample_team_names], dtype=np.int64)
        for a_t, a_x, a_y, b_t, b_x, b_y, seg_team in _segments(team, t, x, y, carry, gap):
            length = np.hypot(b_x - a_x, b_y - a_y)
            metres += np.bincount(seg_team, weights=length, minlength=len(metres))[: len(metres)]
            half = 0.5 * length
            # Visits to estates.
            seg, est = est_grid.candidates(a_x, a_y, b_x, b_y, half=half)
            if len(seg):
                hit, u0, u1 = segment_intervals(a_x[seg], a_y[seg], b_x[seg], b_y[seg], est_grid.x[est], est_grid.y[est], est_grid.radius_m[est])
                seg, est, u0, u1 = seg[hit], est[hit], u0[hit], u1[hit]
                dt = (b_t[seg] - a_t[seg]).astype(float)
                t0 = a_t[seg] + u0 * dt
                t1 = a_t[seg] + u1 * dt
                night = night_seconds_before(t1) - night_seconds_before(t0)
                parts.append(merge_visits(Visits(seg_team[seg].astype(np.int64), est, t0, t1, t1 - t0, night), merge_gap_s=merge_gap_s))
            # Planned-route samples reached by their own team.
            if len(sx):
                seg, smp = smp_grid.candidates(a_x, a_y, b_x, b_y, half=half)
                mine = sample_code[smp] == seg_team[seg]
                seg, smp = seg[mine], smp[mine]
                if len(seg):
                    hit, _, _ = segment_intervals(a_x[seg], a_y[seg], b_x[seg], b_y[seg], sx[smp], sy[smp], tol)
                    reached[smp[hit]] = True
    res.visits = merge_visits(Visits.concat(parts), merge_gap_s=merge_gap_s)
    res.team_ids = list(team_ids)
    res.metres_by_team = metres
    res.samples_reached = reached
    return res


def _segments(team, t, x, y, carry: dict, gap: float):
    """Segments of a chunk: from each team's carried last fix to its first fix here, then within the chunk.

    Yields ``(a_t, a_x, a_y, b_t, b_x, b_y, team)`` batches of segments no longer
    than ``gap`` seconds (and longer than 0); updates ``carry`` with each team's last fix.
    """
    change = team[1:] != team[:-1]
    starts = np.r_[0, np.flatnonzero(change) + 1]
    heads = np.array([i for i in starts if int(team[i]) in carry], dtype=np.int64)
    if len(heads):
        c = np.array([carry[int(team[i])] for i in heads])
        a_t, a_x, a_y = c[:, 0].astype(np.int64), c[:, 1], c[:, 2]
        b_t = t[heads]
        ok = (b_t > a_t) & (b_t - a_t <= gap)
        yield a_t[ok], a_x[ok], a_y[ok], b_t[ok], x[heads][ok], y[heads][ok], team[heads][ok]
    for i in np.r_[starts[1:], len(t)] - 1:
        carry[int(team[i])] = (t[i], x[i], y[i])
    dt = t[1:] - t[:-1]
    ok = ~change & (dt > 0) & (dt <= gap)
    if ok.all():
        yield t[:-1], x[:-1], y[:-1], t[1:], x[1:], y[1:], team[1:]
    else:
        a, b = np.flatnonzero(ok), np.flatnonzero(ok) + 1
        yield t[a], x[a], y[a], t[b], x[b], y[b], team[b]
