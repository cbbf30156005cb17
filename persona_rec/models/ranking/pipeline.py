"""The two-stage :class:`CandidateRankingModel`: generators -> features -> reranker -> guard.

Fit, in order (every step logged on ``persona_rec.models.ranking``; progress
bars with ``verbose=True``):

1. **Describe the data** (:func:`~persona_rec.models.ranking.validation.data_kind`):
   informative timestamps? purchase log (repeats) or ratings-like?
2. **Internal split** (:func:`~persona_rec.models.ranking.validation.internal_split`):
   a time window on purchase logs, a per-user random holdout when timestamps
   tie or the data is ratings-like; label users sampled on large data.
3. **Generators** are fitted on the split's history; each generator's
   ``param_grid`` is tried and the configuration with the best NDCG@10 *of the
   generator alone* on the label users is kept.
4. **Candidates and features**: the union of every generator's top
   ``n_candidates`` per label user, with generator scores/ranks and the named
   feature sets computed at the split's reference time.
5. **Reranker** trained by cross-fitting over ``n_folds`` disjoint folds of
   label users (each fold model early-stops on held-out users of its own
   training part); the fold models' average serves.
6. **Guard**: the out-of-fold reranked lists are compared with every tuned
   generator alone on the same label users (NDCG@10). The reranker is served
   only when its paired gain over the best generator exceeds one standard
   error of the per-user differences; otherwise the best generator is served
   alone. The comparison is kept in ``guard_``.
7. **Refit** the chosen generator configurations on all the data; feature
   statistics are recomputed at the end of the data for serving.

Two tasks are handled separately on purchase logs: ``filter_seen=True``
("new": the user's own items excluded from candidates and labels) and
``filter_seen=False`` ("all": repeats allowed). On ratings-like data only the
"new" task is learned.

The module is one cohesive unit, :class:`CandidateRankingModel` (candidates,
internal validation, reranker training, guard, serving and ``explain``),
hence its length; generators, feature sets and rerankers live in their own
modules of this package.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..._arrays import csr_lookup, position_in_group
from ..._progress import get_logger, progress
from ..._validation import check_bool, check_choice, check_int, check_number
from ...columns import DAY_NS, Columns
from ...dataset import Dataset
from ...exceptions import InvalidDtypeError, InvalidParameterError
from .._request import RecommendRequest
from ..base import Recommender
from .features import FeatureContext, FeatureSet, RecentEvents, make_feature_sets
from .generators import BatchScores, CandidateGenerator, dense_scores, ndcg_per_row
from .reranker import LGBMReranker, Reranker
from .validation import data_kind, internal_split

if TYPE_CHECKING:
    from ...profiles import Profiles

__all__ = ["CandidateRankingModel", "DEFAULT_FEATURE_SETS", "RERANK"]

_log = get_logger(__name__)

#: Feature sets used when none are given.
DEFAULT_FEATURE_SETS: tuple[str, ...] = ("history", "user", "item", "profile_fit")
#: ``choice_`` value when the reranked lists are served.
RERANK = "rerank"
_MODES = ("all", "new")


def _batch_size(n_items: int, n_matrices: int) -> int:
    """Users per scoring batch: at most 2**25 scores (256 MB as float64) over the batch's matrices.

    ``n_matrices`` counts the generators that score users one by one (a
    popularity vector shared by every user costs nothing per user). Larger
    batches amortise the per-batch work (one call per generator, the union,
    the features): on a 1M x 100k shop, 83 users a batch instead of 33 served
    about 10% faster with identical lists.
    """
    return int(max(1, (1 << 25) // max(1, n_items * max(1, n_matrices))))


class CandidateRankingModel(Recommender):
    """Two-stage recommender: candidate generators, named feature sets, a reranker, a guard.

    Parameters
    ----------
    generators : sequence of CandidateGenerator
        Candidate sources (names must be unique).
    feature_sets : sequence of str, default ``("history", "user", "item", "profile_fit")``
        Named feature sets (see :mod:`persona_rec.models.ranking.features`):
        any of ``history``, ``user``, ``item``, ``profile``, ``profile_fit``,
        ``tags``. Generator scores and ranks are always features.
    reranker : Reranker, optional
        Default :class:`~persona_rec.models.ranking.reranker.LGBMReranker`
        (lambdarank). Any :class:`~persona_rec.models.ranking.reranker.SklearnReranker`
        works too (such a model cannot be saved).
    validation : {"auto", "time", "random"}, default "auto"
        Internal split (see :func:`~persona_rec.models.ranking.validation.internal_split`).
    window_days : float, default 30
        Label window of the time split and the "recent" feature window.
    holdout_fraction : float, default 0.2
        Share of each user's items held out by the random split.
    max_train_users : int, default 10000
        Label users sampled for the internal split on large data.
    n_folds : int, default 3
        Cross-fitting folds of the reranker (>= 2).
    max_train_rows : int, default 500000
        Cap on the candidate rows one fold's reranker trains on. Above it,
        negative rows (candidates that were not bought) are sampled uniformly
        (every positive row is kept); the rate is recorded in
        ``validation_["tasks"]``. Training time grows with rows; the cap only
        binds on large data (10,000 label users x ~150 candidates).
    refit_reranker : bool, default False
        When the reranker is served: serve one reranker refitted on every
        label user (with the fold models' mean number of boosting rounds)
        instead of the average of the ``n_folds`` fold models. A third of
        the prediction cost, but less accurate where measured (Online Retail
        next 30 days: NDCG@10 0.3807 vs 0.3871 on repeats, 0.1569 vs 0.1599
        on new items), so the average is the default. The guard judges the
        fold models' out-of-fold scores either way.
    guard : bool, default True
        Serve the best of reranker and single generators on the internal
        split. ``False`` always serves the reranker (for experiments).
    tune_generators : bool, default True
        Try each generator's ``param_grid``.
    use_sensitive : bool, default False
        Whether sensitive attributes may enter profile features.
    repeat_threshold : float, default 0.05
        Repeat share above which the data counts as a purchase log.
    random_state : int, default 0
    verbose : bool, default False
        Progress bars for the long steps.
    n_jobs : int, default 1
        Threads that score batches of users: the generators' candidates while
        tuning and fitting, and candidates, features and reranker when serving
        (a fitted model still serves concurrent ``recommend`` calls). The
        output does not depend on it. Two threads on two idle cores served
        10,000 users of a 200k-user shop in 6.3 s instead of 12.0 s.

    Attributes
    ----------
    generators_ : list of Recommender
        Fitted generator models (all data), in order.
    generator_names_ : list of str
    choice_ : dict
        Task (``"new"``, ``"all"``) -> ``"rerank"`` or the name of the
        generator served alone.
    guard_ : dict
        Task -> internal NDCG@10 of the reranker and of every generator.
    tuning_ : dict
        Generator -> tried parameters and their internal NDCG@10.
    validation_ : dict
        The internal split: kind, reason, sizes, data description.
    feature_names_ : list of str
    serve_as_of_day_ : float
        The serving reference time (end of the fit data + 1 s, days since the
        epoch): feature sets describe the data before it, and events passed
        to ``recommend(..., recent_events=)`` count as happening at it.

    Examples
    --------
    >>> from persona_rec.sample_data import synthetic
    >>> from persona_rec.models import ItemKNNRecommender, PopularRecommender
    >>> data = synthetic(n_users=300, n_items=120, n_events=12_000, random_state=0)
    >>> model = CandidateRankingModel(
    ...     [CandidateGenerator(ItemKNNRecommender(), 30),
    ...      CandidateGenerator(PopularRecommender(), 30)],
    ...     reranker=LGBMReranker(n_estimators=20)).fit(data.dataset)
    >>> sorted(model.guard_["new"])
    ['item_knn', 'popular', 'rerank']
    """

    serves_hot = True
    serves_warm = False
    serves_cold = False
    folds_recent_events = True
    default_name = "two_stage"
    #: Fewest users per thread when serving with ``n_jobs > 1``.
    _min_chunk_users = 500

    def __init__(
        self,
        generators: Sequence[CandidateGenerator],
        feature_sets: Sequence[str] = DEFAULT_FEATURE_SETS,
        reranker: Reranker | None = None,
        validation: str = "auto",
        window_days: float = 30.0,
        holdout_fraction: float = 0.2,
        max_train_users: int = 10_000,
        n_folds: int = 3,
        max_train_rows: int = 500_000,
        refit_reranker: bool = False,
        guard: bool = True,
        tune_generators: bool = True,
        use_sensitive: bool = False,
        repeat_threshold: float = 0.05,
        random_state: int = 0,
        verbose: bool = False,
        n_jobs: int = 1,
    ) -> None:
        owner = "CandidateRankingModel"
        gens = list(generators) if not isinstance(generators, CandidateGenerator) else None
        if not gens or not all(isinstance(g, CandidateGenerator) for g in gens):
            raise InvalidParameterError(
                f"The 'generators' parameter of {owner} must be a non-empty sequence of "
                f"CandidateGenerator, got {generators!r}."
            )
        names = [g.name for g in gens]
        if len(set(names)) != len(names):
            raise InvalidParameterError(
                f"{owner}: generator names must be unique, got {names}; pass name=... to "
                f"CandidateGenerator."
            )
        if RERANK in names:
            raise InvalidParameterError(f"{owner}: {RERANK!r} is reserved as a generator name.")
        # stored as given (scikit-learn's clone checks identity)
        self.generators = generators if isinstance(generators, (list, tuple)) else gens
        make_feature_sets(feature_sets)  # validates
        self.feature_sets = feature_sets
        if reranker is not None and not isinstance(reranker, Reranker):
            raise InvalidDtypeError(
                f"The 'reranker' parameter of {owner} must be a Reranker (LGBMReranker or "
                f"SklearnReranker), got {type(reranker).__name__}."
            )
        self.reranker = reranker
        self.validation = check_choice(validation, "validation", ("auto", "time", "random"),
                                       owner=owner)
        self.window_days = check_number(window_days, "window_days", low=0,
                                        low_inclusive=False, owner=owner)
        self.holdout_fraction = check_number(holdout_fraction, "holdout_fraction", low=0, high=1,
                                             low_inclusive=False, high_inclusive=False,
                                             owner=owner)
        self.max_train_users = check_int(max_train_users, "max_train_users", minimum=10,
                                         owner=owner)
        self.n_folds = check_int(n_folds, "n_folds", minimum=2, owner=owner)
        self.max_train_rows = check_int(max_train_rows, "max_train_rows", minimum=1_000,
                                        owner=owner)
        self.refit_reranker = check_bool(refit_reranker, "refit_reranker", owner=owner)
        self.guard = check_bool(guard, "guard", owner=owner)
        self.tune_generators = check_bool(tune_generators, "tune_generators", owner=owner)
        self.use_sensitive = check_bool(use_sensitive, "use_sensitive", owner=owner)
        self.verbose = check_bool(verbose, "verbose", owner=owner)
        self.repeat_threshold = check_number(repeat_threshold, "repeat_threshold", low=0,
                                             high=1, owner=owner)
        self.random_state = check_int(random_state, "random_state", minimum=0, owner=owner)
        self.n_jobs = check_int(n_jobs, "n_jobs", minimum=1, owner=owner)

    # ------------------------------------------------------------ config
    def _json_params(self) -> dict[str, Any]:
        rr = self.reranker
        if rr is not None and not isinstance(rr, LGBMReranker):
            raise InvalidDtypeError(
                f"{type(self).__name__} with a {type(rr).__name__} cannot be saved; only "
                f"LGBMReranker models have a pickle-free file format."
            )
        params = self.get_params(deep=False)
        params["generators"] = [
            {"class": type(g.model).__qualname__, "params": g.model._json_params(),
             "n_candidates": g.n_candidates, "name": g.name, "param_grid": g.param_grid}
            for g in self.generators
        ]
        params["feature_sets"] = list(self.feature_sets)
        params["reranker"] = None if rr is None else rr.get_params()
        return params

    @classmethod
    def _from_json_params(cls, params: dict[str, Any]) -> CandidateRankingModel:
        from ..persistence import registered_models

        params = dict(params)
        gens = []
        for g in params["generators"]:
            klass = registered_models().get(g["class"])
            if klass is None:
                raise InvalidParameterError(f"unknown generator class {g['class']!r}.")
            gens.append(CandidateGenerator(klass._from_json_params(g["params"]),
                                           g["n_candidates"], g["name"], g["param_grid"]))
        params["generators"] = gens
        if params.get("reranker") is not None:
            params["reranker"] = LGBMReranker(**params["reranker"])
        return cls(**params)

    def clone(self) -> CandidateRankingModel:
        """An unfitted copy with the same configuration (generators' ``fit_params`` kept)."""
        gens = [CandidateGenerator(g.model.clone(), g.n_candidates, g.name, g.param_grid,
                                   g.fit_params) for g in self.generators]
        reranker = None if self.reranker is None else self.reranker.clone()
        return type(self)(**{**self.get_params(), "generators": gens, "reranker": reranker})

    def _make_reranker(self) -> Reranker:
        base = self.reranker if self.reranker is not None else LGBMReranker(
            random_state=self.random_state)
        return base.clone()

    # --------------------------------------------------------- candidates
    def _map_batches(self, users: np.ndarray, n_items: int, desc: str,
                     models: list[Recommender], fn: Any, n_jobs: int | None = None) -> list[Any]:
        """``fn(start, users[start:start + size])`` for every batch of users, in order.

        With ``n_jobs > 1`` the batches run on a pool of threads (the work is
        numpy, scipy, BLAS and LightGBM calls that release the GIL; the fitted
        models are only read), and the results keep the batch order, so the
        output does not depend on ``n_jobs``.
        """
        size = _batch_size(n_items, sum(m._shared_scores() is None for m in models))
        starts = range(0, len(users), size)
        n_jobs = self.n_jobs if n_jobs is None else n_jobs

        def run(start: int) -> Any:
            return fn(start, users[start:start + size])

        if n_jobs <= 1 or len(starts) <= 1:
            results = map(run, starts)
            return list(progress(results, verbose=self.verbose, desc=desc, total=len(starts)))
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            return list(progress(pool.map(run, starts), verbose=self.verbose, desc=desc,
                                 total=len(starts)))

    def _candidates(self, models: list[Recommender], n_cands: list[int], users: np.ndarray,
                    seen: sp.csr_matrix | None, label_keys: np.ndarray | None,
                    n_items: int, desc: str,
                    request: RecommendRequest | None = None,
                    n_jobs: int | None = None) -> dict[str, Any]:
        """Union of the generators' top-n for ``users`` with generator features.

        Returns ``u, i`` (internal pairs, grouped by user in ``users`` order),
        ``G`` (generator features) and, with ``label_keys``, ``hit`` and each
        generator's own ranked list (``gen_rows``, ``gen_hits``). ``seen``
        (when given) removes each user's history from every list. A serving
        ``request`` with recent events (``recommend(..., recent_events=)``)
        passes them to the generators and adds them to ``seen``.
        """
        return self._candidates_tasks(models, n_cands, users, seen,
                                      [(seen is not None, label_keys)], n_items, desc,
                                      request, n_jobs)[0]

    def _candidates_tasks(self, models: list[Recommender], n_cands: list[int],
                          users: np.ndarray, seen: sp.csr_matrix | None,
                          tasks: list[tuple[bool, np.ndarray | None]],
                          n_items: int, desc: str,
                          request: RecommendRequest | None = None,
                          n_jobs: int | None = None) -> list[dict[str, Any]]:
        """:meth:`_candidates` for several ``(filter_seen, label_keys)`` tasks from one scoring pass.

        Each generator scores a batch of users once; the tasks that keep the
        users' history come first, then ``seen`` is masked in place for the
        tasks that filter it (so the generators' scoring, the dominant cost,
        is shared).
        """
        n_gen = len(models)
        order_t = sorted(range(len(tasks)), key=lambda t: tasks[t][0])

        def new_acc() -> list[dict[str, list[Any]]]:
            return [{"u": [], "i": [], "G": [], "hit": [],
                     "gen_rows": [[] for _ in range(n_gen)],
                     "gen_hits": [[] for _ in range(n_gen)]} for _ in tasks]

        def one_batch(start: int, ub: np.ndarray) -> list[dict[str, list[Any]]]:
            part = new_acc()
            mats = [BatchScores(m, ub, request) for m in models]
            masked = False
            for t in order_t:
                filter_seen, label_keys = tasks[t]
                if filter_seen and not masked:
                    seen_rows = seen[ub] if request is None or request.recent is None else \
                        self._history(ub, request)
                    for s_ in mats:
                        s_.mask(seen_rows)
                    masked = True
                self._batch_candidates(mats, n_cands, ub, start, label_keys, n_items, part[t])
            return part

        acc = new_acc()
        for part in self._map_batches(users, n_items, desc, models, one_batch, n_jobs):
            for a, p in zip(acc, part):  # batches in order: the output ignores n_jobs
                for key in ("u", "i", "G", "hit"):
                    a[key].extend(p[key])
                for key in ("gen_rows", "gen_hits"):
                    for g in range(n_gen):
                        a[key][g].extend(p[key][g])
        out = []
        for a, (_, label_keys) in zip(acc, tasks):
            res: dict[str, Any] = {
                "u": np.concatenate(a["u"]) if a["u"] else np.zeros(0, np.int64),
                "i": np.concatenate(a["i"]) if a["i"] else np.zeros(0, np.int64),
                "G": np.vstack(a["G"]) if a["G"] else np.zeros((0, 3 * n_gen), np.float32),
            }
            if label_keys is not None:
                res["hit"] = np.concatenate(a["hit"]) if a["hit"] else np.zeros(0, bool)
                res["gen_rows"] = [np.concatenate(x) if x else np.zeros(0, np.int64)
                                   for x in a["gen_rows"]]
                res["gen_hits"] = [np.concatenate(x) if x else np.zeros(0, bool)
                                   for x in a["gen_hits"]]
            out.append(res)
        return out

    @staticmethod
    def _batch_candidates(mats: list[BatchScores], n_cands: list[int], ub: np.ndarray,
                          start: int, label_keys: np.ndarray | None, n_items: int,
                          acc: dict[str, list[Any]]) -> None:
        """Candidates and generator features of one batch of users (appended to ``acc``)."""
        n_gen = len(mats)
        tops = [s.top(n) for s, n in zip(mats, n_cands)]
        keys = np.unique(np.concatenate([r * n_items + c for r, c in tops]))
        r, c = np.divmod(keys, n_items)
        feats = np.empty((len(r), 3 * n_gen), dtype=np.float32)
        for g, (s, (tr, tc)) in enumerate(zip(mats, tops)):
            sc = s.at(r, c)
            fin = np.isfinite(sc)
            sc_f = np.where(fin, sc, 0.0)
            n_f = np.bincount(r, weights=fin.astype(float), minlength=len(ub))
            mean = np.bincount(r, weights=sc_f, minlength=len(ub)) / np.maximum(n_f, 1)
            var = np.bincount(r, weights=np.where(fin, (sc_f - mean[r]) ** 2, 0.0),
                              minlength=len(ub)) / np.maximum(n_f, 1)
            z = np.where(fin, (sc_f - mean[r]) / (np.sqrt(var[r]) + 1e-9), np.nan)
            # rank in the generator's own list (1-based), NaN when not proposed
            tk = tr * n_items + tc
            pos = position_in_group(tr)
            order = np.argsort(tk)
            idx = np.searchsorted(tk[order], keys)
            idx = np.minimum(idx, max(len(tk) - 1, 0))
            found = (tk[order][idx] == keys) if len(tk) else np.zeros(len(keys), bool)
            rank = np.where(found, pos[order][idx] + 1.0, np.nan) if len(tk) else \
                np.full(len(keys), np.nan)
            feats[:, 3 * g] = np.where(fin, sc, np.nan)
            feats[:, 3 * g + 1] = z
            feats[:, 3 * g + 2] = rank
            if label_keys is not None:
                gk = ub[tr] * n_items + tc
                acc["gen_rows"][g].append(tr + start)
                acc["gen_hits"][g].append(np.isin(gk, label_keys))
        gu = ub[r]
        acc["u"].append(gu)
        acc["i"].append(c)
        acc["G"].append(feats)
        if label_keys is not None:
            acc["hit"].append(np.isin(gu * n_items + c, label_keys))

    def _generator_feature_names(self, names: list[str]) -> list[str]:
        return [f"{n}:{kind}" for n in names for kind in ("score", "z", "rank")]

    def _feature_matrix(self, cand: dict[str, Any], states: list[dict[str, Any]],
                        sets: list[FeatureSet],
                        rows: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
        """Generator features plus every set's block; ``rows`` replaces ``cand["u"]``."""
        blocks = [cand["G"]]
        names: list[str] = []
        u = cand["u"] if rows is None else rows
        for fs, st in zip(sets, states):
            n, x = fs.transform(st, u, cand["i"])
            blocks.append(x.astype(np.float32))
            names.extend(n)
        return np.hstack(blocks), names

    # ------------------------------------------------------------- fitting
    def _evaluate_alone(self, model: Recommender, users: np.ndarray, seen: sp.csr_matrix,
                        label_keys: dict[str, np.ndarray], n_labels: dict[str, np.ndarray],
                        n_items: int) -> dict[str, float]:
        """Mean NDCG@10 of one generator alone per task on the label users."""
        modes = sorted(label_keys, key=lambda m: m == "new")  # "all" before masking
        rows_l: dict[str, list[np.ndarray]] = {m: [] for m in modes}
        hits_l: dict[str, list[np.ndarray]] = {m: [] for m in modes}

        def one_batch(start: int, ub: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
            s = BatchScores(model, ub)  # scored once, shared by the tasks
            part = {}
            for mode in modes:
                if mode == "new":
                    s.mask(seen[ub])
                r, c = s.top(10)
                part[mode] = (r + start, np.isin(ub[r] * n_items + c, label_keys[mode]))
            return part

        for part in self._map_batches(users, n_items, "tuning", [model], one_batch):
            for mode in modes:
                rows_l[mode].append(part[mode][0])
                hits_l[mode].append(part[mode][1])
        out = {}
        for mode in label_keys:
            nd = ndcg_per_row(np.concatenate(rows_l[mode]), np.concatenate(hits_l[mode]),
                              len(users), n_labels[mode])
            out[mode] = float(np.nanmean(nd)) if np.isfinite(nd).any() else float("nan")
        return out

    def _fit(self, dataset: Dataset, profiles: Profiles | None) -> None:
        n_items = dataset.n_items
        kind = data_kind(dataset, self.repeat_threshold)
        modes = ("all", "new") if kind["purchase_log"] else ("new",)
        split = internal_split(dataset, method=self.validation, kind=kind,
                               window_days=self.window_days,
                               holdout_fraction=self.holdout_fraction,
                               max_users=self.max_train_users, random_state=self.random_state)
        _log.info("%s: %s split, %d label users, %d label pairs (%s)", type(self).__name__,
                  split.kind, len(split.users), len(split.label_keys), split.info["reason"])
        hist = split.history
        seen = hist.get_user_item_matrix(binary=True)
        users = split.users
        lu, li = np.divmod(split.label_keys, n_items)
        lab_seen = np.asarray(seen[lu, li]).ravel() > 0 if len(lu) else np.zeros(0, bool)
        label_keys = {"all": split.label_keys, "new": split.label_keys[~lab_seen]}
        label_keys = {m: label_keys[m] for m in modes}
        pos_of = np.full(dataset.n_users, -1, dtype=np.int64)
        pos_of[users] = np.arange(len(users))
        n_labels = {m: np.bincount(pos_of[k // n_items], minlength=len(users)).astype(float)
                    for m, k in label_keys.items()}

        # 1) generators: tune on the internal split, keep the best fitted on history
        primary = modes[0]
        fitted, tuning, best_params = [], {}, []
        for g in self.generators:
            configs = g.configs() if self.tune_generators else g.configs()[:1]
            best: tuple[float, Recommender, dict[str, Any], dict[str, Any]] | None = None
            tried = []
            for params in configs:
                model = g.fit(params, hist)
                score = self._evaluate_alone(model, users, seen, label_keys, n_labels, n_items)
                override = {k: v for p in (g.param_grid or []) for k, v in params.items()
                            if k in p}
                tried.append({"params": override, **{f"ndcg_{m}": round(v, 5)
                                                     for m, v in score.items()}})
                key = score[primary] if np.isfinite(score[primary]) else -1.0
                if best is None or key > best[0]:
                    best = (key, model, params, override)
            assert best is not None
            _log.info("generator %s: best internal NDCG@10 %.4f with %s", g.name, best[0],
                      best[3])
            tuning[g.name] = tried
            fitted.append(best[1])
            best_params.append(best[2])
        names = [g.name for g in self.generators]
        n_cands = [g.n_candidates for g in self.generators]

        # 2) feature states at the split's reference time
        sets = make_feature_sets(self.feature_sets)
        ctx = FeatureContext(hist, split.as_of, time_informative=kind["time_informative"],
                             window_days=self.window_days, use_sensitive=self.use_sensitive)
        states = [fs.state(ctx) for fs in sets]

        # 3) per task: candidates, features, cross-fitted reranker, guard
        rankers: dict[str, list[Reranker]] = {}
        choice: dict[str, str] = {}
        guard: dict[str, dict[str, float]] = {}
        sizes: dict[str, dict[str, int]] = {}
        feat_names: list[str] = []
        cands = dict(zip(modes, self._candidates_tasks(
            fitted, n_cands, users, seen, [(m == "new", label_keys[m]) for m in modes],
            n_items, "candidates")))
        for mode in modes:
            cand = cands.pop(mode)
            X, set_names = self._feature_matrix(cand, states, sets)
            feat_names = self._generator_feature_names(names) + set_names
            y = cand["hit"].astype(np.int8)
            grp = pos_of[cand["u"]]
            per_user = {n: ndcg_per_row(cand["gen_rows"][g], cand["gen_hits"][g], len(users),
                                        n_labels[mode]) for g, n in enumerate(names)}
            sizes[mode] = {"candidates": int(len(y)), "positives": int(y.sum()),
                           "labels": int(n_labels[mode].sum()),
                           "label_recall": round(float(y.sum() / max(n_labels[mode].sum(), 1)),
                                                 4)}
            models, oof, neg_rate, trainable = self._cross_fit(X, y, grp)
            sizes[mode]["negative_sample_rate"] = round(neg_rate, 4)
            if models:
                order = np.lexsort((-oof, grp))
                per_user[RERANK] = ndcg_per_row(grp[order], y[order].astype(bool), len(users),
                                                n_labels[mode])
            has = n_labels[mode] > 0
            scores = {k: float(np.mean(v[has])) if has.any() else float("nan")
                      for k, v in per_user.items()}
            if RERANK not in scores:
                scores[RERANK] = float("nan")
            guard[mode] = {k: round(v, 5) for k, v in scores.items()}
            gen_scores = {k: v for k, v in scores.items() if k != RERANK and np.isfinite(v)}
            best_gen = max(gen_scores, key=lambda k: gen_scores[k]) if gen_scores else names[0]
            choice[mode] = best_gen
            if models and (not self.guard or self._reranker_wins(
                    per_user[RERANK][has], per_user[best_gen][has] if gen_scores else None)):
                choice[mode] = RERANK
            if choice[mode] == RERANK and self.refit_reranker:
                models = [self._refit_reranker(X, y, grp, trainable, models)]
            rankers[mode] = models if choice[mode] == RERANK else []
            _log.info("task %s: guard %s -> serving %s", mode, guard[mode], choice[mode])
            del X, cand

        # 4) refit generators on all the data; serving feature states at the end of the data
        self.generators_ = [g.fit(p, dataset) for g, p in zip(self.generators,
                                                                    best_params)]
        self.generator_names_ = names
        self.n_candidates_ = np.asarray(n_cands, dtype=np.int64)
        end = dataset.internal_interactions[Columns.TIMESTAMP].to_numpy().max()
        serve_ctx = FeatureContext(dataset, np.datetime64(end, "ns") + np.timedelta64(1, "s"),
                                   time_informative=kind["time_informative"],
                                   window_days=self.window_days,
                                   use_sensitive=self.use_sensitive)
        self.serve_as_of_day_ = serve_ctx.as_of_day
        self._sets = sets
        self._states = [fs.state(serve_ctx) for fs in sets] if any(
            choice[m] == RERANK for m in modes) else [{} for _ in sets]
        self._rankers = rankers
        self.modes_ = list(modes)
        self.choice_ = choice
        self.guard_ = guard
        self.tuning_ = tuning
        self.feature_names_ = feat_names
        self.validation_ = {**split.info, "tasks": sizes,
                            "time_informative": kind["time_informative"],
                            "purchase_log": kind["purchase_log"]}

    @staticmethod
    def _reranker_wins(rerank: np.ndarray, best: np.ndarray | None) -> bool:
        """Whether the reranker beats the best generator beyond noise.

        Paired over label users: the mean NDCG@10 gain must exceed one standard
        error of the per-user differences, so on few users a near-tie goes to
        the simpler model (the generator alone).
        """
        if best is None:
            return True
        d = rerank - best
        if len(d) < 2:
            return bool(d.mean() > 0) if len(d) else False
        return bool(d.mean() > d.std(ddof=1) / np.sqrt(len(d)))

    def _refit_reranker(self, X: np.ndarray, y: np.ndarray, grp: np.ndarray,
                        trainable: np.ndarray, folds: list[Reranker]) -> Reranker:
        """One reranker on every trainable row, with the folds' mean number of boosting rounds."""
        model = self._make_reranker()
        rounds = [getattr(m, "best_iteration_", None) for m in folds]
        if isinstance(model, LGBMReranker) and all(r is not None for r in rounds):
            model.n_estimators = max(1, int(round(float(np.mean(rounds)))))
        _log.info("reranker: refit on %d rows (%s rounds)", int(trainable.sum()),
                  getattr(model, "n_estimators", "-"))
        return model.fit(X[trainable], y[trainable], grp[trainable])

    def _cross_fit(self, X: np.ndarray, y: np.ndarray, grp: np.ndarray
                   ) -> tuple[list[Reranker], np.ndarray, float, np.ndarray]:
        """Reranker per fold (trained on the other folds), out-of-fold scores, negative rate,
        and the rows a reranker may train on (label users with a positive, sampled)."""
        oof = np.full(len(y), np.nan)
        uniq = np.unique(grp)
        pos_users = np.unique(grp[y > 0])
        if len(pos_users) < 2 * self.n_folds or (y > 0).all():
            return [], oof, 1.0, np.zeros(len(y), dtype=bool)
        rng = np.random.default_rng(self.random_state)
        fold_of = rng.permutation(len(uniq)) % self.n_folds
        fold = fold_of[np.searchsorted(uniq, grp)]
        trainable = np.isin(grp, pos_users)
        # negative sampling: one fold trains on about (n_folds - 1) / n_folds of the rows
        n_train = trainable.sum() * (self.n_folds - 1) / self.n_folds
        n_pos = (y[trainable] > 0).sum() * (self.n_folds - 1) / self.n_folds
        neg_rate = 1.0
        if n_train > self.max_train_rows:
            neg_rate = float(max(self.max_train_rows - n_pos, 1) / max(n_train - n_pos, 1))
            neg_rate = min(1.0, neg_rate)
            trainable &= (y > 0) | (rng.random(len(y)) < neg_rate)
            _log.info("reranker: %d candidate rows per fold > max_train_rows=%d; negatives "
                      "sampled at rate %.3f", int(n_train), self.max_train_rows, neg_rate)
        models: list[Reranker] = []
        for f in progress(range(self.n_folds), verbose=self.verbose, desc="reranker folds"):
            tr = (fold != f) & trainable
            tr_users = np.unique(grp[tr])
            es_users = rng.choice(tr_users, size=max(1, int(round(0.15 * len(tr_users)))),
                                  replace=False)
            es = tr & np.isin(grp, es_users)
            fit = tr & ~es
            model = self._make_reranker().fit(X[fit], y[fit], grp[fit], X[es], y[es], grp[es])
            test = fold == f
            oof[test] = model.predict(X[test])
            models.append(model)
        return models, oof, neg_rate, trainable

    # ------------------------------------------------------------- scoring
    def _mode(self, request: RecommendRequest) -> str:
        return "all" if (not request.filter_seen and "all" in self.modes_) else "new"

    def _rerank_scores(self, mode: str, cand: dict[str, Any],
                       user_idx: np.ndarray | None = None,
                       request: RecommendRequest | None = None) -> np.ndarray:
        states, rows = self._serving_states(cand["u"], user_idx, request)
        X, _ = self._feature_matrix(cand, states, self._sets, rows)
        return np.mean([m.predict(X) for m in self._rankers[mode]], axis=0)

    def _serving_states(self, cand_u: np.ndarray, user_idx: np.ndarray | None,
                        request: RecommendRequest | None
                        ) -> tuple[list[dict[str, Any]], np.ndarray | None]:
        """Feature states for one call: the fitted ones, or with the call's recent events folded.

        With recent events (``recommend(..., recent_events=)``) every set's
        user rows are restricted to the call's users (no copy of the fitted
        state) and :meth:`FeatureSet.fold` adds the events; returns the states
        and each candidate's row in them (``None``: fitted user indices).
        """
        recent = None if request is None else request.recent
        if recent is None or user_idx is None:
            return self._states, None
        users = np.unique(user_idx)
        r = recent.rows(users)
        if not (r >= 0).any():
            return self._states, None
        ev = recent.events
        ev_rows = np.searchsorted(users, ev[Columns.USER_IDX].to_numpy(np.int64))
        ok = ev_rows < len(users)
        ok[ok] = users[ev_rows[ok]] == ev[Columns.USER_IDX].to_numpy(np.int64)[ok]
        items = ev[Columns.ITEM_IDX].to_numpy(np.int64)[ok]
        uid = ev[Columns.USER_IDX].to_numpy(np.int64)[ok]
        if Columns.TIMESTAMP in ev.columns:
            days = ev[Columns.TIMESTAMP].to_numpy().astype("datetime64[ns]")[ok].astype(
                np.int64) / DAY_NS
        else:
            days = np.full(len(items), np.nan)
        hist = self.user_items_
        known = uid < hist.shape[0]
        seen_before = np.zeros(len(uid), dtype=bool)
        seen_before[known] = csr_lookup(hist, uid[known], items[known]) > 0
        events = RecentEvents(ev_rows[ok], items, days,
                              ev[Columns.WEIGHT].to_numpy(np.float64)[ok],
                              n_rows=len(users), as_of_day=self._serve_as_of_day(),
                              time_informative=bool(self.validation_.get("time_informative")),
                              seen_before=seen_before)
        states = [fs.fold(fs.user_rows(st, users), events)
                  for fs, st in zip(self._sets, self._states)]
        return states, np.searchsorted(users, cand_u)

    def _serve_as_of_day(self) -> float:
        """The serving reference time in days since the epoch (end of the fit data + 1 s)."""
        if not hasattr(self, "serve_as_of_day_"):  # a file saved before recent_events
            raise InvalidParameterError(
                f"this {type(self).__name__} was saved by an older version without its "
                f"serving time; refit it to use recent_events.")
        return float(self.serve_as_of_day_)

    def _reranked(self, user_idx: np.ndarray, request: RecommendRequest,
                  mode: str) -> sp.csr_matrix:
        """The users' candidates with their reranked scores in ``(1, 2)``, as a CSR matrix.

        With ``n_jobs > 1`` the users are split into ``n_jobs`` chunks scored
        on a pool of threads (candidates, features and reranker per chunk);
        the rows are the same as with one thread.
        """
        n_jobs = getattr(self, "n_jobs", 1)
        if n_jobs > 1 and len(user_idx) >= n_jobs * self._min_chunk_users:
            chunks = np.array_split(user_idx, n_jobs)
            with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                parts = list(pool.map(lambda u: self._reranked_chunk(u, request, mode, 1),
                                      chunks))
            return sp.csr_matrix(sp.vstack(parts, format="csr"))
        return self._reranked_chunk(user_idx, request, mode, None)

    def _reranked_chunk(self, user_idx: np.ndarray, request: RecommendRequest, mode: str,
                        n_jobs: int | None) -> sp.csr_matrix:
        n_items = len(self.item_map_)
        cand = self._candidates(self.generators_, list(self.n_candidates_), user_idx,
                                self.user_items_ if request.filter_seen else None, None,
                                n_items, "recommend", request, n_jobs)
        s = self._rerank_scores(mode, cand, user_idx, request)
        row = np.searchsorted(user_idx, cand["u"]) if np.all(np.diff(user_idx) > 0) else \
            pd.Index(user_idx).get_indexer(cand["u"])
        return sp.csr_matrix((1.5 + np.arctan(s) / np.pi, (row, cand["i"])),
                             shape=(len(user_idx), n_items))

    def _sparse_scores(self, user_idx: np.ndarray,
                       request: RecommendRequest) -> sp.csr_matrix | None:
        """Reranked candidates only (no dense users x items matrix) when the reranker serves."""
        self._check_request(request)
        mode = self._mode(request)
        if self.choice_[mode] != RERANK:
            return None
        return self._reranked(np.asarray(user_idx, dtype=np.int64), request, mode)

    def _check_request(self, request: RecommendRequest) -> None:
        if request.dataset is not None:
            raise InvalidParameterError(
                f"{type(self).__name__} scores users from its fitted data; refit it on the "
                f"newer Dataset instead of passing dataset= to recommend."
            )

    def _score(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        self._check_request(request)
        mode = self._mode(request)
        chosen = self.choice_[mode]
        user_idx = np.asarray(user_idx, dtype=np.int64)
        if chosen != RERANK:
            return dense_scores(self.generators_[self.generator_names_.index(chosen)], user_idx,
                                request)
        pop = self.item_popularity_
        out = np.where(pop > 0, -1.0 + pop / (pop.max() + 1.0), -np.inf)
        out = np.repeat(out[None, :], len(user_idx), axis=0)
        mat = self._reranked(user_idx, request, mode)  # candidates above the fill
        out[np.repeat(np.arange(len(user_idx)), np.diff(mat.indptr)), mat.indices] = mat.data
        return out

    # ------------------------------------------------------------ explain
    def explain(self, recommendations: pd.DataFrame, filter_seen: bool = True,
                n_features: int = 3) -> pd.DataFrame:
        """Which generators proposed each row and the features that pushed it up.

        Parameters
        ----------
        recommendations : pandas.DataFrame
            Output of :meth:`recommend` (``user_id``, ``item_id``).
        filter_seen : bool, default True
            The ``filter_seen`` the rows were produced with (selects the task).
        n_features : int, default 3
            Top positive feature contributions (LightGBM ``pred_contrib``) listed.

        Returns
        -------
        pandas.DataFrame
            A copy with ``proposed_by`` (generator names, ``;``-joined) and
            ``top_features`` (``name=+contribution`` ...; empty when a generator
            was served alone or the row is not a candidate).
        """
        self._check_fitted()
        reco = recommendations.copy()
        reco["proposed_by"] = ""
        reco["top_features"] = ""
        if len(reco) == 0:
            return reco
        n_items = len(self.item_map_)
        mode = "all" if (not filter_seen and "all" in self.modes_) else "new"
        u = self.user_map_.to_internal(reco[Columns.USER].to_numpy(), strict=False)
        i = self.item_map_.to_internal(reco[Columns.ITEM].to_numpy(), strict=False)
        ok = (u >= 0) & (i >= 0)
        users = np.unique(u[ok])
        if not len(users):
            return reco
        cand = self._candidates(self.generators_, list(self.n_candidates_), users,
                                self.user_items_ if filter_seen else None, None, n_items,
                                "explain")
        ck = cand["u"] * n_items + cand["i"]
        order = np.argsort(ck)
        q = u * n_items + i
        pos = np.minimum(np.searchsorted(ck[order], q), max(len(ck) - 1, 0))
        found = ok & (ck[order][pos] == q) if len(ck) else np.zeros(len(q), bool)
        rows = order[pos[found]]
        n_gen = len(self.generator_names_)
        ranks = cand["G"][rows][:, 2::3][:, :n_gen]
        names = np.asarray(self.generator_names_, dtype=object)
        proposed = [";".join(names[np.isfinite(r)]) for r in ranks]  # k rows per user
        col = reco.columns.get_loc("proposed_by")
        reco.iloc[np.flatnonzero(found), col] = proposed
        if self.choice_[mode] == RERANK and self._rankers.get(mode) and len(rows):
            sub = {k: (v[rows] if isinstance(v, np.ndarray) else v) for k, v in cand.items()}
            X, _ = self._feature_matrix(sub, self._states, self._sets)
            contrib = np.mean([m.contributions(X) for m in self._rankers[mode]
                               if hasattr(m, "contributions")], axis=0)[:, :-1]
            top = np.argsort(-contrib, axis=1)[:, :n_features]
            fn = np.asarray(self.feature_names_, dtype=object)
            text = [", ".join(f"{fn[j]}={contrib[r, j]:+.3f}" for j in top[r]
                              if contrib[r, j] > 0) for r in range(len(rows))]
            reco.iloc[np.flatnonzero(found), reco.columns.get_loc("top_features")] = text
        return reco

    # -------------------------------------------------------- persistence
    def _learned_state(self) -> dict[str, Any]:
        state = super()._learned_state()
        for mode, models in self._rankers.items():
            state[f"rankers__{mode}_"] = np.asarray(
                [m.to_text() for m in models] if models and all(
                    getattr(m, "persistable", False) for m in models) else [], dtype=str)
            if models and not all(getattr(m, "persistable", False) for m in models):
                raise InvalidDtypeError(
                    f"{type(self).__name__}: a {type(models[0]).__name__} reranker cannot be "
                    f"saved; use LGBMReranker.")
        for fs, st in zip(self._sets, self._states):
            for key, val in st.items():
                state[f"fstate__{fs.name}__{key}_"] = val
        return state

    def _after_load(self) -> None:
        self._sets = make_feature_sets(self.feature_sets)
        states: dict[str, dict[str, Any]] = {fs.name: {} for fs in self._sets}
        rankers: dict[str, list[Reranker]] = {}
        for key in list(vars(self)):
            if key.startswith("fstate__"):
                _, set_name, name = key[:-1].split("__", 2)
                states[set_name][name] = getattr(self, key)
                delattr(self, key)
            elif key.startswith("rankers__"):
                mode = key[len("rankers__"):-1]
                rankers[mode] = [LGBMReranker.from_text(str(t)) for t in getattr(self, key)]
                delattr(self, key)
        self._states = [states[fs.name] for fs in self._sets]
        self._rankers = rankers
