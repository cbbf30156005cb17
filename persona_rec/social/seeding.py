"""Seeding audiences: pick k users whose posts spread furthest under independent cascade.

Independent cascade (IC): a newly activated user i gets one chance to activate
each user j it reaches, with probability ``p[i, j]``. :func:`select_seeds`
maximises the expected number of activated users with reverse influence
sampling (RIS, Borgs et al. 2014; Tang et al. 2014): draw ``n_sets`` random
reverse-reachable sets (the users that would have activated a random user),
then greedily pick the user covering most sets not yet covered. The coverage
share times ``n_users`` estimates the spread, and greedy max-coverage gives the
usual ``1 - 1/e`` guarantee. All cascades are simulated level by level for many
sets (or simulations) at once with numpy, without a Python loop over users.

:func:`simulate_spread` estimates a seed set's spread by Monte-Carlo
simulation and :func:`compare_seeding` compares greedy seeds with top-degree,
top-PageRank and random seeds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._progress import get_logger
from .._validation import check_instance, check_int, check_number
from ..columns import Columns
from ..exceptions import InvalidParameterError, InvalidValueError
from .graph import SocialGraph

__all__ = ["edge_probabilities", "select_seeds", "simulate_spread", "compare_seeding"]

_log = get_logger(__name__)


def edge_probabilities(graph: SocialGraph, probability: float | str = "weighted_cascade") -> sp.csr_matrix:
    """Activation probability of every influence link.

    Parameters
    ----------
    graph : SocialGraph
    probability : float or {"weighted_cascade", "weight"}, default "weighted_cascade"
        A constant in (0, 1]; ``"weighted_cascade"``: ``w[i, j] / sum_i w[i, j]``
        (a user listens to its sources in proportion to the link weights,
        total 1); ``"weight"``: the link weights themselves (must be <= 1).

    Returns
    -------
    scipy.sparse.csr_matrix
        Same pattern as ``graph.influence``.
    """
    check_instance(graph, SocialGraph, "graph must be a SocialGraph")
    p = graph.influence.copy()
    if isinstance(probability, str):
        if probability == "weighted_cascade":
            into = np.asarray(p.sum(axis=0)).ravel()
            p.data = p.data / into[p.indices]
        elif probability == "weight":
            if p.nnz and p.data.max() > 1:
                raise InvalidValueError(
                    f"probability='weight' needs link weights <= 1, got a maximum of {p.data.max():g}."
                )
        else:
            raise InvalidParameterError(
                "The 'probability' parameter must be a number in (0, 1], 'weighted_cascade' or "
                f"'weight', got {probability!r}."
            )
    else:
        c = check_number(probability, "probability", low=0, high=1, low_inclusive=False)
        p.data[:] = c
    return p


def _cascade(p: sp.csr_matrix, run: np.ndarray, node: np.ndarray, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray]:
    """Run many independent cascades at once; return every (run, node) activated.

    ``p`` is csr (rows spread to columns); ``run``/``node`` are the starting pairs.
    """
    n = p.shape[0]
    key = np.unique(run.astype(np.int64) * n + node)
    # visited pairs: a big sorted array plus a small sorted buffer merged into it now and then,
    # so a level costs a binary search per candidate instead of re-sorting everything seen
    seen, recent = key, np.empty(0, dtype=np.int64)
    frontier = key
    indptr, indices, data = p.indptr, p.indices, p.data
    while frontier.size:
        r, u = np.divmod(frontier, n)
        deg = indptr[u + 1] - indptr[u]
        tot = int(deg.sum())
        if tot == 0:
            break
        start = np.repeat(indptr[u] - np.cumsum(deg) + deg, deg)
        pos = start + np.arange(tot)
        live = rng.random(tot) < data[pos]
        cand = np.unique(np.repeat(r, deg)[live] * n + indices[pos[live]])
        new = cand[~(_contains(seen, cand) | _contains(recent, cand))]
        recent = np.union1d(recent, new)
        if recent.size * 8 > seen.size:
            seen, recent = np.union1d(seen, recent), np.empty(0, dtype=np.int64)
        frontier = new
    seen = np.union1d(seen, recent)
    return np.divmod(seen, n)


def _contains(sorted_keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Membership of ``values`` in the sorted array ``sorted_keys`` (binary search)."""
    if sorted_keys.size == 0:
        return np.zeros(values.size, dtype=bool)
    pos = np.searchsorted(sorted_keys, values).clip(max=sorted_keys.size - 1)
    return sorted_keys[pos] == values


def _rng(random_state: Any) -> np.random.Generator:
    return np.random.default_rng(random_state)


