"""Send-time choice: each user's best hour and weekday, shrunk towards their segment.

For user ``u`` with hour counts ``c_u`` (``n_u`` events) in segment ``s``
with hour distribution ``p_s``, the posterior hour distribution is the
Dirichlet-multinomial posterior mean

    ``(c_u + prior_strength * p_s) / (n_u + prior_strength)``

so a user with few events follows the segment's habit and a user with a
long history follows their own (``history_weight = n_u / (n_u + prior_strength)``).
Weekdays are treated the same way. ``p_s`` itself is shrunk towards the
whole population's pattern with the same strength (empirical Bayes), so a
tiny segment does not produce an arbitrary hour. Hours and weekdays are
local: each event's own UTC offset or its user's ``timezone`` (kept by
``Dataset.from_frames`` in ``utc_offset_min``), else the timestamp as given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._time import local_time_ns
from .._validation import as_timestamp, check_number, example_values
from ..columns import Columns
from ..exceptions import DuplicateIdError, InvalidDtypeError, NotFittedError

__all__ = ["SendTimeModel", "segment_labels"]

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_CHUNK = 200_000


def segment_labels(segments: Any, user_ids: np.ndarray) -> np.ndarray:
    """Segment label per user in ``user_ids`` order (object array, None = no segment).

    Parameters
    ----------
    segments : Segmentation, pandas.Series, mapping or None
        A :class:`~persona_rec.segments.Segmentation` (its ``labels``), a
        Series indexed by ``user_id``, a DataFrame with ``user_id`` and
        ``segment`` columns, or a ``{user_id: segment}`` mapping.
    user_ids : ndarray
        External ids to align to.

    Returns
    -------
    numpy.ndarray
        Object array; ``None`` where the user has no segment.
    """
    out = np.full(len(user_ids), None, dtype=object)
    if segments is None:
        return out
    if hasattr(segments, "labels") and isinstance(getattr(segments, "labels"), pd.Series):
        series = segments.labels
    elif isinstance(segments, pd.Series):
        series = segments
    elif isinstance(segments, pd.DataFrame):
        if not {Columns.USER, Columns.SEGMENT} <= set(segments.columns):
            raise InvalidDtypeError(
                f"segments as a DataFrame needs columns ['user_id', 'segment'], got {list(segments.columns)}."
            )
        series = segments.set_index(Columns.USER)[Columns.SEGMENT]
    elif isinstance(segments, Mapping):
        series = pd.Series(dict(segments), dtype=object)
    else:
        raise InvalidDtypeError(
            "segments must be a Segmentation, a Series indexed by user_id, a DataFrame "
            f"[user_id, segment] or a mapping, got {type(segments).__name__}."
        )
    if not series.index.is_unique:
        dup = series.index[series.index.duplicated()]
        raise DuplicateIdError(
            f"segments must give one segment per user_id, got duplicate user id(s) {example_values(dup)}."
        )
    vals = series.astype(object).reindex(pd.Index(user_ids, dtype=object))
    vals = vals.where(vals.notna(), None)
    out[:] = vals.to_numpy(dtype=object)
    return out


class SendTimeModel:
    """Best hour and weekday per user from their activity history.

    Parameters
    ----------
    prior_strength : float, default 10.0
        Pseudo-events of the segment pattern added to each user's history
        (``0`` = use the raw history; users without events then fall back to
        the segment pattern).
    event_types : sequence of str, optional
        Only count these event types (e.g. ``["click", "purchase"]``);
        default every event.

    Attributes
    ----------
    hour_counts_ : scipy.sparse.csr_matrix
        Events per user (dataset order) and hour 0-23.
    weekday_counts_ : scipy.sparse.csr_matrix
        Events per user and weekday (0 = Monday).
    segment_hour_ : pandas.DataFrame
        Smoothed hour distribution per segment (rows) plus ``"__all__"``.
    segment_weekday_ : pandas.DataFrame
        Smoothed weekday distribution per segment plus ``"__all__"``.
    user_ids_ : numpy.ndarray
        External user ids in dataset order.

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec.dataset import Dataset
    >>> ts = (pd.date_range("2024-01-01 20:00", periods=30, freq="min").tolist()
    ...       + [pd.Timestamp("2024-01-02 08:00")]
    ...       + pd.date_range("2024-01-03 09:00", periods=10, freq="min").tolist())
    >>> inter = pd.DataFrame({"user_id": ["a"] * 30 + ["b"] + ["c"] * 10, "item_id": 1, "timestamp": ts})
    >>> ds = Dataset.from_frames(inter)
    >>> seg = {"a": "night_owls", "b": "night_owls", "c": "early"}
    >>> m = SendTimeModel(prior_strength=5).fit(ds, segments=seg)
    >>> m.predict()[["user_id", "best_hour", "best_weekday", "source"]]
      user_id  best_hour  best_weekday   source
    0       a         20             0     user
    1       b         20             0  segment
    2       c          9             2     user
    """

    def __init__(self, prior_strength: float = 10.0, event_types: Any = None) -> None:
        self.prior_strength = prior_strength
        self.event_types = event_types

    # ------------------------------------------------------------------ fit
    def fit(self, dataset: Any, segments: Any = None, *, as_of: Any = None) -> SendTimeModel:
        """Count each user's events per hour and weekday and build segment priors.

        Parameters
        ----------
        dataset : Dataset
            Behaviour log.
        segments : Segmentation, Series, DataFrame or mapping, optional
            Segment per user (see :func:`segment_labels`); without it every
            user is shrunk towards the whole population.
        as_of : timestamp-like, optional
            Use only events strictly before this time.

        Returns
        -------
        SendTimeModel
            ``self``.
        """
        alpha = check_number(self.prior_strength, "prior_strength", low=0.0, owner="SendTimeModel")
        inter = dataset.internal_interactions
        mask = np.ones(len(inter), dtype=bool)
        if as_of is not None:
            mask &= (inter[Columns.TIMESTAMP] < as_timestamp(as_of, "as_of")).to_numpy()
        if self.event_types is not None and Columns.EVENT in inter.columns:
            mask &= inter[Columns.EVENT].astype(str).isin(list(self.event_types)).to_numpy()
        u = inter[Columns.USER_IDX].to_numpy()[mask]
        # local wall-clock time: the event's own UTC offset or its user's time zone
        ts = pd.DatetimeIndex(local_time_ns(inter)[mask].view("datetime64[ns]"))
        n = dataset.n_users
        ones = np.ones(u.size, dtype=np.float32)
        self.hour_counts_ = sp.csr_matrix((ones, (u, ts.hour.to_numpy())), shape=(n, 24))
        self.weekday_counts_ = sp.csr_matrix((ones, (u, ts.day_of_week.to_numpy())), shape=(n, 7))
        self.hour_counts_.sum_duplicates()
        self.weekday_counts_.sum_duplicates()
        self.user_ids_ = np.asarray(dataset.user_map.external_ids, dtype=object)
        self.segments_ = segment_labels(segments, self.user_ids_)
        self.segment_hour_ = self._segment_patterns(self.hour_counts_, alpha, list(range(24)))
        self.segment_weekday_ = self._segment_patterns(self.weekday_counts_, alpha, list(range(7)))
        self._alpha = alpha
        return self

    def _segment_patterns(self, counts: sp.csr_matrix, alpha: float, cols: list[int]) -> pd.DataFrame:
        total = np.asarray(counts.sum(axis=0)).ravel().astype(np.float64)
        k = len(cols)
        glob = (total + 1.0) / (total.sum() + k)  # Laplace: never a zero slot
        labels = pd.Series(self.segments_, dtype=object)
        has = labels.notna().to_numpy()
        rows = {"__all__": glob}
        if has.any():
            codes, names = pd.factorize(labels[has])
            member = sp.csr_matrix(
                (np.ones(codes.size), (codes, np.flatnonzero(has))), shape=(len(names), counts.shape[0])
            )
            seg_counts = np.asarray((member @ counts).todense(), dtype=np.float64)
            strength = max(alpha, 1.0)
            smoothed = (seg_counts + strength * glob) / (seg_counts.sum(axis=1, keepdims=True) + strength)
            for name, row in zip(names, smoothed):
                rows[name] = row
        return pd.DataFrame.from_dict(rows, orient="index", columns=cols)

    def _check_fitted(self) -> None:
        if not hasattr(self, "hour_counts_"):
            raise NotFittedError("This SendTimeModel is not fitted yet; call fit(dataset) first.")

    # -------------------------------------------------------------- predict
    def _posterior_best(
        self, counts: sp.csr_matrix, patterns: pd.DataFrame, rows: np.ndarray, segs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Argmax and its posterior probability, computed in chunks of users."""
        code = patterns.index.get_indexer(pd.Index(segs, dtype=object))
        code = np.where(code < 0, patterns.index.get_loc("__all__"), code)  # no / unknown segment
        prior = patterns.to_numpy()
        best = np.empty(rows.size, dtype=np.int64)
        prob = np.empty(rows.size, dtype=np.float64)
        n_ev = np.empty(rows.size, dtype=np.float64)
        for start in range(0, rows.size, _CHUNK):
            sl = slice(start, start + _CHUNK)
            r = rows[sl]
            c = np.zeros((r.size, prior.shape[1]))
            known = r >= 0
            if known.any():
                c[known] = counts[r[known]].toarray()
            tot = c.sum(axis=1)
            post = c + self._alpha * prior[code[sl]]
            if self._alpha == 0:
                empty = tot == 0
                post[empty] = prior[code[sl]][empty]
            post /= post.sum(axis=1, keepdims=True)
            best[sl] = post.argmax(axis=1)
            prob[sl] = post.max(axis=1)
            n_ev[sl] = tot
        return best, prob, n_ev

    def predict(self, user_ids: Any = None, segments: Any = None) -> pd.DataFrame:
        """Best send hour and weekday per user.

        Parameters
        ----------
        user_ids : array-like, optional
            Users to score (default every user of the fitted dataset). Unknown
            users get their segment's (or the population's) pattern.
        segments : optional
            Segments for users unknown to the fitted dataset (same forms as in
            :meth:`fit`); known users keep their fitted segment.

        Returns
        -------
        pandas.DataFrame
            ``user_id, best_hour (0-23), best_weekday (0=Mon), hour_share,
            weekday_share`` (posterior probability of the chosen slot),
            ``n_events, history_weight`` (``n / (n + prior_strength)``),
            ``segment`` and ``source``: ``"user"`` (history_weight >= 0.5),
            ``"segment"`` (some history, mostly the segment's pattern or no
            history and a segment) or ``"population"`` (no history, no segment).
        """
        self._check_fitted()
        if user_ids is None:
            ids = self.user_ids_
            rows = np.arange(ids.size)
        else:
            ids = pd.Index(np.asarray(user_ids, dtype=object) if not isinstance(user_ids, pd.Index) else user_ids)
            rows = pd.Index(self.user_ids_).get_indexer(ids)
            ids = np.asarray(ids, dtype=object)
        segs = np.where(rows >= 0, self.segments_[np.maximum(rows, 0)], None)
        if segments is not None and (rows < 0).any():
            extra = segment_labels(segments, ids)
            segs = np.where(rows < 0, extra, segs)
        hour, hshare, n_ev = self._posterior_best(self.hour_counts_, self.segment_hour_, rows, segs)
        wday, wshare, _ = self._posterior_best(self.weekday_counts_, self.segment_weekday_, rows, segs)
        weight = n_ev / (n_ev + self._alpha) if self._alpha > 0 else (n_ev > 0).astype(float)
        has_seg = pd.notna(pd.Series(segs, dtype=object)).to_numpy()
        source = np.where(weight >= 0.5, "user", np.where(has_seg | (n_ev > 0), "segment", "population"))
        return pd.DataFrame(
            {
                Columns.USER: ids,
                "best_hour": hour,
                "best_weekday": wday,
                "hour_share": hshare,
                "weekday_share": wshare,
                "n_events": n_ev.astype(np.int64),
                "history_weight": weight,
                Columns.SEGMENT: segs,
                "source": source,
            }
        )

    def next_send_time(self, user_ids: Any = None, *, after: Any) -> pd.DataFrame:
        """The first datetime at or after ``after`` on each user's best weekday and hour.

        Parameters
        ----------
        user_ids : array-like, optional
            Users (default all fitted users).
        after : timestamp-like
            Campaign start, read as the Dataset reads times (epoch numbers by
            magnitude; a time-zone-aware time is converted to naive UTC).
            The slot is found on that naive clock, the clock the hours were
            learned in when the Dataset has no UTC offsets; with local-time
            hours (offsets or user time zones), pass a naive local time.

        Returns
        -------
        pandas.DataFrame
            :meth:`predict` columns plus ``send_at`` (on the hour; naive,
            on the clock of ``after``).

        Raises
        ------
        InvalidValueError
            ``after`` is not a date/time (or outside the ``datetime64[ns]``
            range).

        Examples
        --------
        >>> import pandas as pd
        >>> from persona_rec.dataset import Dataset
        >>> inter = pd.DataFrame({"user_id": ["a"] * 3, "item_id": 1,
        ...     "timestamp": pd.date_range("2024-01-05 19:10", periods=3, freq="min")})  # a Friday
        >>> m = SendTimeModel(prior_strength=0).fit(Dataset.from_frames(inter))
        >>> m.next_send_time(after="2024-03-04 10:30")["send_at"].iloc[0]  # a Monday
        Timestamp('2024-03-08 19:00:00')
        """
        pred = self.predict(user_ids)
        start = as_timestamp(after, "after")
        base = start.floor("h")
        slot_now = base.day_of_week * 24 + base.hour
        slot = pred["best_weekday"].to_numpy() * 24 + pred["best_hour"].to_numpy()
        delta = (slot - slot_now) % 168
        send = base + pd.to_timedelta(delta, unit="h")
        send = send.where(send >= start, send + pd.Timedelta(hours=168))
        pred["send_at"] = send
        return pred

    @staticmethod
    def weekday_name(day: int) -> str:
        """Short English weekday name for ``0..6`` (0 = Monday)."""
        return _WEEKDAYS[int(day)]
