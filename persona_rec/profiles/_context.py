"""The shared, point-in-time context every profile builder reads.

:class:`ProfileContext` filters a Dataset's events to ``timestamp < as_of``
once and derives, lazily and at most once, the frames the builders share:
event arrays, the purchase lines, the order-level frame, item category
codes per level, brand codes, item prices and price bands.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from .._text import CategorySep, category_parts, resolve_category_sep, slugify, slugify_values
from .._time import attribute_time_ns, local_time_ns
from ..columns import DAY_NS, PURCHASE_EVENTS, REGISTRATION_COLUMNS, Columns
from ..dataset import Dataset
from ..exceptions import InvalidDtypeError, InvalidValueError

__all__ = ["ProfileContext", "slugify", "PURCHASE_EVENTS", "DAY_NS"]

_NAT_NS = np.iinfo(np.int64).min  # NaT as int64 nanoseconds


def missing_order_id(order_id: np.ndarray) -> np.ndarray:
    """Boolean mask of the missing (None/NaN/NaT) values of an ``order_id`` array."""
    if order_id.dtype.kind in "iub":
        return np.zeros(len(order_id), dtype=bool)
    return np.asarray(pd.isna(order_id), dtype=bool)


def order_day_keys(order_id: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Second order key: the UTC day number where ``order_id`` is missing, else -1.

    Together with ``(user, order_id)`` it makes purchases without an
    ``order_id`` one order per (user, purchase day), as without the column.
    """
    return np.where(missing_order_id(order_id), t // DAY_NS, -1).astype(np.int64)


def _id_codes(order_id: np.ndarray) -> np.ndarray:
    """Non-negative int64 codes of present (non-missing) order ids, equal iff the ids are."""
    if order_id.dtype.kind in "iu" or (
        order_id.dtype.kind == "f" and bool(np.isfinite(order_id).all())
        and bool((order_id == np.floor(order_id)).all())
        and float(np.abs(order_id).max()) < 2**53
    ):
        code = order_id.astype(np.int64)
        return code - code.min()
    return pd.factorize(order_id)[0].astype(np.int64)


def _order_codes(u: np.ndarray, t: np.ndarray, order_id: np.ndarray | None) -> np.ndarray:
    """Codes ``0..k-1`` of the distinct (user, order) pairs of purchase lines.

    Orders are ``order_id`` values, or calendar days (UTC) without ``order_id``;
    lines whose ``order_id`` is missing are one order per (user, purchase day),
    exactly as when the column is absent.
    """
    if len(u) == 0:
        return np.zeros(0, dtype=np.int64)
    missing = np.ones(len(u), dtype=bool) if order_id is None else missing_order_id(order_id)
    code = np.empty(len(u), dtype=np.int64)
    present = ~missing
    n_ids = 0
    if present.any():
        code[present] = _id_codes(order_id[present])
        n_ids = int(code[present].max()) + 1
    if missing.any():
        day = t[missing] // DAY_NS
        code[missing] = n_ids + (day - day.min())
    span = int(code.max()) + 1
    if span <= 4 * len(u) + 1024:
        # dense ids: when every id belongs to one user, the id itself is the order
        owner = np.full(span, -1, dtype=np.int64)
        owner[code] = u
        if bool((owner[code] == u).all()):
            used = np.zeros(span, dtype=bool)
            used[code] = True
            return (np.cumsum(used) - 1)[code].astype(np.int64)
    if span * (int(u.max()) + 1) < 2**62:
        order, _ = pd.factorize(u * span + code)
    else:  # huge id ranges: factorize the pair
        order = pd.MultiIndex.from_arrays([u, code]).factorize()[0]
    return order.astype(np.int64)


class _EventColumns(Mapping):
    """Lazily filtered event columns (each column is filtered once, on first use)."""

    _SOURCES = {"u": "user_idx", "i": "item_idx", "t": Columns.TIMESTAMP, "w": Columns.WEIGHT,
                "event": Columns.EVENT, "quantity": Columns.QUANTITY, "price": Columns.PRICE,
                "order_id": "order_id", "session_id": "session_id"}

    def __init__(self, df: pd.DataFrame, as_of_ns: int) -> None:
        self._df = df
        t = df[Columns.TIMESTAMP].to_numpy().view(np.int64)
        self._mask = t < as_of_ns
        self._full = bool(self._mask.all())
        self._keys = [k for k, src in self._SOURCES.items() if src in df.columns]
        self._cache: dict[str, Any] = {"t": t if self._full else t[self._mask]}

    def _take(self, a: Any) -> Any:
        return a if self._full else a[self._mask]

    def __getitem__(self, key: str) -> Any:
        if key in self._cache:
            return self._cache[key]
        if key == "lt":  # local wall-clock time (ns): timestamp + utc_offset_min
            if Columns.UTC_OFFSET not in self._df.columns:
                return self["t"]
            value = self._take(local_time_ns(self._df))
            self._cache[key] = value
            return value
        if key not in self._keys:
            raise KeyError(key)
        col = self._df[self._SOURCES[key]]
        if key in ("u", "i"):
            value = self._take(col.to_numpy()).astype(np.int64, copy=False)
        elif key in ("w", "quantity", "price"):
            value = self._take(col.to_numpy(dtype=np.float64))
        elif key == "event":
            cat = col.array if isinstance(col.dtype, pd.CategoricalDtype) else pd.Categorical(col)
            value = self._take(cat)
        else:
            value = self._take(col.to_numpy())
        self._cache[key] = value
        return value

    def take_rows(self, key: str, rows: np.ndarray) -> Any:
        """Column ``key`` at positions ``rows`` of the filtered events.

        Reads the rows straight from the Dataset's columns (without
        materialising the whole filtered column) unless it is already cached.
        """
        if key in self._cache:
            return self._cache[key][rows]
        if key not in self._keys:
            raise KeyError(key)
        if not self._full:
            if "_positions" not in self._cache:
                self._cache["_positions"] = np.flatnonzero(self._mask)
            rows = self._cache["_positions"][rows]
        col = self._df[self._SOURCES[key]]
        if key in ("u", "i"):
            return col.to_numpy()[rows].astype(np.int64, copy=False)
        if key in ("w", "quantity", "price"):
            return col.to_numpy()[rows].astype(np.float64, copy=False)
        if key == "event":
            cat = col.array if isinstance(col.dtype, pd.CategoricalDtype) else pd.Categorical(col)
            return cat[rows]
        return col.to_numpy()[rows]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys


@dataclass(frozen=True)
class Codes:
    """Integer codes of one item attribute (``-1`` = missing) and their names."""

    codes: np.ndarray
    names: list[str]


class ProfileContext:
    """Point-in-time view of a Dataset shared by all builders of one build.

    Parameters
    ----------
    dataset : Dataset
        The data.
    as_of : pandas.Timestamp
        Only events with ``timestamp < as_of`` are used.
    category_sep : str, sequence of str or None, default None
        Separator(s) of the levels of the item ``category`` path (None: the
        package default, see :func:`persona_rec.set_category_sep`).

    Attributes
    ----------
    dataset : Dataset
    as_of : pandas.Timestamp
    as_of_ns : int
        ``as_of`` in nanoseconds since the epoch.
    n_users, n_items : int
    category_sep : tuple of str
        The resolved separators.
    """

    def __init__(self, dataset: Dataset, as_of: pd.Timestamp,
                 category_sep: CategorySep = None) -> None:
        if not isinstance(dataset, Dataset):
            raise InvalidDtypeError(
                f"dataset must be a persona_rec.Dataset, got {type(dataset).__name__}; "
                f"build one with Dataset.from_frames(...)."
            )
        self.dataset = dataset
        self.as_of = as_of
        self.as_of_ns = int(as_of.value)
        self.n_users = dataset.n_users
        self.n_items = dataset.n_items
        self.category_sep = resolve_category_sep(category_sep)

    # ----------------------------------------------------------------- events
    @cached_property
    def events(self) -> _EventColumns:
        """Event columns (numpy arrays) restricted to ``timestamp < as_of``.

        A read-only mapping whose columns are materialised on first access.
        Keys: ``u``, ``i`` (internal indices, int64), ``t`` (int64 ns), ``w``
        (weight), and when present ``event`` (pandas.Categorical),
        ``quantity``, ``price``, ``order_id``, ``session_id``.
        """
        return _EventColumns(self.dataset.internal_interactions, self.as_of_ns)

    @property
    def n_events(self) -> int:
        """Number of events before ``as_of``."""
        return len(self.events["t"])

    @cached_property
    def event_codes(self) -> tuple[np.ndarray, list[str]] | None:
        """Per-event integer event-type codes and the type names (None without ``event``)."""
        ev = self.events.get("event")
        if ev is None:
            return None
        return np.asarray(ev.codes, dtype=np.int64), [str(c) for c in ev.categories]

    @cached_property
    def purchase_mask(self) -> np.ndarray:
        """Boolean mask over events: purchases (every event when there is no ``event``)."""
        codes = self.event_codes
        if codes is None:
            return np.ones(self.n_events, dtype=bool)
        c, names = codes
        is_purchase = np.array([n.lower() in PURCHASE_EVENTS for n in names] + [False])
        return is_purchase[np.where(c < 0, len(names), c)]

    # -------------------------------------------------------------- purchases
    @cached_property
    def purchases(self) -> dict[str, np.ndarray]:
        """Purchase lines before ``as_of``.

        Keys: ``u``, ``i``, ``t``, ``quantity`` (1 when missing), ``paid``
        (paid unit price: event ``price``, else the item's list price, NaN if
        neither), ``amount`` (quantity * paid), ``order`` (int64 order key,
        unique per (user, order); distinct purchase day when there is no
        ``order_id``).
        """
        ev = self.events
        m = self.purchase_mask
        full = bool(m.all())
        rows = None if full else np.flatnonzero(m)

        def take(key: str) -> np.ndarray:
            return ev[key] if full else ev.take_rows(key, rows)

        u, i, t = take("u"), take("i"), take("t")
        qty = take("quantity") if "quantity" in ev else np.ones(len(u))
        if "price" in ev:
            paid = take("price")
        else:
            paid = self.item_list_price[i] if len(i) else np.zeros(0)
        order = _order_codes(u, t, take("order_id") if "order_id" in ev else None)
        return {
            "u": u,
            "i": i,
            "t": t,
            "quantity": qty,
            "paid": paid,
            "amount": qty * paid,
            "order": order.astype(np.int64),
        }

    @cached_property
    def order_user(self) -> np.ndarray:
        """User index of each order code of :attr:`purchases`."""
        p = self.purchases
        n_orders = int(p["order"].max()) + 1 if len(p["order"]) else 0
        out = np.zeros(n_orders, dtype=np.int64)
        out[p["order"]] = p["u"]
        return out

    @cached_property
    def last_purchase_t(self) -> np.ndarray:
        """Per user, time of the last purchase line (int64 ns; int64 min without purchases)."""
        p = self.purchases
        out = np.full(self.n_users, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(out, p["u"], p["t"])
        return out

    @cached_property
    def orders(self) -> pd.DataFrame:
        """One row per (user, order), sorted by user then time.

        Columns: ``u``, ``t`` (first line time, int64 ns), ``amount`` (sum of
        the lines' quantity * paid price).
        """
        p = self.purchases
        n_orders = int(p["order"].max()) + 1 if len(p["order"]) else 0
        o = p["order"]
        ou = np.zeros(n_orders, dtype=np.int64)
        ou[o] = p["u"]
        ot = np.full(n_orders, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(ot, o, p["t"])
        amount = np.bincount(o, weights=np.nan_to_num(p["amount"], nan=0.0),
                             minlength=n_orders).astype(np.float64)
        if np.isnan(p["amount"]).any():
            has_nan = np.bincount(o, weights=np.isnan(p["amount"]), minlength=n_orders) > 0
            amount[has_nan] = np.nan
        order = np.lexsort((ot, ou))
        return pd.DataFrame({"u": ou[order], "t": ot[order], "amount": amount[order]})

    @cached_property
    def order_intervals(self) -> pd.DataFrame:
        """Consecutive inter-order intervals: columns ``u``, ``days`` (float)."""
        o = self.orders
        u = o["u"].to_numpy()
        t = o["t"].to_numpy()
        same = u[1:] == u[:-1]
        return pd.DataFrame({"u": u[1:][same], "days": (t[1:] - t[:-1])[same] / DAY_NS})

    def known_users(self, listed_are_known: bool = False) -> np.ndarray:
        """Per user, whether the user existed at ``as_of`` (from data before ``as_of`` only).

        True when the user has an event before ``as_of`` or a registration
        date (``registration_date`` / ``signup_date`` / ``registered_at``)
        before ``as_of``. A row of the users frame without such a date is no
        evidence of existence at a past ``as_of`` (the users frame is usually
        a snapshot of today), so it counts only with ``listed_are_known``
        (used when profiles are built "now", after the last event).

        Parameters
        ----------
        listed_are_known : bool, default False
            Also count every user listed in the users frame (unless they
            register at or after ``as_of``).

        Returns
        -------
        numpy.ndarray of bool
        """
        before = np.bincount(self.events["u"], minlength=self.n_users) > 0
        ds = self.dataset
        attrs = ds.user_attributes(include_sensitive=True)
        reg_col = next((c for c in REGISTRATION_COLUMNS if c in attrs.columns), None)
        registered = np.zeros(self.n_users, dtype=bool)
        registered_later = np.zeros(self.n_users, dtype=bool)
        if reg_col is not None:
            reg_ns = attribute_time_ns(attrs[reg_col])
            has_reg = reg_ns != _NAT_NS
            registered = has_reg & (reg_ns < self.as_of_ns)
            registered_later = has_reg & ~registered
        known = before | registered
        if listed_are_known:
            listed = pd.Index(ds.user_map.external_ids).isin(ds.users[Columns.USER])
            known |= listed & ~registered_later
        return known

    # ------------------------------------------------------------------ items
    @cached_property
    def item_attributes(self) -> pd.DataFrame:
        """Item attributes aligned to internal item order."""
        return self.dataset.item_attributes()

    @cached_property
    def category_levels(self) -> list[Codes]:
        """Item codes per category level (level 1 first); names are slug paths."""
        attrs = self.item_attributes
        if "category" not in attrs.columns:
            return []
        raw = attrs["category"]
        path_codes, uniques = pd.factorize(raw, use_na_sentinel=True)
        # a small loop over the distinct category paths (not over events or users)
        split = [category_parts(u, self.category_sep) for u in uniques]
        depth = max((len(s) for s in split), default=0)
        levels: list[Codes] = []
        for lvl in range(depth):
            names_per_path = ["/".join(s[: lvl + 1]) if len(s) > lvl else None for s in split]
            level_codes, level_names = pd.factorize(
                pd.Series(names_per_path, dtype=object), use_na_sentinel=True
            )
            lut = np.append(level_codes, -1).astype(np.int64)
            levels.append(Codes(lut[np.where(path_codes < 0, len(lut) - 1, path_codes)],
                                [str(x) for x in level_names]))
        return levels

    @cached_property
    def leaf_category(self) -> np.ndarray:
        """Per item, a code of its full (deepest) category path; -1 when missing."""
        attrs = self.item_attributes
        if "category" not in attrs.columns:
            return np.full(self.n_items, -1, dtype=np.int64)
        codes, _ = pd.factorize(attrs["category"], use_na_sentinel=True)
        return codes.astype(np.int64)

    @cached_property
    def brands(self) -> Codes | None:
        """Item brand codes (slugged names), or None without a ``brand`` attribute."""
        attrs = self.item_attributes
        if "brand" not in attrs.columns:
            return None
        raw = attrs["brand"]
        codes, names = pd.factorize(slugify_values(raw), use_na_sentinel=True)
        return Codes(codes.astype(np.int64), [str(n) for n in names])

    @cached_property
    def item_list_price(self) -> np.ndarray:
        """Per item, the ``price`` attribute (list price); NaN when absent."""
        attrs = self.item_attributes
        if Columns.PRICE not in attrs.columns:
            return np.full(self.n_items, np.nan)
        return pd.to_numeric(attrs[Columns.PRICE], errors="coerce").to_numpy(dtype=np.float64)

    @cached_property
    def item_paid_stats(self) -> pd.DataFrame:
        """Per item (n_items rows): ``n`` purchases, ``median``, ``max`` paid price, ``n_prices``."""
        p = self.purchases
        ok = np.isfinite(p["paid"])
        s = pd.Series(p["paid"][ok])
        g = s.groupby(p["i"][ok])
        stats = pd.DataFrame({
            "n": g.size(),
            "median": g.median(),
            "max": g.max(),
            "n_prices": g.nunique(),
        })
        return stats.reindex(np.arange(self.n_items))

    @cached_property
    def item_price(self) -> np.ndarray:
        """Per item, list price when known, else the median paid price before ``as_of``."""
        price = self.item_list_price.copy()
        missing = ~np.isfinite(price)
        if missing.any():
            price[missing] = self.item_paid_stats["median"].to_numpy()[missing]
        return price

    @cached_property
    def item_first_seen(self) -> np.ndarray:
        """Per item, first appearance in ns.

        The earlier of the ``first_seen`` attribute (when present) and the
        item's first event before ``as_of``; ``int64 min`` when neither exists.
        """
        ev = self.events
        first = np.full(self.n_items, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, ev["i"], ev["t"])
        attrs = self.item_attributes
        if "first_seen" in attrs.columns:
            fs_ns = attribute_time_ns(attrs["first_seen"])
            known = fs_ns != _NAT_NS
            first[known] = np.minimum(first[known], fs_ns[known])
        first[first == np.iinfo(np.int64).max] = np.iinfo(np.int64).min  # never seen
        return first

    def price_bands(self, min_items: int) -> np.ndarray:
        """Item price band codes: 0 low, 1 mid, 2 high, -1 unknown.

        An item's band is its price tercile (by rank, ties averaged) among the
        priced items of its level-1 category when that category has at least
        ``min_items`` priced items, else among all priced items.
        """
        levels = self.category_levels
        return price_band_codes(self.item_price, levels[0] if levels else None, min_items)


def price_band_codes(price: np.ndarray, level1: Codes | None, min_items: int) -> np.ndarray:
    """Price band codes (see :meth:`ProfileContext.price_bands`) from item prices.

    Parameters
    ----------
    price : numpy.ndarray
        Per item, its price (NaN = unknown).
    level1 : Codes or None
        Level-1 category codes of the items.
    min_items : int
        Minimum priced items of a category for within-category terciles.

    Returns
    -------
    numpy.ndarray of int64
    """
    ok = np.isfinite(price)
    bands = np.full(len(price), -1, dtype=np.int64)
    if not ok.any():
        return bands
    s = pd.Series(price[ok])
    pct_global = s.rank(pct=True).to_numpy()
    pct = pct_global
    if level1 is not None:
        cat = level1.codes[ok]
        has_cat = cat >= 0
        sizes = np.bincount(cat[has_cat], minlength=len(level1.names))
        use_cat = has_cat & (sizes[np.where(has_cat, cat, 0)] >= min_items)
        if use_cat.any():
            pct_cat = s.groupby(cat).rank(pct=True).to_numpy()
            pct = np.where(use_cat, pct_cat, pct_global)
    bands[ok] = np.where(pct <= 1 / 3, 0, np.where(pct <= 2 / 3, 1, 2))
    return bands
