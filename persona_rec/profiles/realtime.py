"""Real-time profile updates: fold a batch of new events into built profiles.

:class:`ProfileState` keeps, next to a :class:`~persona_rec.profiles.Profiles`,
the per-user sufficient statistics of the builders that can be updated
exactly without a rebuild: :class:`~persona_rec.profiles.RFMBuilder` and the
counts/times of :class:`~persona_rec.profiles.ActivityBuilder` (through
:class:`~persona_rec.profiles.IncrementalRFM`), the hour/weekday histograms,
session and funnel counts, the decayed user x item weights of
:class:`~persona_rec.profiles.AffinityBuilder`, the order table of
:class:`~persona_rec.profiles.LifecycleBuilder` and the registration dates of
:class:`~persona_rec.profiles.DemographicBuilder`. It is created by
``ProfileBuilder.build(..., updatable=True)`` and used by
:meth:`Profiles.update <persona_rec.profiles.Profiles.update>`; see
``docs/profiles.md`` ("Real-time updates").

Cost of one update: proportional to the new events plus a few vectorised
passes over the users (quantile scores, the population median interval and
the affinity normalisation are global, so they are recomputed).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._time import attribute_time_ns
from ..columns import Columns
from ..exceptions import InvalidValueError, UnknownIdError
from ._context import (
    DAY_NS,
    PURCHASE_EVENTS,
    ProfileContext,
    order_day_keys,
    price_band_codes,
)
from .builders import (
    CART_EVENTS,
    VIEW_EVENTS,
    ActivityBuilder,
    AffinityBuilder,
    DemographicBuilder,
    LifecycleBuilder,
    RFMBuilder,
    expected_intervals_from_orders,
)
from .incremental import _NONE, IncrementalRFM, _ns

__all__ = ["ProfileState", "UPDATABLE_BUILDERS"]

#: Builder classes whose columns :meth:`Profiles.update` keeps exact.
UPDATABLE_BUILDERS: tuple[type, ...] = (
    DemographicBuilder, RFMBuilder, ActivityBuilder, AffinityBuilder, LifecycleBuilder)

_RFM_COLUMNS = ("recency_days", "frequency", "monetary", "avg_order_value", "r_score", "f_score",
                "m_score", "rfm_score")
_ACTIVITY_FROM_RFM = ("n_events", "active_days", "first_seen", "last_seen", "tenure_days")
_HOUR_NS = 3600 * 10**9


def _grow(a: np.ndarray, n: int, fill: Any) -> np.ndarray:
    """``a`` extended along axis 0 to ``n`` rows filled with ``fill`` (a new array)."""
    if len(a) >= n:
        return a.copy()
    pad = np.full((n - len(a),) + a.shape[1:], fill, dtype=a.dtype)
    return np.concatenate([a, pad])


class ProfileState:
    """Sufficient statistics that let :meth:`Profiles.update` skip a rebuild.

    Not built directly: ``ProfileBuilder.build(dataset, as_of, updatable=True)``
    attaches one to the profiles it returns (it is not saved with
    :meth:`Profiles.save`).

    Attributes
    ----------
    as_of : pandas.Timestamp
    user_ids : pandas.Index
        External user ids in profile row order.
    """

    def __init__(self) -> None:  # filled by from_context / update
        self.as_of = pd.Timestamp(0)
        self._builders: dict[type, Any] = {}

    @property
    def user_ids(self) -> pd.Index:
        """External user ids, profile row order (new users appended)."""
        return self._rfm.user_ids

    def __repr__(self) -> str:
        names = [b.__name__ for b in self._builders]
        return f"ProfileState(n_users={len(self.user_ids)}, as_of={self.as_of}, builders={names})"

    # ----------------------------------------------------------------- build
    @classmethod
    def from_context(cls, ctx: ProfileContext, builders: Any,
                     columns: dict[str, Any]) -> ProfileState:
        """The state of a build.

        Parameters
        ----------
        ctx : ProfileContext
            The build's context.
        builders : sequence of Builder
            Instances of :data:`UPDATABLE_BUILDERS` only.
        columns : dict
            The columns the builders produced (internal user order).

        Returns
        -------
        ProfileState
        """
        self = cls()
        ds = ctx.dataset
        self._builders = {type(b): b for b in builders}
        self.as_of = ctx.as_of
        self._rfm = IncrementalRFM._from_context(ctx)
        inter = ds.internal_interactions
        self._allowed = (set(ds.interactions.columns) | {Columns.WEIGHT}) - {"user_idx",
                                                                            "item_idx"}
        self._has_session = "session_id" in inter.columns
        self._has_offset = Columns.UTC_OFFSET in inter.columns
        self._event_weights = ds.event_weights
        self._item_ids = pd.Index(ds.item_map.external_ids)
        n = ctx.n_users
        ev = ctx.events
        u = ev["u"]
        kind = self._kinds_of(ctx)
        if ActivityBuilder in self._builders:
            lt = ev["lt"]
            hour = (lt // _HOUR_NS) % 24
            weekday = (lt // DAY_NS + 3) % 7
            self._hours = np.bincount(u * 24 + hour, minlength=n * 24).reshape(n, 24)
            self._weekdays = np.bincount(u * 7 + weekday, minlength=n * 7).reshape(n, 7)
            self._n_sessions = np.asarray(columns["n_sessions"], dtype=np.int64)
            if self._has_session:
                self._sessions = pd.DataFrame({"u": u, "s": ev["session_id"]}).drop_duplicates()
            if kind is not None:
                self._views = np.bincount(u[np.isin(kind, list(VIEW_EVENTS))], minlength=n)
                self._carts = np.bincount(u[np.isin(kind, list(CART_EVENTS))], minlength=n)
                self._buys = np.bincount(u[ctx.purchase_mask], minlength=n)
        if AffinityBuilder in self._builders:
            aff: AffinityBuilder = self._builders[AffinityBuilder]
            self._ui = sp.csr_matrix(aff.user_item_weights(ctx), dtype=np.float64)
            self._kinds = aff.item_kinds(ctx)
            levels = ctx.category_levels
            self._level1 = levels[0] if levels else None
            self._list_price = ctx.item_list_price
            self._unpriced = ~np.isfinite(self._list_price)
            p = ctx.purchases
            ok = np.isfinite(p["paid"]) & self._unpriced[p["i"]]
            self._paid_i, self._paid = p["i"][ok], p["paid"][ok]
            self._branded_items = self._kinds["brand"][0] >= 0
            self._n_branded = np.bincount(u[self._branded_items[ev["i"]]], minlength=n)
        if LifecycleBuilder in self._builders:
            p = ctx.purchases
            if "order_id" in ev:
                rows = np.flatnonzero(ctx.purchase_mask)
                key = ev.take_rows("order_id", rows)
            else:
                key = p["t"] // DAY_NS
            self._orders = _first_line_per_order(p["u"], key, p["t"])
        if DemographicBuilder in self._builders:
            self._reg_ns = _registration_ns(ds.user_attributes(include_sensitive=True), n)
        self._known = np.asarray(columns.get("known_at_as_of", np.zeros(n, bool)), dtype=bool)
        return self

    @staticmethod
    def _kinds_of(ctx: ProfileContext) -> np.ndarray | None:
        codes = ctx.event_codes
        if codes is None:
            return None
        c, names = codes
        lut = np.array([x.lower() for x in names] + [""], dtype=object)
        return lut[np.where(c < 0, len(names), c)]

    # ---------------------------------------------------------------- update
    def update(self, new_events: pd.DataFrame, as_of: Any = None) -> ProfileState:
        """A new state with ``new_events`` folded in (``self`` is not changed).

        Parameters
        ----------
        new_events : pandas.DataFrame
            Events in the Dataset's interaction format (external ``user_id``
            and ``item_id``, naive UTC ``timestamp``), with the columns the
            profiles were built from.
        as_of : datetime-like, optional
            The new cut-off; default the last new event + 1 second.

        Returns
        -------
        ProfileState

        Raises
        ------
        InvalidDtypeError
            ``new_events`` is not a DataFrame.
        MissingColumnError
            A column the state needs is missing.
        InvalidValueError
            A column the profiles were not built with; an event before the
            profiles' ``as_of`` or at/after the new ``as_of``; an unknown
            event type (without a ``weight`` column).
        UnknownIdError
            An item that is not in the Dataset the profiles were built from.
        """
        from .._validation import check_frame, check_instance

        check_instance(new_events, pd.DataFrame, "new_events must be a pandas.DataFrame")
        extra = sorted(map(str, set(new_events.columns) - self._allowed))
        if extra:
            raise InvalidValueError(
                f"new_events has column(s) {extra} that the profiles were not built with; "
                f"allowed columns: {sorted(self._allowed)}.")
        req = [Columns.USER, Columns.ITEM, Columns.TIMESTAMP]
        if self._has_offset:
            req.append(Columns.UTC_OFFSET)
        if self._has_session:
            req.append("session_id")
        check_frame(new_events, "new_events", req, allow_empty=True)
        item_pos = self._item_ids.get_indexer(new_events[Columns.ITEM].to_numpy())
        if (item_pos < 0).any():
            bad = pd.unique(new_events[Columns.ITEM].to_numpy()[item_pos < 0])[:5].tolist()
            raise UnknownIdError(
                f"new_events refers to item(s) {bad} that are not in the Dataset the profiles "
                f"were built from ({int((item_pos < 0).sum())} rows); their categories, brand "
                f"and price are unknown: rebuild the profiles with them.")
        rfm = self._rfm.update(new_events, as_of)  # validates times, grows users
        out = ProfileState()
        out.__dict__.update(self.__dict__)
        out._rfm = rfm
        out.as_of = rfm.as_of
        n = len(rfm.user_ids)
        u = rfm.user_ids.get_indexer(new_events[Columns.USER].to_numpy()).astype(np.int64)
        i = item_pos.astype(np.int64)
        t = _ns(new_events[Columns.TIMESTAMP])
        kind = (new_events[Columns.EVENT].astype(str).str.lower().to_numpy(dtype=object)
                if Columns.EVENT in new_events.columns else None)
        out._known = _grow(self._known, n, False)
        if ActivityBuilder in self._builders:
            out._update_activity(self, new_events, u, t, kind, n)
        if AffinityBuilder in self._builders:
            out._update_affinity(self, new_events, u, i, t, kind, n)
        if LifecycleBuilder in self._builders:
            buy = np.isin(kind, list(PURCHASE_EVENTS)) if kind is not None \
                else np.ones(len(t), dtype=bool)
            key = (new_events["order_id"].to_numpy()[buy] if "order_id" in new_events.columns
                   else t[buy] // DAY_NS)
            new_orders = _first_line_per_order(u[buy], key, t[buy])
            merged = new_orders.merge(self._orders[["u", "key", "day"]], on=["u", "key", "day"],
                                      how="left", indicator=True)
            added = new_orders[(merged["_merge"] == "left_only").to_numpy()]
            out._orders = pd.concat([self._orders, added], ignore_index=True)
        if DemographicBuilder in self._builders:
            out._reg_ns = None if self._reg_ns is None else _grow(self._reg_ns, n, _NONE)
        return out

    def _update_activity(self, old: ProfileState, ev: pd.DataFrame, u: np.ndarray,
                         t: np.ndarray, kind: np.ndarray | None, n: int) -> None:
        act: ActivityBuilder = self._builders[ActivityBuilder]
        lt = t + (ev[Columns.UTC_OFFSET].to_numpy().astype(np.int64) * 60 * 10**9
                  if self._has_offset else 0)
        hour = (lt // _HOUR_NS) % 24
        weekday = (lt // DAY_NS + 3) % 7
        self._hours = _grow(old._hours, n, 0) + np.bincount(
            u * 24 + hour, minlength=n * 24).reshape(n, 24)
        self._weekdays = _grow(old._weekdays, n, 0) + np.bincount(
            u * 7 + weekday, minlength=n * 7).reshape(n, 7)
        sessions = _grow(old._n_sessions, n, 0)
        if self._has_session:
            pairs = pd.DataFrame({"u": u, "s": ev["session_id"].to_numpy()}).drop_duplicates()
            merged = pairs.merge(old._sessions, on=["u", "s"], how="left", indicator=True)
            added = pairs[(merged["_merge"] == "left_only").to_numpy()]
            sessions += np.bincount(added["u"].to_numpy(dtype=np.int64), minlength=n)
            self._sessions = pd.concat([old._sessions, added], ignore_index=True)
        elif len(t):
            order = np.lexsort((t, u))
            us, ts = u[order], t[order]
            prev = np.empty(len(ts), dtype=np.int64)
            prev[1:] = ts[:-1]
            first = np.ones(len(us), dtype=bool)
            first[1:] = us[1:] != us[:-1]
            prev[first] = _grow(old._rfm._last, n, _NONE)[us[first]]
            gap = int(act.session_gap_minutes * 60 * 10**9)
            new = (prev == _NONE) | (ts - np.where(prev == _NONE, 0, prev) > gap)
            sessions += np.bincount(us[new], minlength=n)
        self._n_sessions = sessions
        if kind is not None and hasattr(old, "_views"):
            buy = np.isin(kind, list(PURCHASE_EVENTS))
            self._views = _grow(old._views, n, 0) + np.bincount(
                u[np.isin(kind, list(VIEW_EVENTS))], minlength=n)
            self._carts = _grow(old._carts, n, 0) + np.bincount(
                u[np.isin(kind, list(CART_EVENTS))], minlength=n)
            self._buys = _grow(old._buys, n, 0) + np.bincount(u[buy], minlength=n)

    def _update_affinity(self, old: ProfileState, ev: pd.DataFrame, u: np.ndarray,
                         i: np.ndarray, t: np.ndarray, kind: np.ndarray | None, n: int) -> None:
        aff: AffinityBuilder = self._builders[AffinityBuilder]
        if Columns.WEIGHT in ev.columns:
            w = ev[Columns.WEIGHT].to_numpy(dtype=np.float64)
        elif kind is not None:
            weights = {str(k).lower(): float(v) for k, v in self._event_weights.items()}
            w = pd.Series(kind).map(weights).to_numpy(dtype=np.float64)
            if np.isnan(w).any():
                bad = pd.unique(kind[np.isnan(w)])[:5].tolist()
                raise InvalidValueError(
                    f"new_events has event type(s) {bad} without a weight; known types: "
                    f"{sorted(weights)} (or give a 'weight' column).")
        else:
            w = np.ones(len(t))
        new_ns, old_ns = self.as_of.value, old.as_of.value
        decay = np.exp2(-((new_ns - old_ns) / DAY_NS) / aff.half_life_days)
        ui = old._ui
        if ui.shape[0] < n:
            ui = sp.vstack([ui, sp.csr_matrix((n - ui.shape[0], ui.shape[1]))], format="csr")
        add = sp.csr_matrix(
            (w * np.exp2(-((new_ns - t) / DAY_NS) / aff.half_life_days), (u, i)), shape=ui.shape)
        self._ui = (ui * decay + add).tocsr()
        self._n_branded = _grow(old._n_branded, n, 0) + np.bincount(
            u[self._branded_items[i]], minlength=n)
        if old._unpriced.any():
            buy = np.isin(kind, list(PURCHASE_EVENTS)) if kind is not None \
                else np.ones(len(t), dtype=bool)
            paid = (ev[Columns.PRICE].to_numpy(dtype=np.float64) if Columns.PRICE in ev.columns
                    else np.full(len(t), np.nan))
            ok = buy & np.isfinite(paid) & old._unpriced[i]
            if ok.any():
                self._paid_i = np.concatenate([old._paid_i, i[ok]])
                self._paid = np.concatenate([old._paid, paid[ok]])
                price = self._list_price.copy()
                med = pd.Series(self._paid).groupby(self._paid_i).median()
                price[med.index.to_numpy()] = med.to_numpy()
                kinds = dict(old._kinds)
                kinds["price_band"] = (price_band_codes(price, self._level1,
                                                        aff.price_band_min_items),
                                       kinds["price_band"][1])
                self._kinds = kinds

    # ------------------------------------------------------------------ read
    def columns(self) -> tuple[dict[str, Any], dict[str, tuple[sp.csr_matrix, list[str]]]]:
        """The updated profile columns (row order :attr:`user_ids`) and affinities."""
        n = len(self.user_ids)
        as_ns = self.as_of.value
        rf = self._rfm.frame()
        cols: dict[str, Any] = {}
        affinities: dict[str, tuple[sp.csr_matrix, list[str]]] = {}
        if RFMBuilder in self._builders:
            cols.update({c: rf[c].to_numpy() for c in _RFM_COLUMNS})
        has = self._rfm._n_events > 0
        if ActivityBuilder in self._builders:
            cols.update({c: rf[c].to_numpy() for c in _ACTIVITY_FROM_RFM})
            cols["n_sessions"] = self._n_sessions
            for name, counts in (("preferred_hour", self._hours),
                                 ("preferred_weekday", self._weekdays)):
                v = np.full(n, np.nan)
                v[has] = counts[has].argmax(1)
                cols[name] = v
            if hasattr(self, "_views"):
                cols.update(ActivityBuilder.funnel_from_counts(
                    self._views.astype(np.float64), self._carts.astype(np.float64),
                    self._buys.astype(np.float64), self._rfm._n_events))
        if AffinityBuilder in self._builders:
            part = self._builders[AffinityBuilder].part_from_weights(
                self._ui, self._kinds, self._n_branded)
            cols.update(part.columns)
            affinities = part.affinities
        if LifecycleBuilder in self._builders:
            lc: LifecycleBuilder = self._builders[LifecycleBuilder]
            o = self._orders
            ou, ot = o["u"].to_numpy(dtype=np.int64), o["t"].to_numpy(dtype=np.int64)
            srt = np.lexsort((ot, ou))
            est = expected_intervals_from_orders(ou[srt], ot[srt], self._rfm._last_purchase, n,
                                                 lc.prior_weight, lc.default_interval_days)
            cols.update(lc.part_from_intervals(est, as_ns, self._rfm._last).columns)
        reg_ok = np.zeros(n, dtype=bool)
        if DemographicBuilder in self._builders and self._reg_ns is not None:
            reg_ok = (self._reg_ns != _NONE) & (self._reg_ns < as_ns)
            age = np.full(n, np.nan)
            age[reg_ok] = (as_ns - self._reg_ns[reg_ok]) / DAY_NS
            cols["account_age_days"] = age
        cols["known_at_as_of"] = self._known | has | reg_ok
        return cols, affinities


def _first_line_per_order(u: np.ndarray, key: Any, t: np.ndarray) -> pd.DataFrame:
    """One row per (user, order key, day key): ``u``, ``key``, ``day``, ``t`` (first line, ns).

    ``day`` is the UTC purchase day where the key (an ``order_id``) is missing,
    else -1: lines without an ``order_id`` are one order per (user, day).
    """
    key = np.asarray(key)
    if len(u) == 0:
        return pd.DataFrame({"u": np.zeros(0, np.int64), "key": key[:0],
                             "day": np.zeros(0, np.int64), "t": np.zeros(0, np.int64)})
    df = pd.DataFrame({"u": u, "key": key, "day": order_day_keys(key, t), "t": t})
    return df.groupby(["u", "key", "day"], sort=False, dropna=False)["t"].min().reset_index()


def _registration_ns(attrs: pd.DataFrame, n: int) -> np.ndarray | None:
    col = next((c for c in DemographicBuilder.REGISTRATION_COLUMNS if c in attrs.columns), None)
    if col is None:
        return None
    return attribute_time_ns(attrs[col])  # missing: int64 min, which is _NONE

