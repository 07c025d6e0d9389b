"""Connected components over edge batches with a NumPy union-find (no Python loop over edges).

Nodes are integers 0..n-1 ordered by the representative rule, and every union hooks the larger root under the
smaller one, so each component's root is its smallest node: its representative. Memory is the parent array
(8 bytes a node) plus one edge batch, whatever the number of edges streamed through.
"""

from __future__ import annotations

import numpy as np


def find_roots(parent: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Roots of `nodes`, compressing their paths (pointer jumping until every node points at a root)."""
    roots = parent[nodes]
    while True:
        nxt = parent[roots]
        if np.array_equal(nxt, roots):
            break
        roots = nxt
    parent[nodes] = roots
    return roots


def union_edges(parent: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
    """Merge the components of each pair (u[i], v[i]) in place.

    Several edges may hook the same root in one round; only one write wins, the others are retried with the
    new roots until every pair shares a root. Roots only ever move to smaller ids, so this terminates.
    """
    while u.size:
        ru = find_roots(parent, u)
        rv = find_roots(parent, v)
        differ = ru != rv
        if not differ.any():
            return
        lo = np.minimum(ru[differ], rv[differ])
        hi = np.maximum(ru[differ], rv[differ])
        np.minimum.at(parent, hi, lo)
        u, v = lo, hi


def flatten(parent: np.ndarray) -> np.ndarray:
    """Point every node straight at its root (component label = smallest node of the component)."""
    return find_roots(parent, np.arange(parent.size))
