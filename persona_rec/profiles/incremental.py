"""Incremental RFM and activity profiles: fold new events in without a rebuild.

:class:`IncrementalRFM` keeps exact per-user sufficient statistics (integer
counts and nanosecond times, the seen order keys, spend sums) so that
``state.update(new_events)`` gives the same columns as a full
``ProfileBuilder([RFMBuilder(), ActivityBuilder()]).build(dataset, as_of=new)``
for :data:`INCREMENTAL_COLUMNS`, in time proportional to the new events plus
one vectorised pass over the users (the 1-5 scores are quantiles over all
buyers, so they are recomputed). Spend sums can differ from a rebuild in the
last bits of floating-point rounding (different summation order).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._validation import as_of_or_after, as_timestamps, check_frame, check_instance
from ..columns import Columns
from ..dataset import Dataset
from ..exceptions import InvalidValueError
from ._context import DAY_NS, PURCHASE_EVENTS, ProfileContext, order_day_keys
from .builders import _quantile_score

__all__ = ["IncrementalRFM", "INCREMENTAL_COLUMNS"]

#: Columns kept current by :class:`IncrementalRFM` (same definitions as
#: :class:`~persona_rec.profiles.RFMBuilder` and :class:`~persona_rec.profiles.ActivityBuilder`).
INCREMENTAL_COLUMNS: tuple[str, ...] = (
    "recency_days", "frequency", "monetary", "avg_order_value", "r_score", "f_score", "m_score",
    "rfm_score", "n_events", "active_days", "first_seen", "last_seen", "tenure_days",
)
_NONE = np.iinfo(np.int64).min


def _ns(values: Any, what: str = "new_events['timestamp']") -> np.ndarray:
    """UTC nanoseconds of event times, read by the parser of ``Dataset.from_frames``.

    Epoch numbers, offsets and zone-aware values mean what they mean at
    ingestion; unparseable or out-of-range values are an ``InvalidValueError``
    naming ``what``, missing ones give ``_NONE``.
    """
    return as_timestamps(values, what, allow_missing=True).view(np.int64)


class IncrementalRFM:
    """Exact incremental RFM / activity state of every user at a point in time.

    Build it with :meth:`from_dataset`, fold later events in with
    :meth:`update` (returns a new state; events must lie in ``[as_of,
    new_as_of)``), read the columns with :meth:`frame`.

    Attributes
    ----------
    as_of : pandas.Timestamp
    user_ids : pandas.Index
        External user ids (Dataset order, then users first seen in updates).

    Examples
    --------
    >>> inter = pd.DataFrame({"user_id": ["a", "a", "b"], "item_id": [1, 2, 1],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-03"]),
    ...     "price": [10.0, 5.0, 2.0]})
    >>> state = IncrementalRFM.from_dataset(Dataset.from_frames(inter), as_of="2024-01-10")
    >>> new = pd.DataFrame({"user_id": ["b", "c"], "item_id": [2, 1], "price": [4.0, 1.0],
    ...     "timestamp": pd.to_datetime(["2024-01-12", "2024-01-13"])})
    >>> state.update(new, as_of="2024-01-20").frame()[["recency_days", "frequency", "monetary"]]
             recency_days  frequency  monetary
    user_id
    a                15.0        2.0      15.0
    b                 8.0        2.0       6.0
    c                 7.0        1.0       1.0
    """

    def __init__(self) -> None:  # state is filled by from_dataset / update
        self.as_of: pd.Timestamp = pd.Timestamp(0)
        self.user_ids = pd.Index([], name=Columns.USER)

    # ----------------------------------------------------------------- build
    @classmethod
    def from_dataset(cls, dataset: Dataset, as_of: Any = None) -> IncrementalRFM:
        """The state of every Dataset user from the events strictly before ``as_of``.

        Parameters
        ----------
        dataset : Dataset
        as_of : datetime-like, optional
            Default: the last event + 1 second.

        Returns
        -------
        IncrementalRFM
        """
        check_instance(dataset, Dataset, "dataset must be a persona_rec.Dataset")
        ts = as_of_or_after(as_of, dataset.time_range[1])
        return cls._from_context(ProfileContext(dataset, ts))

    @classmethod
    def _from_context(cls, ctx: ProfileContext) -> IncrementalRFM:
        """The state from an existing build context (shares its cached arrays)."""
        dataset, ts = ctx.dataset, ctx.as_of
        n = ctx.n_users
        ev = ctx.events
        p = ctx.purchases
        self = cls()
        self.as_of = ts
        self.user_ids = pd.Index(dataset.user_map.external_ids, name=Columns.USER)
        self._has_event = "event" in ev
        self._has_order_id = "order_id" in ev
        self._has_quantity = "quantity" in ev
        self._has_price = "price" in ev
        self._item_price = pd.Series(ctx.item_list_price, index=dataset.item_map.external_ids)
        self._n_events = np.bincount(ev["u"], minlength=n).astype(np.int64)
        self._first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        self._last = np.full(n, _NONE, dtype=np.int64)
        np.minimum.at(self._first, ev["u"], ev["t"])
        np.maximum.at(self._last, ev["u"], ev["t"])
        self._first[self._n_events == 0] = _NONE
        day = ev["t"] // DAY_NS
        self._active_days = np.bincount(
            pd.unique(pd.Series(ev["u"] * (int(day.max() - day.min()) + 1 if len(day) else 1)
                                + (day - (day.min() if len(day) else 0)))).astype(np.int64)
            // (int(day.max() - day.min()) + 1 if len(day) else 1), minlength=n).astype(np.int64)
        self._n_orders = np.bincount(ctx.order_user, minlength=n).astype(np.int64)
        self._last_purchase = ctx.last_purchase_t.copy()
        amount = p["amount"]
        self._spend = np.bincount(p["u"], weights=np.nan_to_num(amount, nan=0.0),
                                  minlength=n).astype(np.float64)
        self._spend_nan = np.bincount(p["u"], weights=np.isnan(amount), minlength=n) > 0
        if self._has_order_id:
            oid = ctx.events.take_rows("order_id", np.flatnonzero(ctx.purchase_mask)) \
                if not bool(ctx.purchase_mask.all()) else ev["order_id"]
            self._orders = pd.DataFrame({"u": p["u"], "order_id": oid,
                                         "day": order_day_keys(oid, p["t"])}).drop_duplicates()
        return self

    # ---------------------------------------------------------------- update
    def update(self, new_events: pd.DataFrame, as_of: Any = None) -> IncrementalRFM:
        """Fold events with ``self.as_of <= timestamp < as_of`` into a new state.

        Parameters
        ----------
        new_events : pandas.DataFrame
            ``user_id``, ``timestamp`` and the optional columns the Dataset had
            (``item_id``, ``event``, ``quantity``, ``price``, ``order_id``).
            Unknown users are added.
        as_of : datetime-like, optional
            New cut-off; default the last new event + 1 second.

        Returns
        -------
        IncrementalRFM

        Raises
        ------
        MissingColumnError
            ``user_id``/``timestamp`` missing, or a column the state tracks
            (``event``, ``order_id``; ``price`` or ``item_id`` to value
            purchases) is missing.
        InvalidValueError
            An event before the state's ``as_of`` (that needs a rebuild) or
            at/after the new ``as_of``, an unparseable timestamp, or a new
            ``as_of`` earlier than the state's.
        """
        req = [Columns.USER, Columns.TIMESTAMP]
        if self._has_event:
            req.append(Columns.EVENT)
        if self._has_order_id:
            req.append("order_id")
        req.append(Columns.PRICE if self._has_price else Columns.ITEM)
        check_frame(new_events, "new_events", req, allow_empty=True)
        t = _ns(new_events[Columns.TIMESTAMP])
        if (t == _NONE).any():
            raise InvalidValueError(
                f"new_events has unparseable timestamp(s) "
                f"{new_events[Columns.TIMESTAMP][t == _NONE].head(3).tolist()}.")
        last = pd.Timestamp(int(t.max()), unit="ns") if len(t) else None
        new_as_of = self.as_of if as_of is None and last is None else as_of_or_after(as_of, last)
        if new_as_of < self.as_of:
            raise InvalidValueError(
                f"as_of={new_as_of} is before the state's as_of={self.as_of}; rebuild instead.")
        early = t < self.as_of.value
        late = t >= new_as_of.value
        if early.any() or late.any():
            bad = new_events[Columns.TIMESTAMP][early | late].head(3).tolist()
            raise InvalidValueError(
                f"new_events timestamps must lie in [{self.as_of}, {new_as_of}) (earlier events "
                f"need a full rebuild), got {bad}.")
        out = self._copy()
        out.as_of = new_as_of
        # users: known ones keep their row, new ones are appended
        ids = new_events[Columns.USER].to_numpy()
        pos = out.user_ids.get_indexer(ids)
        unknown = pd.unique(ids[pos < 0])
        if len(unknown):
            out._grow(unknown)
            pos = out.user_ids.get_indexer(ids)
        n = len(out.user_ids)
        u = pos.astype(np.int64)
        # activity
        out._n_events += np.bincount(u, minlength=n)
        np.maximum.at(out._last, u, t)
        first_new = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first_new, u, t)
        fresh = (out._first == _NONE) & (first_new != np.iinfo(np.int64).max)
        out._first[fresh] = first_new[fresh]
        day = t // DAY_NS
        before = out._last_before
        out._active_days += _new_keys(u, day, np.where(before == _NONE, _NONE, before // DAY_NS))
        # purchases
        if self._has_event:
            kind = new_events[Columns.EVENT].astype(str).str.lower().to_numpy()
            buy = np.isin(kind, list(PURCHASE_EVENTS))
        else:
            buy = np.ones(len(t), dtype=bool)
        pu, pt = u[buy], t[buy]
        if self._has_order_id:
            oid = new_events["order_id"].to_numpy()[buy]
            new_pairs = pd.DataFrame({"u": pu, "order_id": oid,
                                      "day": order_day_keys(oid, pt)}).drop_duplicates()
            merged = new_pairs.merge(out._orders, on=["u", "order_id", "day"], how="left",
                                     indicator=True)
            added = merged[merged["_merge"] == "left_only"][["u", "order_id", "day"]]
            out._n_orders += np.bincount(added["u"].to_numpy(dtype=np.int64), minlength=n)
            out._orders = pd.concat([out._orders, added], ignore_index=True)
        else:
            last_buy_day = np.where(out._last_purchase == _NONE, _NONE,
                                    out._last_purchase // DAY_NS)
            out._n_orders += _new_keys(pu, pt // DAY_NS, last_buy_day)
        np.maximum.at(out._last_purchase, pu, pt)
        qty = (new_events[Columns.QUANTITY].to_numpy(dtype=np.float64)[buy]
               if self._has_quantity and Columns.QUANTITY in new_events.columns
               else np.ones(len(pu)))
        if self._has_price:
            paid = new_events[Columns.PRICE].to_numpy(dtype=np.float64)[buy]
        else:
            paid = self._item_price.reindex(new_events[Columns.ITEM].to_numpy()[buy]) \
                .to_numpy(dtype=np.float64)
        amount = qty * paid
        np.add.at(out._spend, pu, np.nan_to_num(amount, nan=0.0))
        out._spend_nan |= np.bincount(pu, weights=np.isnan(amount), minlength=n) > 0
        return out

    # ------------------------------------------------------------------ read
    def frame(self) -> pd.DataFrame:
        """The :data:`INCREMENTAL_COLUMNS` at :attr:`as_of`, indexed by ``user_id``."""
        as_ns = self.as_of.value
        buyer = self._n_orders > 0
        freq = np.where(buyer, self._n_orders, np.nan).astype(np.float64)
        recency = np.where(buyer, (as_ns - self._last_purchase) / DAY_NS, np.nan)
        monetary = np.where(buyer & ~self._spend_nan, self._spend, np.nan)
        r = _quantile_score(recency, buyer, higher_is_better=False)
        f = _quantile_score(freq, buyer, higher_is_better=True)
        m = _quantile_score(monetary, buyer & np.isfinite(monetary), higher_is_better=True)
        has = self._n_events > 0
        nat = np.datetime64("NaT", "ns")
        first = np.where(has, self._first.astype("datetime64[ns]"), nat)
        last = np.where(has, self._last.astype("datetime64[ns]"), nat)
        return pd.DataFrame({
            "recency_days": recency, "frequency": freq, "monetary": monetary,
            "avg_order_value": monetary / freq, "r_score": r, "f_score": f, "m_score": m,
            "rfm_score": r + f + m, "n_events": self._n_events, "active_days": self._active_days,
            "first_seen": first, "last_seen": last,
            "tenure_days": np.where(has, (as_ns - self._first) / DAY_NS, np.nan),
        }, index=self.user_ids)

    # -------------------------------------------------------------- internals
    def _copy(self) -> IncrementalRFM:
        out = IncrementalRFM()
        out.__dict__.update({k: (v.copy() if isinstance(v, (np.ndarray, pd.DataFrame)) else v)
                             for k, v in self.__dict__.items()})
        out._last_before = self._last.copy()  # last event before this update (for day overlap)
        return out

    def _grow(self, ids: np.ndarray) -> None:
        k = len(ids)
        self.user_ids = self.user_ids.append(pd.Index(ids, name=Columns.USER))
        ext = {"_n_events": 0, "_first": _NONE, "_last": _NONE, "_active_days": 0,
               "_n_orders": 0, "_last_purchase": _NONE, "_spend": 0.0, "_spend_nan": False,
               "_last_before": _NONE}
        for name, fill in ext.items():
            a = getattr(self, name)
            setattr(self, name, np.concatenate([a, np.full(k, fill, dtype=a.dtype)]))

    def __repr__(self) -> str:
        return f"IncrementalRFM(n_users={len(self.user_ids)}, as_of={self.as_of})"


def _new_keys(u: np.ndarray, day: np.ndarray, known_day: np.ndarray) -> np.ndarray:
    """Per user, distinct ``day`` values among ``(u, day)`` other than ``known_day[u]``."""
    n = len(known_day)
    if len(u) == 0:
        return np.zeros(n, dtype=np.int64)
    pairs = pd.DataFrame({"u": u, "d": day}).drop_duplicates()
    pu = pairs["u"].to_numpy()
    fresh = pairs["d"].to_numpy() != known_day[pu]
    return np.bincount(pu[fresh], minlength=n).astype(np.int64)
