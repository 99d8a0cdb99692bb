"""The choice of extensions: weighted set multicover (exact MILP, greedy fallback) and maximal covering.

The model sees only numbers, so it is tested without geometry:

* candidate ``j`` belongs to team ``team[j]``, costs ``cost[j]`` added metres
  and covers the estates in ``covers[j]``;
* estate ``e`` needs ``need[e]`` more *distinct* teams to cover it (the target
  ``k`` less the teams that already cover it; 0 when it is met);
* ``forbid_team[e]`` lists teams that cannot count for ``e`` (they already
  cover it, so a new detour of theirs adds nothing);
* ``must[j]`` lists the estates that candidate ``j`` brings *within the
  radius* without covering: choosing ``j`` then requires that each such estate
  is covered by some chosen candidate (``must_by_team`` False: any team, the
  default reading, where a nearby team with nobody covering leaves the estate
  ``coverable``) or by a candidate of ``j``'s own team (True: the strict reading,
  where every nearby team must cover).

Minimum cover (:meth:`ExtensionModel.solve`)::

    min  sum_j cost_j x_j
    s.t. y_et <= sum_{j: team_j = t, e in covers_j} x_j    (team t counts for e only if one of its detours covers e)
         sum_t y_et >= need_e                              (k distinct teams)
         x_j <= sum_{j' covering f (of team_j if strict)} x_j'  for f in must_j
         x, y binary

Maximal covering (``budget_m``): ``z_e <= sum_t y_et / need_e``,
``sum_j cost_j x_j <= budget_m``, maximise ``sum_e weight_e z_e``.

Before solving, dominated candidates are dropped (:meth:`ExtensionModel.dominated`:
another detour of the same team costs no more, covers at least the same
estates that matter and brings in no new obligation), which never changes the
optimum. The MILP is solved by HiGHS (:mod:`geo.optimise.highs`, through
``highspy``) under a time limit, started from the greedy plan, so that it
prunes with a good plan from its first node and answers with at least the
greedy plan when time runs out; the relative gap between the plan and HiGHS's
proven bound is reported. When HiGHS returns no plan in time, a greedy plan is
returned (cheapest cost per unit of unmet need first), marked
``method="greedy"`` with an unknown gap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from geo import settings
from geo.errors import SchemaError
from geo.optimise.highs import solve_binary

__all__ = ["ExtensionModel", "Plan"]


@dataclass
class Plan:
    """A solved plan.

    Attributes
    ----------
    chosen
        Positions of the chosen candidates, ascending.
    added_m
        Sum of their costs, metres.
    method
        ``"milp"`` (HiGHS) or ``"greedy"``.
    optimal
        True when HiGHS proved the plan optimal (gap within its tolerance).
    gap
        Relative optimality gap reported by HiGHS (0 when optimal); NaN for greedy.
    bound_m
        HiGHS's proven bound on the objective (metres, or weight when budgeted); NaN for greedy.
    seconds
        Wall time of the solve.
    covered
        Per estate: number of distinct new teams whose chosen detours cover it.
    met
        Per estate: whether its need is met.
    objective
        Added metres (minimum cover) or covered weight (budgeted).
    unmeetable
        Estates whose need exceeds the teams that could ever cover them (the need was capped).
    highs_s
        Wall time of HiGHS alone (after the pruning and the greedy start); NaN when it did not run.
    """

    chosen: np.ndarray
    added_m: float
    method: str
    optimal: bool
    gap: float
    bound_m: float
    seconds: float
    covered: np.ndarray
    met: np.ndarray
    objective: float
    unmeetable: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    highs_s: float = float("nan")


class ExtensionModel:
    """Which candidate extensions to choose.

    Parameters
    ----------
    n_estates
        Number of estates.
    team
        Team code (int) of each candidate.
    cost_m
        Added metres of each candidate (>= 0).
    covers
        Per candidate, the estate positions it covers.
    need
        Per estate, how many more distinct teams must cover it (>= 0).
    forbid_team
        Per estate, team codes that do not count (already covering); or None.
    must
        Per candidate, estate positions it brings within the radius without covering; or None.
    must_by_team
        See the module text.
    weight
        Per estate, its weight in the budgeted model (default 1).
    """

    #: Parts of fewer candidates than this are solved together, in one HiGHS run.
    part_batch = 2000

    def __init__(self, n_estates, team, cost_m, covers, need, *, forbid_team=None, must=None, must_by_team=False, weight=None):
        self.n_estates = int(n_estates)
        self.team = np.asarray(team, dtype=np.int64)
        self.cost_m = np.asarray(cost_m, dtype=float)
        self.covers = [np.unique(np.asarray(c, dtype=np.int64)) for c in covers]
        n_cand = len(self.team)
        if len(self.cost_m) != n_cand or len(self.covers) != n_cand:
            msg = f"{n_cand} candidate teams but {len(self.cost_m)} costs and {len(self.covers)} cover sets"
            raise ValueError(msg)
        if n_cand and (not np.isfinite(self.cost_m).all() or (self.cost_m < 0).any()):
            msg = "candidate costs must be finite metres >= 0"
            raise ValueError(msg)
        self.need = np.asarray(need, dtype=np.int64).copy()
        if len(self.need) != self.n_estates or (self.need < 0).any():
            msg = f"need must give {self.n_estates} whole numbers >= 0"
            raise ValueError(msg)
        self.forbid_team = [set() for _ in range(self.n_estates)] if forbid_team is None else [set(map(int, f)) for f in forbid_team]
        self.must = [np.zeros(0, dtype=np.int64) for _ in range(n_cand)] if must is None else [np.asarray(m, dtype=np.int64) for m in must]
        self.must_by_team = bool(must_by_team)
        self.weight = np.ones(self.n_estates) if weight is None else np.asarray(weight, dtype=float)
        self._build_pairs()

    # --- construction -------------------------------------------------------

    @classmethod
    def from_cost_matrix(cls, cost_m, team, need, *, forbid_team=None, weight=None) -> ExtensionModel:
        """Build a model from an (estates x candidates) matrix of costs.

        Parameters
        ----------
        cost_m
            Array (n_estates, n_candidates): a finite entry means the candidate
            covers the estate; NaN or inf means it does not. The candidate's
            cost is the largest finite entry of its column (in a matrix from
            per-pair extensions, each column has one).
        team
            Team code of each candidate (column).
        need, forbid_team, weight
            See :class:`ExtensionModel`.
        """
        matrix = np.asarray(cost_m, dtype=float)
        if matrix.ndim != 2:
            msg = "cost matrix must be 2-D (estates x candidates)"
            raise ValueError(msg)
        finite = np.isfinite(matrix)
        covers = [np.flatnonzero(finite[:, j]) for j in range(matrix.shape[1])]
        cost = np.array([matrix[c, j].max() if len(c) else 0.0 for j, c in enumerate(covers)])
        return cls(matrix.shape[0], team, cost, covers, need, forbid_team=forbid_team, weight=weight)

    @classmethod
    def from_geodataframes(cls, candidates, estates, *, k: int = 1, strict: bool = False, weight=None) -> ExtensionModel:
        """Build a model from the tables of :func:`geo.optimise.candidates.build_candidates`.

        Parameters
        ----------
        candidates
            GeoDataFrame with ``team_code``, ``cost_m``, ``covers`` and ``must`` (lists of estate positions).
        estates
            The estate table of the same call: ``need`` (for ``k``) and ``covering_codes`` (team codes already covering).
        k, strict
            Target and reading (``need`` is recomputed for ``k``).
        weight
            Per-estate weight for budgeted plans.
        """
        covering = [list(c) for c in estates["covering_codes"]]
        need = np.maximum(0, int(k) - np.array([len(c) for c in covering], dtype=np.int64)) * estates["in_scope"].to_numpy(dtype=np.int64)
        return cls(
            len(estates),
            candidates["team_code"].to_numpy(),
            candidates["cost_m"].to_numpy(),
            list(candidates["covers"]),
            need,
            forbid_team=covering,
            must=list(candidates["must"]),
            must_by_team=strict,
            weight=weight,
        )

    def _build_pairs(self) -> None:
        """Index the (estate, team) pairs that a candidate can newly cover."""
        n_cand = len(self.team)
        sizes = np.array([len(c) for c in self.covers], dtype=np.int64)
        cols_a = np.repeat(np.arange(n_cand, dtype=np.int64), sizes)
        rows_a = np.concatenate(self.covers) if n_cand else np.zeros(0, dtype=np.int64)
        span = int(self.team.max()) + 1 if n_cand else 1
        self.n_teams_span = span
        keys = rows_a * span + self.team[cols_a]
        if sum(len(f) for f in self.forbid_team) <= 4 * len(keys) + 1000:
            forbid = [e * span + t for e, f in enumerate(self.forbid_team) for t in f if t < span]
            counts = ~np.isin(keys, np.asarray(forbid, dtype=np.int64))
        else:  # long forbidden lists (the strict reading): look each pair up instead
            counts = np.array([t not in self.forbid_team[e] for e, t in zip(rows_a.tolist(), self.team[cols_a].tolist(), strict=True)], dtype=bool)
        rows_a, cols_a, keys = rows_a[counts], cols_a[counts], keys[counts]
        self.pair_keys, pair_of = np.unique(keys, return_inverse=True)
        self.pair_estate = self.pair_keys // span
        self.pair_team = self.pair_keys % span
        self.pair_rows, self.pair_cols = pair_of.ravel(), cols_a  # candidate cols_a counts for pair pair_of
        self.reach = np.bincount(self.pair_estate, minlength=self.n_estates).astype(np.int64)

    def _incidence(self, sets) -> sp.csr_matrix:
        """(candidates x estates) 0/1 matrix of per-candidate estate sets."""
        sizes = np.array([len(c) for c in sets], dtype=np.int64)
        cols = np.concatenate(sets).astype(np.int64) if len(sets) else np.zeros(0, dtype=np.int64)
        rows = np.repeat(np.arange(len(sets), dtype=np.int64), sizes)
        m = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(sets), self.n_estates))
        m.sum_duplicates()
        m.data[:] = 1.0
        return m

    def dominated(self) -> np.ndarray:
        """Candidates that no optimal choice needs, as a boolean mask.

        Candidate ``i`` is dominated by ``j`` of the same team when ``j``
        costs no more, covers every estate ``i`` covers that matters (one with
        a need, or one some candidate must see covered), and brings no estate
        within the radius that ``i`` does not (``must``). Swapping ``i`` for
        ``j`` in any plan then keeps it feasible at no greater cost, for the
        minimum cover and the budgeted model alike. Of identical candidates
        the first is kept. A candidate that covers nothing that matters is
        dominated by choosing nothing.
        """
        n_cand = len(self.team)
        out = np.zeros(n_cand, dtype=bool)
        if not n_cand:
            return out
        must = self._incidence(self.must)
        matters = (self.need > 0) | (np.asarray(must.sum(axis=0)).ravel() > 0)
        cov = self._incidence(self.covers)
        cov = (cov @ sp.diags(matters.astype(float))).tocsr()
        cov.eliminate_zeros()
        size = np.diff(cov.indptr)
        out |= size == 0
        # Columns per (team, estate): only candidates of one team meet in the product.
        cov = cov.tocoo()
        span = self.n_teams_span
        keys, col = np.unique(cov.col.astype(np.int64) * span + self.team[cov.row], return_inverse=True)
        keyed = sp.csr_matrix((np.ones(len(cov.row)), (cov.row, col.ravel())), shape=(n_cand, len(keys)))
        inter = (keyed @ keyed.T).tocoo()
        i, j, shared = inter.row, inter.col, inter.data
        ok = (i != j) & (shared == size[i]) & (self.cost_m[j] <= self.cost_m[i]) & ~out[i] & ~out[j]
        i, j = i[ok], j[ok]
        m_size = np.diff(must.indptr)
        m_shared = np.asarray(must[i].multiply(must[j]).sum(axis=1)).ravel() if len(i) else np.zeros(0)
        ok = m_shared == m_size[j]  # j brings in no new obligation
        i, j = i[ok], j[ok]
        # Identical candidates (each dominates the other): drop only the later one.
        same = (size[i] == size[j]) & (self.cost_m[i] == self.cost_m[j]) & (m_size[i] == m_size[j])
        i = i[~same | (j < i)]
        out[i] = True
        return out

    # --- checks -------------------------------------------------------------

    def unmeetable(self) -> np.ndarray:
        """Estates whose need exceeds the number of teams that could ever newly cover them."""
        return np.flatnonzero(self.need > self.reach)

    # --- solving ------------------------------------------------------------

    def solve(self, *, budget_m: float | None = None, time_limit_s: float | None = None, method: str = "milp") -> Plan:
        """Choose the candidates.

        Parameters
        ----------
        budget_m
            None: minimum added metres meeting every need (estates that cannot
            meet it are capped at what they can reach and listed in
            :attr:`Plan.unmeetable`). A number > 0: maximal covering within
            that many added metres.
        time_limit_s
            HiGHS time limit (default :data:`geo.settings.optimise_time_limit_s`).
        method
            ``"milp"`` (greedy only if HiGHS gives no plan in time) or ``"greedy"``.

        Returns
        -------
        Plan
        """
        if budget_m is not None and not (np.isfinite(budget_m) and budget_m > 0):
            msg = f"budget {budget_m!r} m: give a budget of added metres greater than 0 (e.g. --budget-m 5000)"
            raise SchemaError(msg)
        limit = float(settings.optimise_time_limit_s if time_limit_s is None else time_limit_s)
        unmeetable = self.unmeetable()
        need = np.minimum(self.need, self.reach)
        start = time.perf_counter()
        plan = None
        if method == "milp":
            plan = self._milp(need, budget_m, limit)
        elif method != "greedy":
            msg = f"unknown method {method!r}: use 'milp' or 'greedy'"
            raise ValueError(msg)
        if plan is None:
            plan = self._greedy(need, budget_m)
        plan.seconds = time.perf_counter() - start
        plan.unmeetable = unmeetable
        return plan

    def _pair_matrix(self) -> sp.csr_matrix:
        """(pairs x candidates) 0/1 matrix: candidate j counts for pair p."""
        n_pairs, n_cand = len(self.pair_keys), len(self.team)
        data = np.ones(len(self.pair_rows))
        return sp.csr_matrix((data, (self.pair_rows, self.pair_cols)), shape=(n_pairs, n_cand))

    def _must_rows(self, need: np.ndarray | None = None) -> sp.csr_matrix:
        """Rows ``x_j - sum_{j' covering f} x_j' <= 0`` of the 'no new obligation' constraints (one per distinct (j, f)).

        With ``need`` (the minimum cover, default reading), a row whose
        estate ``f`` needs a new team anyway is left out: the cover rows
        already make some chosen detour cover ``f``.
        """
        n_cand = len(self.team)
        must = self._incidence(self.must).tocoo()  # (j, f), duplicates merged
        j, f = must.row.astype(np.int64), must.col.astype(np.int64)
        if need is not None and not self.must_by_team:
            j, f = j[need[f] < 1], f[need[f] < 1]
        order = np.lexsort((f, j))
        j, f = j[order], f[order]
        cover_by = self._incidence(self.covers).T.tocsr()  # estates x candidates
        helpers = cover_by[f].tocoo()  # row r: the candidates covering f_r
        r, h = helpers.row.astype(np.int64), helpers.col.astype(np.int64)
        keep = h != j[r]
        if self.must_by_team:
            keep &= self.team[h] == self.team[j[r]]
        r, h = r[keep], h[keep]
        rows = np.concatenate([np.arange(len(j)), r])
        cols = np.concatenate([j, h])
        vals = np.concatenate([np.ones(len(j)), -np.ones(len(h))])
        return sp.csr_matrix((vals, (rows, cols)), shape=(len(j), n_cand))

    def _milp(self, need: np.ndarray, budget_m: float | None, limit: float) -> Plan | None:
        """HiGHS on the candidates that are not dominated, part by independent part, each started from its greedy plan.

        Parts share no estate that matters, so the optimum is the sum of the
        parts' optima (the budgeted model, whose budget ties every detour
        together, is one part). Small parts are solved first, several at a
        time; the time limit is for them all.
        """
        n_cand = len(self.team)
        budgeted = budget_m is not None
        if n_cand == 0 or not (need > 0).any():
            return self._plan(np.zeros(n_cand, dtype=bool), need, "milp", optimal=True, gap=0.0, bound=0.0, budgeted=budgeted)
        keep = np.flatnonzero(~self.dominated())
        deadline = time.perf_counter() + limit
        x = np.zeros(n_cand, dtype=bool)
        objective = bound = highs_s = 0.0
        optimal, answered = True, 0
        for cands, ests in self._parts(keep, need, whole=budgeted):
            loc = self._local(cands, ests, need)
            start = np.zeros(len(cands), dtype=bool)
            start[loc._greedy(loc.need, budget_m).chosen] = True
            c, a, lower, upper = loc._programme(loc.need, budget_m)
            x0 = np.zeros(len(c), dtype=bool)
            x0[: len(cands)] = start
            if len(c) > len(cands):
                x0[len(cands) :] = loc._implied(start, loc.need, budgeted)
            t0 = time.perf_counter()
            res = solve_binary(c, a, lower, upper, time_limit_s=max(deadline - t0, 0.05), start=x0)
            highs_s += time.perf_counter() - t0
            trivial = float(c[c < 0].sum())  # no plan does better than every variable at its best
            if res is None:  # no plan in time for this part: its greedy plan, bounded trivially
                x[cands] = start
                objective += float(c[: len(cands)][start].sum())
                bound += trivial
                optimal = False
                continue
            answered += 1
            x[cands] = res.x[: len(cands)]
            objective += float(c @ res.x)
            bound += max(res.bound, trivial) if np.isfinite(res.bound) else trivial
            optimal &= res.optimal
        if not answered:
            return None
        gap = max(0.0, objective - bound) / max(abs(objective), 1e-9)
        plan = self._plan(x, need, "milp", optimal=optimal, gap=gap, bound=bound, budgeted=budgeted)
        plan.highs_s = highs_s
        return plan

    def _parts(self, keep: np.ndarray, need: np.ndarray, *, whole: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
        """Independent parts of the choice among candidates ``keep``: (candidates, estates that matter), small ones batched.

        Two candidates are in one part when they cover, or must see covered,
        a common estate that matters (one with a need, or one some candidate
        must see covered); such estates tie every constraint together. In the
        default reading an estate with a need ties no obligation: the cover
        rows see to it.
        """
        must = self._incidence([self.must[j] for j in keep.tolist()])
        cov = self._incidence([self.covers[j] for j in keep.tolist()])
        matters = (need > 0) | (np.asarray(must.sum(axis=0)).ravel() > 0)
        if whole:
            return [(keep, np.flatnonzero(matters))]
        if not self.must_by_team:  # an estate that needs a new team anyway ties no obligation to its helpers (see _must_rows)
            must = (must @ sp.diags((need < 1).astype(float))).tocsr()
        links = ((cov + must) @ sp.diags(matters.astype(float))).tocsr()
        n_k = len(keep)
        _, label = connected_components(sp.bmat([[None, links], [links.T, None]], format="csr"), directed=False)
        cand_label, est_label = label[:n_k], label[n_k:]
        sizes = np.bincount(cand_label, minlength=label.max() + 1)
        groups, current, count = [], [], 0
        for comp in np.argsort(sizes, kind="stable").tolist():
            if not sizes[comp]:
                continue
            current.append(comp)
            count += int(sizes[comp])
            if count >= self.part_batch:
                groups.append(current)
                current, count = [], 0
        if current:
            groups.append(current)
        return [(keep[np.isin(cand_label, g)], np.flatnonzero(np.isin(est_label, g) & matters)) for g in groups]

    def _local(self, cands: np.ndarray, ests: np.ndarray, need: np.ndarray) -> ExtensionModel:
        """The model of candidates ``cands`` and estates ``ests`` alone (estates renumbered in that order), with ``need`` there."""
        pos = np.full(self.n_estates, -1, dtype=np.int64)
        pos[ests] = np.arange(len(ests))

        def local(sets):
            out = []
            for j in cands.tolist():
                p = pos[sets[j]]
                out.append(p[p >= 0])
            return out

        return ExtensionModel(len(ests), self.team[cands], self.cost_m[cands], local(self.covers), need[ests],
                              forbid_team=[self.forbid_team[e] for e in ests.tolist()], must=local(self.must),
                              must_by_team=self.must_by_team, weight=self.weight[ests])

    def _programme(self, need: np.ndarray, budget_m: float | None):
        """Objective, constraint matrix and row bounds of the MILP (variables: x, then y and z where needed)."""
        n_cand, n_pairs = len(self.team), len(self.pair_keys)
        a = self._pair_matrix()
        must = self._must_rows(need if budget_m is None else None)
        est_pairs = sp.csr_matrix((np.ones(n_pairs), (self.pair_estate, np.arange(n_pairs))), shape=(self.n_estates, n_pairs))
        if budget_m is None and need.max(initial=0) <= 1:
            # One team suffices everywhere: "some candidate covers e" needs no pair variables (a smaller, equal model).
            cover_rows = (est_pairs @ a).tocsr()
            cover_rows.data[:] = 1.0
            rows = np.flatnonzero(need > 0)
            blocks = [cover_rows[rows], must]
            lower = np.concatenate([np.ones(len(rows)), np.full(must.shape[0], -np.inf)])
            upper = np.concatenate([np.full(len(rows), np.inf), np.zeros(must.shape[0])])
            return self.cost_m, sp.vstack(blocks).tocsr(), lower, upper
        budgeted = budget_m is not None
        n_z = self.n_estates if budgeted else 0
        zeros = sp.csr_matrix
        # y_p - sum_j A_pj x_j <= 0 ; x_j - sum helpers <= 0
        blocks = [sp.hstack([-a, sp.identity(n_pairs), zeros((n_pairs, n_z))]), sp.hstack([must, zeros((must.shape[0], n_pairs + n_z))])]
        lower = [np.full(n_pairs, -np.inf), np.full(must.shape[0], -np.inf)]
        upper = [np.zeros(n_pairs), np.zeros(must.shape[0])]
        if budgeted:
            # need_e z_e - sum_p y_p <= 0 ; sum cost x <= budget ; maximise the weight met
            blocks.append(sp.hstack([zeros((self.n_estates, n_cand)), -est_pairs, sp.diags(need.astype(float))]))
            blocks.append(sp.hstack([zeros(self.cost_m[None, :]), zeros((1, n_pairs + n_z))]))
            lower += [np.full(self.n_estates, -np.inf), np.array([-np.inf])]
            upper += [np.zeros(self.n_estates), np.array([float(budget_m)])]
            c = np.concatenate([np.zeros(n_cand + n_pairs), -(self.weight * (need > 0))])
        else:
            blocks.append(sp.hstack([zeros((self.n_estates, n_cand)), est_pairs]))
            lower.append(need.astype(float))
            upper.append(np.full(self.n_estates, np.inf))
            c = np.concatenate([self.cost_m, np.zeros(n_pairs)])
        return c, sp.vstack(blocks).tocsr(), np.concatenate(lower), np.concatenate(upper)

    def _implied(self, x: np.ndarray, need: np.ndarray, budgeted: bool) -> np.ndarray:
        """The pair (and, budgeted, estate) variables that go with the choice ``x``."""
        hit = np.zeros(len(self.pair_keys), dtype=bool)
        np.logical_or.at(hit, self.pair_rows[x[self.pair_cols]], True)
        if not budgeted:
            return hit
        met = np.bincount(self.pair_estate[hit], minlength=self.n_estates) >= need
        return np.concatenate([hit, met & (need > 0)])

    def _plan(self, x: np.ndarray, need: np.ndarray, method: str, *, optimal: bool, gap: float, bound: float, budgeted: bool) -> Plan:
        chosen = np.flatnonzero(x)
        covered = self.covered_by(chosen)
        met = covered >= need
        objective = float(self.weight[met & (need > 0)].sum()) if budgeted else float(self.cost_m[chosen].sum())
        if budgeted and np.isfinite(bound):
            bound = -bound
        return Plan(chosen, float(self.cost_m[chosen].sum()), method, optimal, gap, bound, 0.0, covered, met, objective)

    def covered_by(self, chosen) -> np.ndarray:
        """Per estate, the number of distinct teams (not already covering) whose chosen candidates cover it."""
        sel = np.zeros(len(self.team), dtype=bool)
        sel[np.asarray(chosen, dtype=np.int64)] = True
        hit = np.zeros(len(self.pair_keys), dtype=bool)
        np.logical_or.at(hit, self.pair_rows[sel[self.pair_cols]], True)
        return np.bincount(self.pair_estate[hit], minlength=self.n_estates)

    def _greedy(self, need: np.ndarray, budget_m: float | None) -> Plan:
        """Cheapest metres per unit of unmet (weighted) need first; then cover what a choice brings within the radius.

        Without a budget, a choice changes nothing outside its own part
        (:meth:`_parts`), so the parts are run apart: the same choices as
        one run over everything, in far fewer steps.
        """
        if budget_m is None and len(self.team) > self.part_batch:
            parts = self._parts(np.arange(len(self.team)), need)
            if len(parts) > 1:
                chosen = np.zeros(len(self.team), dtype=bool)
                for cands, ests in parts:
                    loc = self._local(cands, ests, need)
                    chosen[cands[loc._greedy(loc.need, None).chosen]] = True
                return self._plan(chosen, need, "greedy", optimal=False, gap=float("nan"), bound=float("nan"), budgeted=False)
        return self._greedy_run(need, budget_m)

    def _greedy_run(self, need: np.ndarray, budget_m: float | None) -> Plan:
        """The greedy plan over every candidate at once."""
        n_cand = len(self.team)
        a = self._pair_matrix().tocsc()
        remaining = need.astype(float).copy()
        pair_done = np.zeros(len(self.pair_keys), dtype=bool)
        chosen = np.zeros(n_cand, dtype=bool)
        spent = 0.0
        budgeted = budget_m is not None
        weight = self.weight if budgeted else np.ones(self.n_estates)
        extra = np.zeros(self.n_estates, dtype=bool)  # brought within the radius by a choice: needs one cover
        extra_team = np.full(self.n_estates, -1, dtype=np.int64)
        unit = weight / np.maximum(need, 1)
        while True:
            e = self.pair_estate
            wanted = ~pair_done & ((remaining[e] > 0) | (extra[e] & ((extra_team[e] < 0) | (extra_team[e] == self.pair_team))))
            gain = a.T @ (wanted * unit[e])
            ok = (gain > 0) & ~chosen
            if budgeted:
                ok &= spent + self.cost_m <= budget_m
            if not ok.any():
                break
            ratio = np.where(ok, self.cost_m / np.where(gain > 0, gain, 1.0), np.inf)
            best = int(np.argmin(ratio))
            chosen[best] = True
            spent += self.cost_m[best]
            hit = a[:, best].nonzero()[0]
            newly = hit[~pair_done[hit]]
            pair_done[newly] = True
            np.subtract.at(remaining, self.pair_estate[newly], 1.0)
            np.maximum(remaining, 0.0, out=remaining)
            extra[self.pair_estate[newly]] = False
            for f in self.must[best].tolist():
                rows = np.arange(np.searchsorted(self.pair_estate, f), np.searchsorted(self.pair_estate, f, side="right"))  # pairs sorted by estate
                if self.must_by_team:
                    rows = rows[self.pair_team[rows] == self.team[best]]
                if not pair_done[rows].any():
                    extra[f] = True
                    extra_team[f] = int(self.team[best]) if self.must_by_team else -1
        return self._plan(chosen, need, "greedy", optimal=False, gap=float("nan"), bound=float("nan"), budgeted=budgeted)