def simulate_spread(
    graph: SocialGraph,
    seeds: Any,
    *,
    probability: float | str = "weighted_cascade",
    n_simulations: int = 1000,
    batch: int = 200,
    random_state: int | None = 0,
) -> dict[str, float]:
    """Monte-Carlo estimate of the expected number of users a seed set activates (seeds included).

    Parameters
    ----------
    graph : SocialGraph
    seeds : array-like
        External user ids.
    probability : see :func:`edge_probabilities`
    n_simulations : int, default 1000
    batch : int, default 200
        Simulations run together (memory vs speed).
    random_state : int or None, default 0

    Returns
    -------
    dict
        ``mean``, ``std`` (between simulations) and ``se`` (standard error).

    Examples
    --------
    >>> import pandas as pd
    >>> g = SocialGraph.from_edges(pd.DataFrame({"source": ["b", "c"], "target": ["a", "b"]}))
    >>> simulate_spread(g, ["a"], probability=1.0, n_simulations=10)["mean"]
    3.0
    """
    n_sim = check_int(n_simulations, "n_simulations", minimum=1, owner="simulate_spread")
    batch = check_int(batch, "batch", minimum=1, owner="simulate_spread")
    s = np.unique(graph.index_of(np.asarray(list(seeds), dtype=object)))
    p = edge_probabilities(graph, probability)
    rng = _rng(random_state)
    counts = []
    for lo in range(0, n_sim, batch):
        b = min(batch, n_sim - lo)
        run, _ = _cascade(p, np.repeat(np.arange(b), s.size), np.tile(s, b), rng)
        counts.append(np.bincount(run, minlength=b))
    c = np.concatenate(counts).astype(float)
    std = float(c.std(ddof=1)) if c.size > 1 else 0.0
    return {"mean": float(c.mean()), "std": std, "se": std / np.sqrt(c.size)}


