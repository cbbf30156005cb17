"""The flagship :class:`PersonaRecommender`: a zero-configuration two-stage preset.

How it works
------------
``PersonaRecommender(random_state=0).fit(dataset)`` wires, from the data's
size and kind, the composable parts of :mod:`persona_rec.models.ranking`:

1. **Candidate generators** (recorded in ``generators_plan_``): ALS with a
   small regularisation/confidence grid; EASE with a regularisation grid when
   the catalogue fits ``max_ease_items`` (a dense item x item model; skipped
   on large catalogues); BM25 item-kNN; on purchase logs the
   :class:`~persona_rec.models.RepurchaseRecommender` (buy-again with learned
   repurchase probabilities) and the plain
   :class:`~persona_rec.models.BuyAgainRecommender`; recent popularity (all-time popularity when
   timestamps are not informative). Each generator's grid is tuned on the
   internal validation split.
2. **Features**: generator scores and ranks plus the named feature sets
   (default: the user's history with the item, user activity, item
   statistics and the profile fit of user x item: affinity to the item's
   category path, brand and price band from the user's profile).
3. **Reranker**: LightGBM, cross-fitted over disjoint folds of internal users.
4. **Guard**: the reranked lists are served only when they beat every tuned
   generator alone on the internal split; otherwise the best generator is
   served. ``guard_`` holds the comparison.
5. **Fallback chain** (:class:`~persona_rec.models.FallbackChain`, the one
   fallback mechanism): users with interactions -> the two-stage model;
   attribute-only users -> the better (on held-out users, ``warm_guard_``) of
   an attributes-to-items ridge and segment popularity; everyone else and
   every list short of ``k`` -> popularity. The ``source`` column names the
   link: ``persona:ranker``, ``persona:attributes``, ``persona:segment`` or
   ``persona:popular``.

:meth:`PersonaRecommender.explain` says which generators proposed each row,
the features that pushed it up and the user's matching profile tags.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._progress import get_logger
from .._text import category_parts
from .._validation import (
    check_bool,
    check_choice,
    check_frame,
    check_instance,
    check_int,
    check_number,
)
from ..columns import PURCHASE_EVENTS, Columns
from ..dataset import Dataset
from ..exceptions import NotFittedError
from ..persistence import Learned
from .attributes import AttributeRecommender
from ._request import RecommendRequest
from .base import Recommender
from .ease import EASERecommender
from .fallback import FallbackChain
from .knn import ItemKNNRecommender
from .matrix_factorization import ALSRecommender
from .popular import PopularRecommender, SegmentPopularRecommender
from .ranking import CandidateGenerator, CandidateRankingModel, data_kind
from .ranking.generators import ndcg_per_row, top_n
from .ranking.pipeline import DEFAULT_FEATURE_SETS
from .repurchase import BuyAgainRecommender, RepurchaseRecommender

if TYPE_CHECKING:
    from ..profiles import Profiles

__all__ = ["PersonaRecommender", "SOURCE_RANKER", "SOURCE_ATTRIBUTES", "SOURCE_SEGMENT",
           "SOURCE_POPULAR"]

_log = get_logger(__name__)

#: Above this many events the preset switches to its large-data settings (a smaller ALS grid).
LARGE_EVENTS = 2_000_000

SOURCE_RANKER = "persona:ranker"
SOURCE_ATTRIBUTES = "persona:attributes"
SOURCE_SEGMENT = "persona:segment"
SOURCE_POPULAR = "persona:popular"


def _category_slugs(categories: pd.Series) -> np.ndarray:
    """Slug path (``"home/kitchen_dining"``, as in interest tag ids) per item; None if missing."""
    codes, uniques = pd.factorize(categories, use_na_sentinel=True)
    slugs = np.array([None] + ["/".join(category_parts(c)) or None for c in uniques],
                     dtype=object)
    return slugs[codes + 1]


def _segment_candidates(dataset: Dataset, use_sensitive: bool) -> dict[str, pd.Series]:
    """Candidate user segmentations from the attribute columns (numeric ones binned)."""
    attrs = dataset.user_attributes(include_sensitive=use_sensitive)
    cols: dict[str, pd.Series] = {}
    n = max(1, int(attrs.notna().any(axis=1).sum()))
    for col in attrs.columns:
        s = attrs[col]
        if pd.api.types.is_datetime64_any_dtype(s) or s.notna().sum() < 0.5 * n:
            continue
        if pd.api.types.is_numeric_dtype(s) and s.nunique() > 10:
            s = pd.qcut(s.astype(float), 5, duplicates="drop").astype(str).where(s.notna())
        else:
            s = s.astype(str).where(s.notna())
            if s.nunique() > 50:  # id-like (zip codes): no segment
                continue
        cols[col] = s
    out = {c: v for c, v in cols.items()}
    names = list(cols)[:4]
    for size in (2, 3):  # pairs and triples of the first few columns
        for combo_names in combinations(names, size):
            combo = cols[combo_names[0]]
            for c in combo_names[1:]:
                combo = combo + " | " + cols[c]
            out[" x ".join(combo_names)] = combo
    return out


class PersonaRecommender(Recommender):
    """Profile-aware two-stage recommender with a guard and a fallback chain.

    Parameters
    ----------
    random_state : int, default 0
        Seed of every stochastic step (splits, ALS, reranker).
    feature_sets : sequence of str, optional
        Named feature sets of the reranker (default
        ``("history", "user", "item", "profile_fit")``; add ``"profile"`` and
        ``"tags"`` for the full profile and tag blocks: their measured effect
        is small and inconsistent, see docs/persona.md). The sets used are in
        ``feature_sets_``.
    n_candidates : int, optional
        Candidates per collaborative generator (default 100, 50 above 100k
        users); the other generators propose half as many.
    max_ease_items : int, default 8000
        EASE is a generator only when the catalogue has at most this many
        items with interactions (it holds dense item x item matrices).
    window_days : float, default 30
        Label window of the internal time split and "recent" window.
    validation : {"auto", "time", "random"}, default "auto"
        Internal split (see :func:`persona_rec.models.ranking.internal_split`).
    max_train_users : int, default 10000
        Label users sampled for the internal split.
    n_folds : int, default 3
        Cross-fitting folds of the reranker.
    use_sensitive : bool, default False
        Whether sensitive user attributes (age, gender, ...) may be used
        (attribute-only users, profile features). Off by default (privacy by
        design).
    tune_generators : bool, default True
        Tune each generator's small grid on the internal split.
    verbose : bool, default False
        Progress bars.
    n_jobs : int, default 1
        Threads that score batches of users in the two-stage model (tuning,
        candidates, serving); the output does not depend on it. ``2`` on two
        cores roughly halves the serving time.
    refit_reranker : bool, default False
        Serve one reranker refitted on every label user instead of the
        average of the ``n_folds`` fold models (see
        :class:`~persona_rec.models.ranking.CandidateRankingModel`): 29% less
        serving time on a 1M-user x 100k-item shop (50,000 users in 25.9 s
        instead of 36.3 s with ``n_jobs=2``), slightly less accurate where
        measured (Online Retail next 30 days: NDCG@10 0.3807 vs 0.3871 on
        repeats), so off by default.

    Attributes
    ----------
    ranker_ : CandidateRankingModel
        The fitted two-stage model (``guard_``, ``choice_``, ``tuning_``,
        ``validation_`` on it); the first link of ``chain_``.
    chain_ : FallbackChain
        The served chain.
    generators_plan_ : dict
        Generator name -> why it was (or was not) included.
    warm_guard_ : dict
        Held-out NDCG@10 of the attribute-only candidates (empty without
        user attributes).
    data_kind_ : dict
        What :func:`persona_rec.models.ranking.data_kind` found.
    feature_sets_ : list of str
        The reranker's feature sets used in this fit.

    Notes
    -----
    :meth:`recommend` (parameters those of :meth:`Recommender.recommend`)
    recommends ``k`` items per user through the fallback chain. The
    ``source`` column names the link that served each row
    (``persona:ranker``, ``persona:attributes`` or ``persona:segment``,
    ``persona:popular``). ``dataset=`` is not supported for users with
    interactions (the two-stage model scores from its fitted data): refit
    instead.

    ``recent_events`` (events after ``fit``) are folded into this call
    without refitting: every candidate generator folds them in (see
    ``docs/models.md``), they join the users' histories for
    ``filter_seen``, and the reranker's per-user features (``history``,
    ``user``) count them as happening at the model's serving time (the
    end of its fit data). Item statistics and the fitted profiles keep
    their fitted values until the next fit. A user with recent events,
    also one unknown at fit time, is served by the ranker.

    Examples
    --------
    >>> from persona_rec.sample_data import synthetic
    >>> data = synthetic(n_users=300, n_items=120, n_events=12_000, random_state=0)
    >>> model = PersonaRecommender(random_state=0, tune_generators=False).fit(data.dataset)
    >>> reco = model.recommend(data.dataset.user_map.external_ids[:2], k=3)
    >>> reco.columns.tolist()
    ['user_id', 'item_id', 'score', 'rank', 'source']
    """

    learned_state = {
        "chain_": Learned.model(),
        "generators_plan_": Learned.value(dict),
        "feature_sets_": Learned.value(list, optional=True),
        "warm_guard_": Learned.value(dict),
        "data_kind_": Learned.value(dict),
    }

    serves_hot = True
    serves_warm = True
    serves_cold = True
    folds_recent_events = True
    default_name = "persona"

    def __init__(
        self,
        random_state: int = 0,
        feature_sets: Sequence[str] | None = None,
        n_candidates: int | None = None,
        max_ease_items: int = 8000,
        window_days: float = 30.0,
        validation: str = "auto",
        max_train_users: int = 10_000,
        n_folds: int = 3,
        use_sensitive: bool = False,
        tune_generators: bool = True,
        verbose: bool = False,
        n_jobs: int = 1,
        refit_reranker: bool = False,
    ) -> None:
        owner = "PersonaRecommender"
        self.random_state = check_int(random_state, "random_state", minimum=0, owner=owner)
        if feature_sets is not None:
            from .ranking import make_feature_sets

            make_feature_sets(feature_sets)
        self.feature_sets = feature_sets  # as given (scikit-learn's clone checks identity)
        self.n_candidates = None if n_candidates is None else check_int(
            n_candidates, "n_candidates", minimum=1, owner=owner)
        self.max_ease_items = check_int(max_ease_items, "max_ease_items", minimum=0, owner=owner)
        self.window_days = check_number(window_days, "window_days", low=0,
                                        low_inclusive=False, owner=owner)
        self.validation = check_choice(validation, "validation", ("auto", "time", "random"),
                                       owner=owner)
        self.max_train_users = check_int(max_train_users, "max_train_users", minimum=10,
                                         owner=owner)
        self.n_folds = check_int(n_folds, "n_folds", minimum=2, owner=owner)
        self.use_sensitive = check_bool(use_sensitive, "use_sensitive", owner=owner)
        self.tune_generators = check_bool(tune_generators, "tune_generators", owner=owner)
        self.verbose = check_bool(verbose, "verbose", owner=owner)
        self.n_jobs = check_int(n_jobs, "n_jobs", minimum=1, owner=owner)
        self.refit_reranker = check_bool(refit_reranker, "refit_reranker", owner=owner)

    def _json_params(self) -> dict[str, Any]:
        params = self.get_params(deep=False)
        if params["feature_sets"] is not None:
            params["feature_sets"] = list(params["feature_sets"])
        return params

    # ------------------------------------------------------------ the plan
    def generator_plan(self, dataset: Dataset,
                       kind: Mapping[str, Any] | None = None,
                       social_graph: Any = None) -> tuple[list[CandidateGenerator],
                                                          dict[str, str]]:
        """The candidate generators chosen for ``dataset`` and why.

        Parameters
        ----------
        dataset : Dataset
        kind : dict, optional
            Output of :func:`~persona_rec.models.ranking.data_kind`.
        social_graph : SocialGraph, optional
            Adds a "bought by people you follow" generator
            (:class:`~persona_rec.models.SocialRecommender`).

        Returns
        -------
        (list of CandidateGenerator, dict name -> reason)
        """
        kind = data_kind(dataset) if kind is None else kind
        n_users, n_events = dataset.n_users, dataset.n_interactions
        n_active = int(dataset.hot_item_mask().sum())
        n_cf = self.n_candidates or (100 if n_users <= 100_000 else 50)
        n_small = max(10, n_cf // 2)
        large = n_events > LARGE_EVENTS
        seed = self.random_state
        gens: list[CandidateGenerator] = []
        plan: dict[str, str] = {}
        als_grid = ([{"regularization": r, "alpha": a} for r in (1.0, 10.0, 30.0)
                     for a in (2.0, 10.0)] if not large else
                    [{"regularization": r, "alpha": 10.0} for r in (3.0, 30.0)])
        gens.append(CandidateGenerator(
            ALSRecommender(factors=64, iterations=15, random_state=seed), n_cf,
            param_grid=als_grid))
        plan["als"] = f"always; {len(als_grid)} (regularization, alpha) settings tuned"
        if 0 < n_active <= self.max_ease_items:
            gens.append(CandidateGenerator(EASERecommender(300.0), n_cf, param_grid=[
                {"regularization": r} for r in (100.0, 300.0, 1000.0)]))
            plan["ease"] = f"{n_active} active items <= max_ease_items={self.max_ease_items}"
        else:
            plan["ease"] = (f"skipped: {n_active} active items > max_ease_items="
                            f"{self.max_ease_items} (dense item x item memory)")
        gens.append(CandidateGenerator(ItemKNNRecommender("bm25", 100), n_small))
        plan["item_knn"] = "always (BM25, 100 neighbours)"
        if kind["purchase_log"]:
            gens.append(CandidateGenerator(RepurchaseRecommender(
                fill="none", horizon_days=self.window_days, random_state=seed), n_small,
                name="repurchase"))
            plan["repurchase"] = f"purchase log (repeat share {kind['repeat_share']:.3f})"
            gens.append(CandidateGenerator(BuyAgainRecommender(), n_small, name="buy_again",
                                           param_grid=[{"tie_break": "popularity"},
                                                       {"tie_break": "recency"}]))
            plan["buy_again"] = ("purchase log: plain buy-again (orders per item), robust where "
                                 "the repurchase model has few repeats to learn from")
        else:
            plan["repurchase"] = f"skipped: few repeats (share {kind['repeat_share']:.3f})"
        if kind["time_informative"]:
            gens.append(CandidateGenerator(PopularRecommender(window_days=self.window_days),
                                           n_small, name="recent_popular"))
            plan["recent_popular"] = f"popularity over the last {self.window_days:g} days"
        else:
            gens.append(CandidateGenerator(PopularRecommender(), n_small, name="popular"))
            plan["popular"] = "all-time popularity (timestamps are not informative)"
        if social_graph is not None:
            from .social import SocialRecommender

            inter = dataset.internal_interactions
            bought = sorted(set(PURCHASE_EVENTS) & set(
                inter["event"].astype(str).unique())) if "event" in inter.columns else []
            gens.append(CandidateGenerator(
                SocialRecommender(events=tuple(bought) if bought else None,
                                  half_life_days=self.window_days if kind["time_informative"]
                                  else None),
                n_small, name="social", fit_params={"graph": social_graph}))
            plan["social"] = ("social graph given: what the accounts a user follows bought "
                              "(recency-weighted)")
        return gens, plan

    # ------------------------------------------------------------------ fit
    def fit(self, dataset: Dataset, profiles: Profiles | None = None, *,
            social_graph: Any = None) -> PersonaRecommender:
        """Fit the two-stage model, the attribute-only link and popularity.

        Parameters
        ----------
        dataset : Dataset
        profiles : Profiles, optional
            Accepted for the common interface (profile features are built
            internally, point-in-time, from ``dataset``).
        social_graph : SocialGraph, optional
            Who follows whom (:class:`~persona_rec.social.SocialGraph`): adds a
            "bought by people you follow" candidate generator whose score and
            rank become reranker features. Used at fit time only; a saved
            model serves without it.

        Returns
        -------
        PersonaRecommender
        """
        if social_graph is not None:
            from ..social import SocialGraph

            check_instance(social_graph, SocialGraph,
                           "PersonaRecommender.fit: social_graph must be a SocialGraph")
        return self._fit_holding(dataset, profiles, _social_graph=social_graph)

    def _fit(self, dataset: Dataset, profiles: Profiles | None) -> None:
        kind = data_kind(dataset)
        self.data_kind_ = kind
        gens, plan = self.generator_plan(dataset, kind,
                                         getattr(self, "_social_graph", None))
        # the full profile and tag blocks stay opt-in: no consistent lift (docs/persona.md)
        self.feature_sets_ = list(self.feature_sets if self.feature_sets is not None
                                  else DEFAULT_FEATURE_SETS)
        self.generators_plan_ = plan
        _log.info("PersonaRecommender: data %s; generators %s", kind, [g.name for g in gens])
        ranker = CandidateRankingModel(
            gens, feature_sets=self.feature_sets_,
            validation=self.validation, window_days=self.window_days,
            max_train_users=self.max_train_users, n_folds=self.n_folds,
            use_sensitive=self.use_sensitive, tune_generators=self.tune_generators,
            random_state=self.random_state, verbose=self.verbose, n_jobs=self.n_jobs,
            refit_reranker=self.refit_reranker,
        ).fit(dataset, profiles)
        warm, warm_name, self.warm_guard_ = self._fit_warm(dataset)
        pop = PopularRecommender(window_days=self.window_days if kind["time_informative"]
                                 and kind["purchase_log"] else None).fit(dataset)
        links: list[tuple[str, Recommender]] = [(SOURCE_RANKER, ranker)]
        if warm is not None:
            links.append((warm_name, warm))
        links.append((SOURCE_POPULAR, pop))
        self.chain_ = FallbackChain(links, fit_links=False).fit(dataset, profiles)

    def _fit_warm(self, dataset: Dataset) -> tuple[Recommender | None, str, dict[str, float]]:
        """Pick the attribute-only model on held-out users treated as attribute-only."""
        candidates: dict[str, Recommender] = {}
        full = dataset
        segs = _segment_candidates(dataset, self.use_sensitive)
        if not segs:
            return None, "", {}
        candidates["attributes"] = AttributeRecommender(use_sensitive=self.use_sensitive)
        for name, seg in segs.items():
            seg = seg.dropna()
            candidates[f"segment:{name}"] = SegmentPopularRecommender(seg, global_fallback=False)
        hot = np.flatnonzero(dataset.hot_user_mask())
        rng = np.random.default_rng(self.random_state)
        # k-fold over (a sample of) users with interactions, each fold treated as
        # attribute-only: every candidate is scored on the same held-out users.
        # On large data the candidates learn from a pool of 50,000 users (the
        # comparison stays paired; the final model learns from everyone).
        truth_all = dataset.get_user_item_matrix(binary=True)
        if len(hot) > 50_000:
            pool = np.sort(rng.choice(hot, size=50_000, replace=False))
            users_all = dataset.internal_interactions[Columns.USER_IDX].to_numpy()
            dataset = dataset.filter_interactions(np.isin(users_all, pool))
            hot = pool
        sample = np.sort(rng.choice(hot, size=min(len(hot), 10_000), replace=False))
        fold = rng.permutation(len(sample)) % 5
        inter_users = dataset.internal_interactions[Columns.USER_IDX].to_numpy()
        ndcg: dict[str, list[np.ndarray]] = {name: [] for name in candidates}
        for f in range(5 if len(sample) >= 10 else 0):
            held = sample[fold == f]
            train = dataset.filter_interactions(~np.isin(inter_users, held))
            truth = truth_all[held]
            n_labels = np.diff(truth.indptr).astype(float)
            for name, model in candidates.items():
                m = model.clone() if not isinstance(model, SegmentPopularRecommender) else \
                    SegmentPopularRecommender(model.segment_by, global_fallback=False)
                m.fit(train)
                s = np.asarray(m._score_warm(held, RecommendRequest()), dtype=np.float64)
                s[np.isnan(s)] = -np.inf
                r, c = top_n(s, 10)
                hits = np.asarray(truth[r, c]).ravel() > 0
                nd = ndcg_per_row(r, hits, len(held), n_labels)
                ndcg[name].append(np.nan_to_num(nd, nan=0.0)[n_labels > 0])
        scores = {name: round(float(np.concatenate(v).mean()), 5) if v else 0.0
                  for name, v in ndcg.items()}
        best = max(scores, key=lambda k: scores[k])
        _log.info("PersonaRecommender warm guard: %s -> %s", scores, best)
        model = candidates[best]
        final = (model.clone() if not isinstance(model, SegmentPopularRecommender)
                 else SegmentPopularRecommender(model.segment_by, global_fallback=False))
        final.fit(full)
        return final, SOURCE_ATTRIBUTES if best == "attributes" else SOURCE_SEGMENT, scores

    @property
    def ranker_(self) -> CandidateRankingModel:
        """The fitted two-stage model (the chain's first link)."""
        self._check_fitted()
        return self.chain_.links_[0]

    # ------------------------------------------------------------ serving
    def _request(self, user_ids: Any, k: int,
                 **arguments: Any) -> tuple[np.ndarray, RecommendRequest]:
        """Validate a :meth:`recommend` call as the fallback chain does, once fitted."""
        self._check_fitted()
        return self.chain_._request(user_ids, k, **arguments)

    def _recommend(self, ids: np.ndarray, request: RecommendRequest,
                   on_unknown: str) -> pd.DataFrame:
        """Serve a validated :meth:`recommend` call through the fallback chain."""
        return self.chain_._recommend(ids, request, on_unknown)

    def similar_items(self, item_ids: Any, k: int = 10, **kwargs: Any) -> pd.DataFrame:
        """Item neighbours from the first generator that supports them (see FallbackChain)."""
        self._check_fitted()
        for model in self.ranker_.generators_:
            if type(model)._similar is not Recommender._similar:
                return model.similar_items(item_ids, k, **kwargs)
        raise NotImplementedError("no generator of this PersonaRecommender supports "
                                  "similar_items.")

    # --------------------------------------------------------- explanations
    def explain(self, recommendations: pd.DataFrame, user_tags: Any = None,
                item_names: pd.Series | None = None,
                filter_seen: bool = True, *,
                include_sensitive: bool = False) -> pd.DataFrame:
        """Add ``reason``, ``proposed_by``, ``top_features`` and matching ``tags`` to each row.

        Parameters
        ----------
        recommendations : pandas.DataFrame
            Output of :meth:`recommend`.
        user_tags : UserTags, optional
            Tags of the users (``persona_rec.tags.Tagger(...).assign(profiles)``);
            when given, ``tags`` lists the user's tags that relate to the
            recommended item's category (``interest/...``) and the user's
            value/lifecycle tags. Tags flagged sensitive in the taxonomy
            (``user_tags.sensitive_ids``) are left out unless
            ``include_sensitive=True``.
        item_names : pandas.Series, optional
            Accepted for compatibility with 0.1; the v2 reasons name generators
            and features, not items.
        filter_seen : bool, default True
            The ``filter_seen`` the rows were produced with.
        include_sensitive : bool, default False
            Whether ``tags`` may name sensitive tags.

        Returns
        -------
        pandas.DataFrame
            A copy with ``reason``, ``proposed_by``, ``top_features`` and
            ``tags`` added.

        Raises
        ------
        NotFittedError
            The model is not fitted.
        InvalidDtypeError
            ``recommendations`` is not a DataFrame (e.g. a list of user ids).
        MissingColumnError
            ``recommendations`` lacks ``user_id`` or ``item_id``.
        """
        include_sensitive = check_bool(include_sensitive, "include_sensitive",
                                       owner="PersonaRecommender.explain")
        if not self.is_fitted:
            raise NotFittedError("PersonaRecommender is not fitted; call fit(dataset) first.")
        check_frame(recommendations, "recommendations", [Columns.USER, Columns.ITEM],
                    allow_empty=True)
        reco = self.ranker_.explain(recommendations, filter_seen=filter_seen)
        if len(reco) == 0:
            reco["reason"] = pd.Series(dtype=object)
            reco["tags"] = pd.Series(dtype=object)
            return reco
        u = self.user_map_.to_internal(reco[Columns.USER].to_numpy(), strict=False)
        i = self.item_map_.to_internal(reco[Columns.ITEM].to_numpy(), strict=False)
        ok = (u >= 0) & (i >= 0)
        occ = np.zeros(len(reco))
        if ok.any():
            occ[ok] = np.asarray(self.user_items_[u[ok], i[ok]]).ravel()
        src = reco[Columns.SOURCE].to_numpy() if Columns.SOURCE in reco else \
            np.full(len(reco), SOURCE_RANKER, dtype=object)
        proposed = reco["proposed_by"].fillna("").astype(str).to_numpy()
        reason = np.where(occ > 0, "in your history (bought/used again)",
                          np.where(proposed != "",
                                   np.char.add("suggested by ", proposed.astype(str)),
                                   "popular right now")).astype(object)
        reason[src == SOURCE_ATTRIBUTES] = "popular with users who share your attributes"
        reason[src == SOURCE_SEGMENT] = "popular in your segment"
        reason[(src == SOURCE_POPULAR) | (src == "fallback_popular")] = "popular right now"
        reco["reason"] = reason
        reco["tags"] = self._row_tags(reco, user_tags, include_sensitive)
        return reco

    def _row_tags(self, reco: pd.DataFrame, user_tags: Any,
                  include_sensitive: bool) -> np.ndarray:
        out = np.empty(len(reco), dtype=object)
        out[:] = ""
        if user_tags is None:
            return out
        frame = user_tags.to_frame(include_sensitive=include_sensitive)
        keep = frame[Columns.TAG].str.match(r"^(interest/|high_value|price_sensitive|"
                                           r"brand_loyal|novelty_seeker|lifecycle/|new_user|"
                                           r"churn_risk)")
        frame = frame[keep]
        attrs = self.item_attributes_
        item_cat = None
        if attrs is not None and "category" in attrs.columns:
            item_cat = pd.Series(_category_slugs(attrs["category"]), dtype=object)
        by_user = frame.groupby(Columns.USER)[Columns.TAG].apply(list).to_dict()
        i = self.item_map_.to_internal(reco[Columns.ITEM].to_numpy(), strict=False)
        cats = (item_cat.fillna("").to_numpy(dtype=object)[np.maximum(i, 0)]
                if item_cat is not None else np.full(len(reco), "", dtype=object))
        users = reco[Columns.USER].to_numpy()
        # one short list per row; rows are few (k per user), so this stays cheap
        out[:] = [
            ", ".join(t for t in by_user.get(uid, [])
                      if not t.startswith("interest/") or (cat and cat.startswith(t[9:])))
            for uid, cat in zip(users, cats)
        ]
        return out
