""""Bought by people you follow": a recommender over a social graph."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._validation import check_instance, check_number
from ..columns import Columns
from ..dataset import Dataset
from ..exceptions import InvalidParameterError
from ..persistence import Learned
from .base import Recommender

if TYPE_CHECKING:
    from ..profiles import Profiles

__all__ = ["SocialRecommender"]


class SocialRecommender(Recommender):
    """Recommend what the accounts a user follows have bought recently.

    ``score(u, i) = sum_f w(f -> u) * sum_e decay(e)`` over the events ``e`` of
    item ``i`` by every account ``f`` that reaches ``u`` in the
    :class:`~persona_rec.social.SocialGraph` (followees, friends, people who
    shared with or referred ``u``), with ``decay = 0.5 ** (age / half_life)``
    measured from the last training event. Users whose followees bought
    nothing get no score (compose with a fallback such as
    :class:`~persona_rec.models.PopularRecommender` through
    :class:`~persona_rec.models.FallbackChain`). Serves hot and warm users
    (a registered user with no events still has followees); graph users
    unknown to the dataset are ignored.

    Parameters
    ----------
    events : sequence of str or None, default ("purchase",)
        Event types that count (needs an ``event`` column); None = all events.
    half_life_days : float or None, default 30.0
        Recency half-life of a followee's event; None = no decay.

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec import Dataset
    >>> from persona_rec.social import SocialGraph
    >>> inter = pd.DataFrame({"user_id": ["amy", "amy", "bob", "cat"], "item_id": ["x", "y", "z", "z"],
    ...                       "timestamp": pd.date_range("2024-01-01", periods=4)})
    >>> graph = SocialGraph.from_edges(pd.DataFrame({"source": ["bob"], "target": ["amy"]}))
    >>> model = SocialRecommender(events=None).fit(Dataset.from_frames(inter), graph=graph)
    >>> model.recommend(["bob"], k=3)[["user_id", "item_id", "rank"]]
      user_id item_id  rank
    0     bob       y     1
    1     bob       x     2
    """

    learned_state = {
        "followees_": Learned.sparse("f", "users", "users"),
        "events_matrix_": Learned.sparse("biuf", "users", "items"),
    }

    serves_warm = True
    default_name = "social"
    folds_recent_events = True

    def __init__(self, *, events: Sequence[str] | None = ("purchase",),
                 half_life_days: float | None = 30.0) -> None:
        if events is not None:
            if isinstance(events, str) or not all(isinstance(e, str) for e in events) or not len(events):
                raise InvalidParameterError(
                    f"The 'events' parameter of SocialRecommender must be a non-empty sequence of str or "
                    f"None, got {events!r}."
                )
            events = tuple(events)
        self.events = events
        self.half_life_days = (None if half_life_days is None else check_number(
            half_life_days, "half_life_days", low=0, low_inclusive=False, owner="SocialRecommender"))

    def _json_params(self) -> dict[str, Any]:
        params = super()._json_params()
        if params.get("events") is not None:
            params["events"] = list(params["events"])
        return params

    def fit(self, dataset: Dataset, profiles: Profiles | None = None, *, graph: Any = None) -> SocialRecommender:
        """Fit on ``dataset`` with the social ``graph``.

        Parameters
        ----------
        dataset : Dataset
        profiles : ignored
        graph : SocialGraph
            Who reaches whom (required).

        Returns
        -------
        SocialRecommender
        """
        from ..social import SocialGraph

        check_instance(graph, SocialGraph, "SocialRecommender.fit needs graph=SocialGraph(...)")
        return self._fit_holding(dataset, profiles, _graph_in=graph)

    def _fit(self, dataset: Dataset, profiles: Profiles | None) -> None:
        g = self._graph_in
        n_users, n_items = len(dataset.user_map), len(dataset.item_map)
        pos = dataset.user_map.to_internal(g.user_ids, strict=False)
        coo = g.influence.tocoo()
        src, dst = pos[coo.row], pos[coo.col]
        ok = (src >= 0) & (dst >= 0)
        # followees_[u, f] = weight with which f reaches u
        self.followees_ = sp.csr_matrix((coo.data[ok], (dst[ok], src[ok])), shape=(n_users, n_users))
        inter = dataset.internal_interactions
        keep = np.ones(len(inter), dtype=bool)
        if self.events is not None:
            if "event" not in inter.columns:
                raise InvalidParameterError(
                    f"SocialRecommender(events={list(self.events)}) needs an 'event' column in the "
                    "interactions; pass events=None to count every interaction."
                )
            keep = inter["event"].astype(object).isin(list(self.events)).to_numpy()
        ts = inter[Columns.TIMESTAMP]
        w = np.ones(len(inter))
        if self.half_life_days is not None:
            age = ((ts.max() - ts).dt.total_seconds() / 86_400.0).to_numpy()
            w = 0.5 ** (age / self.half_life_days)
        rows, cols = inter[Columns.USER_IDX].to_numpy()[keep], inter[Columns.ITEM_IDX].to_numpy()[keep]
        x = sp.csr_matrix((w[keep], (rows, cols)), shape=(n_users, n_items))
        x.sum_duplicates()
        self.events_matrix_ = x

    def _score(self, user_idx: np.ndarray, dataset: Dataset | None) -> np.ndarray:
        fit_idx = self._fit_user_index(user_idx, dataset)
        rows = self.followees_[np.maximum(fit_idx, 0)]
        if (fit_idx < 0).any():
            rows = sp.csr_matrix(sp.diags((fit_idx >= 0).astype(np.float64)) @ rows)
        scores = (rows @ self.events_matrix_).toarray()
        scores[scores == 0] = -np.inf
        return scores

    def _score_warm(self, user_idx: np.ndarray, dataset: Dataset | None) -> np.ndarray:
        return self._score(user_idx, dataset)

    def explain(self, user_id: Any, item_id: Any, *, n: int = 3) -> pd.DataFrame:
        """Which followed accounts make ``item_id`` a recommendation for ``user_id``.

        Returns
        -------
        pandas.DataFrame
            ``followee, contribution`` (largest first, at most ``n`` rows).
        """
        self._check_fitted()
        u = self.user_map_.to_internal([user_id], what="user id")[0]
        i = self.item_map_.to_internal([item_id], what="item id")[0]
        f = self.followees_.getrow(u)
        contrib = f.data * self.events_matrix_[f.indices, i].toarray().ravel()
        order = np.argsort(-contrib, kind="stable")
        order = order[contrib[order] > 0][:n]
        return pd.DataFrame({"followee": self.user_map_.to_external(f.indices[order]),
                             "contribution": contrib[order]})