def select_seeds(
    graph: SocialGraph,
    k: int,
    *,
    probability: float | str = "weighted_cascade",
    candidates: Any = None,
    user_tags: Any = None,
    expression: str | None = None,
    costs: pd.Series | None = None,
    budget: float | None = None,
    n_sets: int = 20_000,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Choose up to ``k`` seed users maximising expected independent-cascade spread (RIS + greedy).

    Parameters
    ----------
    graph : SocialGraph
    k : int
        Number of seeds (>= 1).
    probability : see :func:`edge_probabilities`
    candidates : array-like, optional
        Only these users may be seeds.
    user_tags : UserTags, optional
        With ``expression``: only users matching the tag expression may be
        seeds (e.g. ``"social/influencer & !feedback/detractor"``).
    expression : str, optional
        Tag expression (needs ``user_tags``).
    costs : pandas.Series, optional
        Cost per seed user (index = user id, positive); with ``budget`` the
        greedy step maximises gain per cost and skips users that no longer fit.
        Users without a cost cannot be seeds.
    budget : float, optional
        Total cost allowed (needs ``costs``).
    n_sets : int, default 20_000
        Reverse-reachable sets (more = less noise; the spread estimate's
        relative error is about ``1/sqrt(n_sets * coverage)``).
    random_state : int or None, default 0

    Returns
    -------
    pandas.DataFrame
        ``user_id, rank, gain`` (estimated extra users reached),
        ``spread`` (estimated cumulative spread) and ``cost`` when costs are given.

    Raises
    ------
    InvalidParameterError
        ``expression`` without ``user_tags``, ``budget`` without ``costs``, no
        eligible user, a bad ``k``/``n_sets``.

    Examples
    --------
    >>> import pandas as pd
    >>> edges = pd.DataFrame({"source": ["b", "c", "d", "y", "z"], "target": ["a", "a", "a", "x", "x"]})
    >>> select_seeds(SocialGraph.from_edges(edges), 2, probability=1.0, n_sets=2000)[["user_id", "rank"]]
      user_id  rank
    0       a     1
    1       x     2
    """
    k = check_int(k, "k", minimum=1, owner="select_seeds")
    n_sets = check_int(n_sets, "n_sets", minimum=1, owner="select_seeds")
    n = graph.n_users
    allowed = np.ones(n, dtype=bool)
    if candidates is not None:
        allowed[:] = False
        allowed[graph.index_of(np.asarray(list(candidates), dtype=object))] = True
    if expression is not None or user_tags is not None:
        if expression is None or user_tags is None:
            raise InvalidParameterError("select_seeds needs both 'user_tags' and 'expression', got one.")
        ids = pd.Index(np.asarray(user_tags.users_with(expression), dtype=object))
        allowed &= pd.Index(graph.user_ids).isin(ids)
    cost = None
    if budget is not None or costs is not None:
        if budget is None or costs is None:
            raise InvalidParameterError("select_seeds needs both 'costs' and 'budget', got one.")
        check_instance(costs, pd.Series, "costs must be a pandas.Series indexed by user id")
        budget = check_number(budget, "budget", low=0, low_inclusive=False, owner="select_seeds")
        cost = costs.reindex(pd.Index(graph.user_ids, dtype=object)).to_numpy(dtype=np.float64)
        known = costs.dropna()
        if (known <= 0).any() or not np.isfinite(known.to_numpy(dtype=float)).all():
            bad = known[(known <= 0) | ~np.isfinite(known.to_numpy(dtype=float))]
            raise InvalidValueError(f"costs must be finite and > 0; got {bad.head(3).to_dict()}.")
        allowed &= np.isfinite(cost)
    if not allowed.any():
        raise InvalidParameterError("select_seeds: no user is eligible as a seed (check candidates, "
                                    "expression and costs).")
    rng = _rng(random_state)
    pt = edge_probabilities(graph, probability).T.tocsr()  # reverse: who could have activated j
    roots = rng.integers(n, size=n_sets)
    set_id, node = _cascade(pt, np.arange(n_sets), roots, rng)
    cover = sp.csr_matrix((np.ones(set_id.size, dtype=np.float32), (node, set_id)), shape=(n, n_sets))
    cover_csc = cover.tocsc()
    covered = np.zeros(n_sets, dtype=bool)
    gains = np.asarray(cover.sum(axis=1)).ravel()
    spent = 0.0
    rows: list[tuple[int, float, float]] = []
    for _ in range(k):
        score = gains.copy()
        ok = allowed.copy()
        if cost is not None:
            ok &= np.where(np.isfinite(cost), cost, np.inf) <= budget - spent + 1e-12
            score = np.divide(score, cost, out=np.zeros(n), where=ok)
        score[~ok] = -1.0
        best = int(np.argmax(score))
        if score[best] <= 0:
            _log.info("select_seeds: stopped after %d seeds (no eligible user adds reach)", len(rows))
            break
        rows.append((best, float(gains[best]), 0.0 if cost is None else float(cost[best])))
        allowed[best] = False
        if cost is not None:
            spent += float(cost[best])
        sets = cover.indices[cover.indptr[best]:cover.indptr[best + 1]]
        sets = sets[~covered[sets]]
        covered[sets] = True
        # users covering the newly covered sets lose that much gain
        sub = cover_csc[:, sets]
        gains -= np.bincount(sub.indices, minlength=n)
    idx = np.array([r[0] for r in rows], dtype=np.int64)
    gain = np.array([r[1] for r in rows]) * n / n_sets
    out = pd.DataFrame({Columns.USER: graph.user_ids[idx], Columns.RANK: np.arange(1, idx.size + 1),
                        "gain": gain, "spread": np.cumsum(gain)})
    if cost is not None:
        out["cost"] = [r[2] for r in rows]
    return out


def compare_seeding(
    graph: SocialGraph,
    k: int,
    *,
    probability: float | str = "weighted_cascade",
    n_sets: int = 20_000,
    n_simulations: int = 1000,
    n_random: int = 5,
    random_state: int | None = 0,
    candidates: Any = None,
) -> pd.DataFrame:
    """Simulated spread of greedy (RIS) seeds against top-degree, top-PageRank and random seeds.

    Parameters
    ----------
    graph : SocialGraph
    k : int
        Seeds per strategy.
    probability : see :func:`edge_probabilities`
    n_sets : int, default 20_000
        RIS sets for the greedy strategy.
    n_simulations : int, default 1000
        Monte-Carlo runs per seed set (the same seed for every strategy).
    n_random : int, default 5
        Random seed sets averaged for the ``random`` row.
    random_state : int or None, default 0
    candidates : array-like, optional
        Restrict every strategy to these users.

    Returns
    -------
    pandas.DataFrame
        One row per strategy: ``strategy, k, spread, se`` (standard error of
        the mean over simulations; for ``random`` the mean over the sets).
    """
    k = check_int(k, "k", minimum=1, owner="compare_seeding")
    pool = (np.arange(graph.n_users) if candidates is None
            else np.unique(graph.index_of(np.asarray(list(candidates), dtype=object))))
    ids = graph.user_ids
    sim = dict(probability=probability, n_simulations=n_simulations, random_state=random_state)
    greedy = select_seeds(graph, k, probability=probability, n_sets=n_sets, random_state=random_state,
                          candidates=None if candidates is None else ids[pool])[Columns.USER]
    deg = graph.followers()[pool]
    top_deg = ids[pool[np.lexsort((pool, -deg))[:k]]]
    pr = graph.pagerank()[pool]
    top_pr = ids[pool[np.lexsort((pool, -pr))[:k]]]
    rows = []
    for name, seeds in (("greedy (RIS)", greedy), ("top followers", top_deg), ("top PageRank", top_pr)):
        r = simulate_spread(graph, seeds, **sim)
        rows.append({"strategy": name, "k": k, "spread": r["mean"], "se": r["se"]})
    rng = _rng(random_state)
    rand = [simulate_spread(graph, ids[rng.choice(pool, size=min(k, pool.size), replace=False)],
                            **sim)["mean"] for _ in range(n_random)]
    rows.append({"strategy": "random", "k": k, "spread": float(np.mean(rand)),
                 "se": float(np.std(rand, ddof=1) / np.sqrt(len(rand))) if len(rand) > 1 else 0.0})
    return pd.DataFrame(rows)
