"""Popularity recommenders: global, recent-window and per-segment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._validation import check_bool, check_choice, check_number
from ..columns import Columns
from ..dataset import Dataset
from ..exceptions import InvalidDtypeError, InvalidParameterError, MissingColumnError
from ..persistence import Learned
from ._request import RecommendRequest
from .base import Recommender

if TYPE_CHECKING:
    from ..profiles import Profiles

__all__ = ["PopularRecommender", "SegmentPopularRecommender"]

_BY = ("users", "interactions", "weight")


def _check_window(window_days: Any, owner: str) -> float | None:
    if window_days is None:
        return None
    return check_number(window_days, "window_days", low=0, low_inclusive=False, owner=owner)


def _recent(dataset: Dataset, window_days: float | None) -> pd.DataFrame:
    """Internal interactions, restricted to the last ``window_days`` before the last event."""
    inter = dataset.internal_interactions
    if window_days is None:
        return inter
    ts = inter[Columns.TIMESTAMP]
    cutoff = ts.max() - pd.Timedelta(days=window_days)
    return inter.loc[(ts > cutoff).to_numpy()]


def _item_counts(inter: pd.DataFrame, n_items: int, by: str,
                 group: np.ndarray | None = None, n_groups: int = 1) -> np.ndarray:
    """Per (group, item) popularity counts as a dense (n_groups, n_items) array."""
    users = inter[Columns.USER_IDX].to_numpy()
    items = inter[Columns.ITEM_IDX].to_numpy().astype(np.int64)
    g = np.zeros(len(items), dtype=np.int64) if group is None else group[users].astype(np.int64)
    keep = g >= 0
    users, items, g = users[keep], items[keep], g[keep]
    if by == "users":
        key = np.sort(users.astype(np.int64) * n_items + items)  # sort-based unique:
        key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key  # faster than np.unique
        u_of, items = np.divmod(key, n_items)
        g = np.zeros(len(items), dtype=np.int64) if group is None else group[u_of].astype(np.int64)
        weights = None
    elif by == "interactions":
        weights = None
    else:
        weights = inter[Columns.WEIGHT].to_numpy(dtype=np.float64)[keep]
    flat = np.bincount(g * n_items + items, weights=weights, minlength=n_groups * n_items)
    return flat.reshape(n_groups, n_items).astype(np.float64)


class PopularRecommender(Recommender):
    """Most popular items, globally or over a recent time window.

    Serves every user (hot, attribute-only and unknown) with the same ranking;
    with ``filter_seen=True`` each user's own history is removed. Items never
    interacted with in the window are not recommended.

    Parameters
    ----------
    window_days : float, optional
        Only count events in the last ``window_days`` days before the last
        event of the training data (recent popularity, good for new items and
        trends). ``None`` counts everything.
    by : {"users", "interactions", "weight"}, default "users"
        Popularity measure: distinct users, event count, or sum of event
        weights (e.g. purchases count more than views).

    Attributes
    ----------
    scores_ : numpy.ndarray
        Popularity of each item (``n_items_``).

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec import Dataset
    >>> inter = pd.DataFrame({"user_id": [1, 2, 2, 3], "item_id": ["a", "a", "b", "b"],
    ...                       "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02",
    ...                                                    "2024-03-01", "2024-03-02"])})
    >>> ds = Dataset.from_frames(inter)
    >>> PopularRecommender(window_days=7).fit(ds).recommend([1], k=5)
       user_id item_id  score  rank   source
    0        1       b    2.0     1  popular
    """

    learned_state = {"scores_": Learned.array("f", "items")}

    serves_warm = True
    serves_cold = True
    default_name = "popular"
    folds_recent_events = True

    def __init__(self, window_days: float | None = None, by: str = "users") -> None:
        self.window_days = _check_window(window_days, "PopularRecommender")
        self.by = check_choice(by, "by", _BY, owner="PopularRecommender")

    def _fit(self, dataset: Dataset, profiles: Profiles | None) -> None:
        inter = _recent(dataset, self.window_days)
        self.scores_ = _item_counts(inter, dataset.n_items, self.by)[0]

    def _vector(self) -> np.ndarray:
        v = self.scores_.astype(np.float64).copy()
        v[v <= 0] = -np.inf
        return v

    def _score(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        return np.broadcast_to(self._vector(), (len(user_idx), len(self.scores_)))

    def _shared_scores(self) -> np.ndarray:
        return self._vector()

    _score_warm = _score

    def _score_cold(self) -> np.ndarray:
        return self._vector()


class SegmentPopularRecommender(Recommender):
    """Popularity within the user's segment (e.g. gender x age band, a tag group).

    The score of item ``i`` for a user of segment ``s`` is the item's share in
    the segment, shrunk towards its global share::

        score = (count[s, i] + shrinkage * global_share[i]) / (mass[s] + shrinkage)

    where ``mass[s]`` is the segment's number of active users (``by="users"``)
    or its total count. Users whose segment is unknown or absent from the
    training data, and unknown (cold) users, get the global share.

    Parameters
    ----------
    segment_by : str, list of str, pandas.Series or mapping
        Either user attribute column name(s) -- looked up in the Dataset's
        user attributes (sensitive columns included: naming a column is an
        explicit opt-in) or, when ``fit`` receives ``profiles``, in
        ``profiles.frame`` (e.g. ``"age_band"``, ``"lifecycle_stage"``);
        several columns are combined into one segment key -- or an explicit
        mapping ``user_id -> segment`` (Series indexed by user id or dict).
    by : {"users", "interactions", "weight"}, default "users"
        Popularity measure (see :class:`PopularRecommender`).
    window_days : float, optional
        Only count recent events.
    shrinkage : float, default 10.0
        Pseudo-count pulling small segments towards global popularity.
    global_fallback : bool, default True
        Serve users without a known segment, and unknown (cold) users, with
        the global share. Set it to False inside a :class:`FallbackChain` so
        those users fall through to the next link (e.g. recent popularity)
        and the ``source`` column tells them apart; ``serves_cold`` is then
        False.

    Attributes
    ----------
    segments_ : numpy.ndarray of str
        Segment labels seen at fit time.
    user_segment_ : numpy.ndarray of int
        Segment index of each fitted user (-1 = no segment).
    segment_scores_ : numpy.ndarray
        ``(n_segments, n_items)`` smoothed shares.
    global_scores_ : numpy.ndarray
        Global share of each item.

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec import Dataset
    >>> inter = pd.DataFrame({"user_id": [1, 2, 3, 3], "item_id": ["a", "a", "b", "c"],
    ...                       "timestamp": pd.date_range("2024-01-01", periods=4)})
    >>> users = pd.DataFrame({"user_id": [1, 2, 3, 4], "city": ["x", "x", "y", "y"]})
    >>> ds = Dataset.from_frames(inter, users=users)
    >>> model = SegmentPopularRecommender("city", shrinkage=0).fit(ds)
    >>> model.recommend([4], k=2)  # attribute-only user in city "y"
       user_id item_id  score  rank           source
    0        4       b    1.0     1  segment_popular
    1        4       c    1.0     2  segment_popular
    """

    learned_state = {
        "segments_": Learned.array("U", "segments"),
        "user_segment_": Learned.array("i", "users", index_of="segments", missing=-1),
        "segment_scores_": Learned.array("f", "segments", "items"),
        "global_scores_": Learned.array("f", "items"),
    }

    serves_warm = True
    serves_cold = True
    default_name = "segment_popular"
    folds_recent_events = True

    def __init__(
        self,
        segment_by: str | Sequence[str] | pd.Series | Mapping[Any, Any],
        by: str = "users",
        window_days: float | None = None,
        shrinkage: float = 10.0,
        global_fallback: bool = True,
    ) -> None:
        owner = "SegmentPopularRecommender"
        if isinstance(segment_by, str):
            pass
        elif isinstance(segment_by, pd.Series):
            if not segment_by.index.is_unique:
                raise InvalidParameterError(
                    f"The 'segment_by' parameter of {owner}: the Series index (user ids) must "
                    f"be unique."
                )
        elif isinstance(segment_by, Mapping):
            segment_by = pd.Series(dict(segment_by))
        elif isinstance(segment_by, (list, tuple)) and segment_by and all(
            isinstance(c, str) for c in segment_by
        ):
            segment_by = list(segment_by)
        else:
            raise InvalidDtypeError(
                f"The 'segment_by' parameter of {owner} must be a column name, a non-empty list "
                f"of column names, a Series or a mapping user_id -> segment, got {segment_by!r}."
            )
        self.segment_by = segment_by
        self.by = check_choice(by, "by", _BY, owner=owner)
        self.window_days = _check_window(window_days, owner)
        self.shrinkage = check_number(shrinkage, "shrinkage", low=0, owner=owner)
        self.global_fallback = check_bool(global_fallback, "global_fallback", owner=owner)
        self.serves_cold = global_fallback

    # config round trip with a Series parameter
    def _json_params(self) -> dict[str, Any]:
        params = self.get_params(deep=False)
        if isinstance(self.segment_by, pd.Series):
            s = self.segment_by
            params["segment_by"] = {
                "mapping_ids": [v.item() if isinstance(v, np.generic) else v for v in s.index],
                "mapping_segments": [None if pd.isna(v) else str(v) for v in s.to_numpy()],
            }
        return params

    @classmethod
    def _from_json_params(cls, params: dict[str, Any]) -> SegmentPopularRecommender:
        params = dict(params)
        seg = params.get("segment_by")
        if isinstance(seg, dict) and "mapping_ids" in seg:
            params["segment_by"] = pd.Series(
                seg["mapping_segments"], index=pd.Index(seg["mapping_ids"], dtype=object)
            )
        return cls(**params)

    @property
    def _columns(self) -> list[str] | None:
        if isinstance(self.segment_by, str):
            return [self.segment_by]
        if isinstance(self.segment_by, list):
            return list(self.segment_by)
        return None

    def _labels_from_frame(self, frame: pd.DataFrame, cols: list[str]) -> np.ndarray:
        parts = frame[cols]
        missing = parts.isna().any(axis=1).to_numpy()
        text = parts[cols[0]].to_numpy(dtype=object).astype(str)
        for c in cols[1:]:
            text = np.char.add(np.char.add(text, " | "), parts[c].to_numpy(dtype=object).astype(str))
        labels = text.astype(object)
        labels[missing] = None
        return labels

    def _labels(self, user_ids: np.ndarray, dataset: Dataset, profiles: Profiles | None) -> np.ndarray:
        """Segment label (str or None) per external user id."""
        cols = self._columns
        if cols is None:
            s = self.segment_by
            idx = s.index.get_indexer(user_ids)
            out = np.full(len(user_ids), None, dtype=object)
            ok = idx >= 0
            vals = pd.Series(s.to_numpy(dtype=object)[idx[ok]], dtype=object)
            out[ok] = np.where(vals.notna().to_numpy(),
                               vals.astype(str).to_numpy(dtype=object), None)
            return out
        attrs = dataset.user_attributes(include_sensitive=True)
        frame = attrs.reindex(pd.Index(user_ids, dtype=attrs.index.dtype))
        if profiles is not None:
            pf = profiles.frame
            extra = [c for c in cols if c not in frame.columns and c in pf.columns]
            for c in extra:
                frame[c] = pf[c].reindex(frame.index).to_numpy()
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            where = list(attrs.columns) + (list(profiles.frame.columns) if profiles is not None
                                           else [])
            raise MissingColumnError(
                f"SegmentPopularRecommender: segment_by column(s) {missing} are neither user "
                f"attributes nor profile columns; available: {where}."
            )
        return self._labels_from_frame(frame, cols)

    def _fit(self, dataset: Dataset, profiles: Profiles | None) -> None:
        labels = self._labels(dataset.user_map.external_ids, dataset, profiles)
        known = pd.notna(labels)
        codes = np.full(len(labels), -1, dtype=np.int64)
        if known.any():
            c, uniques = pd.factorize(pd.Series(labels[known], dtype=object))
            codes[known] = c
            segments = np.asarray([str(u) for u in uniques], dtype=str)
        else:
            segments = np.asarray([], dtype="U1")
        n_seg = len(segments)
        inter = _recent(dataset, self.window_days)
        n_items = dataset.n_items
        glob = _item_counts(inter, n_items, self.by)[0]
        hot = np.zeros(dataset.n_users, dtype=bool)
        hot[inter[Columns.USER_IDX].to_numpy()] = True
        if self.by == "users":
            g_mass = max(1.0, float(hot.sum()))
        else:
            g_mass = max(1.0, float(glob.sum()))
        share = glob / g_mass
        if n_seg:
            counts = _item_counts(inter, n_items, self.by, group=codes, n_groups=n_seg)
            if self.by == "users":
                mass = np.bincount(codes[hot & (codes >= 0)], minlength=n_seg).astype(np.float64)
            else:
                mass = counts.sum(axis=1)
            denom = mass + self.shrinkage
            with np.errstate(invalid="ignore", divide="ignore"):
                seg_scores = (counts + self.shrinkage * share[None, :]) / denom[:, None]
            empty = denom <= 0
            seg_scores[empty] = share[None, :]
        else:
            seg_scores = np.zeros((0, n_items))
        self.segments_ = segments
        self.user_segment_ = codes
        self.segment_scores_ = seg_scores
        self.global_scores_ = share

    def _segment_codes(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        fit_idx = self._fit_user_index(user_idx, request)
        codes = np.where(fit_idx >= 0, self.user_segment_[np.maximum(fit_idx, 0)], -1)
        dataset = request.dataset
        if dataset is not None and (self._columns is None or all(
            c in dataset.user_attributes(include_sensitive=True).columns for c in self._columns
        )):
            labels = self._labels(dataset.user_map.to_external(user_idx), dataset, None)
            lut = pd.Index(self.segments_)
            present = pd.notna(labels)
            fresh = np.full(len(labels), -1, dtype=np.int64)
            fresh[present] = lut.get_indexer(labels[present])
            codes = np.where(present, fresh, codes)
        return codes

    def _score(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        codes = self._segment_codes(user_idx, request)
        out = np.repeat(self.global_scores_[None, :], len(codes), axis=0)
        has = codes >= 0
        if has.any():
            out[has] = self.segment_scores_[codes[has]]
        out[out <= 0] = -np.inf
        if not self.global_fallback:
            out[~has] = -np.inf  # leave users without a segment to the next link
        return out

    _score_warm = _score

    def _grouped_scores(
        self, user_idx: np.ndarray, request: RecommendRequest
    ) -> tuple[np.ndarray, np.ndarray]:
        codes = self._segment_codes(user_idx, request)
        glob = self.global_scores_[None, :]
        if not self.global_fallback:
            glob = np.full_like(glob, -np.inf)
        vectors = np.vstack([self.segment_scores_, glob]).astype(np.float64)
        vectors[vectors <= 0] = -np.inf
        return np.where(codes >= 0, codes, len(self.segment_scores_)), vectors

    def _score_cold(self) -> np.ndarray:
        v = self.global_scores_.astype(np.float64).copy()
        v[v <= 0] = -np.inf
        return v

    def user_segments(self, user_ids: Any) -> pd.Series:
        """Segment label of each fitted user id (``None`` when it has none or is unknown).

        Parameters
        ----------
        user_ids : array-like
            External user ids.

        Returns
        -------
        pandas.Series
            Indexed by user id.
        """
        self._check_fitted()
        idx = self.user_map_.to_internal(user_ids, strict=False)
        codes = np.where(idx >= 0, self.user_segment_[np.maximum(idx, 0)], -1)
        labels = np.full(len(codes), None, dtype=object)
        labels[codes >= 0] = self.segments_[codes[codes >= 0]]
        from ..identifiers import _as_id_array

        return pd.Series(labels, dtype=object,
                         index=pd.Index(_as_id_array(user_ids), name=Columns.USER),
                         name=Columns.SEGMENT)

