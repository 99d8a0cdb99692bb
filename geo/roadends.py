"""Joining road ends that stop just short of another road.

A road drawn by hand, or rounded on a trip through WGS-84, often ends a few
centimetres to a metre before the road it meets (a T-junction whose end is not
on a vertex of the other road, or two roads that were meant to meet end to
end). Noding alone leaves such an end unconnected, and paths along the roads
then take long detours or find no way at all.

:func:`join_ends` closes these gaps on the straight segments of a noded
network: every *dangling* end (a node that only one segment touches) that lies
within ``join_m`` metres (inclusive) of a segment other than its own and the
segments next to it is moved onto the nearest point of that segment, and the
segment is split there (a new node). When that nearest point is an existing
node (a junction, or another dangling end within the tolerance) the end is
merged into it instead. Dangling ends that are nearest to each other go
together to the nearest other target of one of them (the road they both stop
short of), or, without one, meet at one of them.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["join_ends", "node_ids"]

#: Nodes closer than this (metres) are one node; also the smallest split kept apart from a segment's end.
NODE_M = 0.01


def node_ids(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Node ids of segment ends ``a`` and ``b`` ((n, 2) metres), merged where they agree to :data:`NODE_M`.

    Returns
    -------
    (u, v, node_xy)
        Node of each segment's start and end, and each node's coordinates.
    """
    keys = np.round(np.vstack([a, b]) * (1.0 / NODE_M)).astype(np.int64)
    _, node = np.unique(keys, axis=0, return_inverse=True)
    node = node.ravel()
    u, v = node[: len(a)], node[len(a) :]
    node_xy = np.zeros((int(node.max()) + 1 if len(node) else 0, 2))
    node_xy[u] = a
    node_xy[v] = b
    return u, v, node_xy


def join_ends(a: np.ndarray, b: np.ndarray, *, join_m: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Join the dangling ends of the segments ``a``-``b`` that lie within ``join_m`` metres of another segment.

    Parameters
    ----------
    a, b
        (n, 2) arrays of the start and end of each straight segment, metres,
        noded where the roads cross.
    join_m
        Tolerance, metres (inclusive, to a micrometre); 0 or less joins nothing.

    Returns
    -------
    (a, b, joined)
        The segments after the joins (split where an end was snapped onto
        them), and the number of ends joined.
    """
    if not join_m > 0 or not len(a):
        return a, b, 0
    u, v, node_xy = node_ids(a, b)
    degree = np.bincount(np.concatenate([u, v]), minlength=len(node_xy))
    ends = np.flatnonzero(degree == 1)
    if not len(ends):
        return a, b, 0
    ends_u = np.isin(u, ends)
    own = np.full(len(node_xy), -1, dtype=np.int64)
    own[u[ends_u]] = np.flatnonzero(ends_u)
    ends_v = np.isin(v, ends)
    own[v[ends_v]] = np.flatnonzero(ends_v)
    segments = shapely.linestrings(np.stack([a, b], axis=1))
    points = shapely.points(node_xy[ends])
    i, s = shapely.STRtree(segments).query(points, predicate="dwithin", distance=join_m + 1e-6)
    # Not its own segment, nor one that shares a node with it (an end just past a junction is already joined).
    mine = own[ends[i]]
    near = (u[s] == u[mine]) | (u[s] == v[mine]) | (v[s] == u[mine]) | (v[s] == v[mine])
    i, s = i[~near], s[~near]
    if not len(i):
        return a, b, 0
    dist = shapely.distance(points[i], segments[s])
    order = np.lexsort((s, dist, i))
    i, s, dist = i[order], s[order], dist[order]
    along = shapely.line_locate_point(segments[s], points[i])
    length = shapely.length(segments[s])
    # Where the nearest point is a node of the segment, the end is merged into that node.
    to_node = np.where(along <= NODE_M, u[s], np.where(along >= length - NODE_M, v[s], -1))
    split_xy = shapely.get_coordinates(shapely.line_interpolate_point(segments[s], along))
    first = np.flatnonzero(np.r_[True, i[1:] != i[:-1]])  # the nearest other segment of each end
    # The nearest target of each end that is not another dangling end: where ends that meet each other go on to.
    solid = np.flatnonzero((to_node < 0) | (degree[np.maximum(to_node, 0)] != 1))
    solid = solid[np.r_[True, i[solid][1:] != i[solid][:-1]]] if len(solid) else solid
    choice = {int(ends[i[k]]): int(k) for k in first.tolist()}
    fallback = {int(ends[i[k]]): int(k) for k in solid.tolist()}
    # Each joined end points at a node or at a split point; follow the pointers (few ends) to where each lands.
    landed: dict[int, np.ndarray] = {}
    for start in list(choice):
        seen, node = [], start
        while node in choice and node not in seen and node not in landed:
            seen.append(node)
            k = choice[node]
            if to_node[k] < 0:
                landed[node] = split_xy[k]
                break
            node = int(to_node[k])
        if node in landed:
            where = landed[node]
        elif node in seen:  # ends pointing at each other: they go on to the nearest other target of one of them
            ring = seen[seen.index(node) :]
            outs = [(float(dist[fallback[n]]), n) for n in ring if n in fallback]
            if outs:
                n = min(outs)[1]
                choice[n] = k = fallback[n]
                where = split_xy[k] if to_node[k] < 0 else node_xy[to_node[k]]
                landed[n] = where
            else:  # or meet at the first of them
                where = node_xy[min(ring)]
        else:
            where = node_xy[node]
        for n in seen:
            landed.setdefault(n, where)
    new_xy = node_xy.copy()
    for node, xy in landed.items():
        new_xy[node] = xy
    a2, b2 = new_xy[u], new_xy[v]
    splits = np.array(sorted(k for k in choice.values() if to_node[k] < 0), dtype=np.int64)
    if len(splits):
        seg_split = s[splits]
        cut = np.unique(seg_split)
        keep = np.ones(len(a2), dtype=bool)
        keep[cut] = False
        pieces_a, pieces_b = [a2[keep]], [b2[keep]]
        for seg in cut.tolist():
            mine_k = splits[seg_split == seg]
            pts = split_xy[mine_k][np.argsort(along[mine_k], kind="stable")]
            chain = np.vstack([a2[seg], pts, b2[seg]])
            pieces_a.append(chain[:-1])
            pieces_b.append(chain[1:])
        a2, b2 = np.vstack(pieces_a), np.vstack(pieces_b)
    keep = np.hypot(*(b2 - a2).T) > 0
    return a2[keep], b2[keep], len(landed)
