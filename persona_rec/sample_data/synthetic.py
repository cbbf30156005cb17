"""Seeded generator of realistic e-commerce behaviour logs with planted ground truth.

The generator simulates a shop with a three-level category tree, brands,
list prices, discounts and a view -> cart -> purchase funnel. Users belong to
planted segments with distinct category preferences; some are price
sensitive, some seek novelties, some are new or churned, some only
registered. Everything is vectorised with numpy, so 10M+ events take seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._text import fill_doc
from .._validation import check_int, check_number
from ..columns import Columns
from ..dataset import Dataset
from ..exceptions import InvalidParameterError

__all__ = ["CATEGORY_TREE", "SyntheticData", "synthetic", "synthetic_frames"]

#: The shop's category tree: L1 -> L2 -> list of L3. Item categories are
#: ``"L1 > L2 > L3"`` paths. Segment ``s`` favours the L1 categories at
#: positions ``s, s + n_segments, ...`` of this dict.
CATEGORY_TREE: dict[str, dict[str, list[str]]] = {
    "Home": {"Kitchen": ["Mugs", "Cookware"], "Decor": ["Candles", "Frames"],
             "Bedding": ["Pillows", "Duvets"]},
    "Fashion": {"Women": ["Dresses", "Shoes"], "Men": ["Shirts", "Trainers"],
                "Accessories": ["Bags", "Watches"]},
    "Electronics": {"Phones": ["Smartphones", "Cases"], "Audio": ["Headphones", "Speakers"],
                    "Computers": ["Laptops", "Keyboards"]},
    "Beauty": {"Skincare": ["Creams", "Serums"], "Makeup": ["Lipstick", "Mascara"],
               "Fragrance": ["Perfume", "Body Mist"]},
    "Sports": {"Fitness": ["Yoga Mats", "Dumbbells"], "Outdoor": ["Tents", "Backpacks"],
               "Cycling": ["Helmets", "Bike Lights"]},
    "Toys": {"Educational": ["Puzzles", "STEM Kits"], "Dolls": ["Fashion Dolls", "Doll Houses"],
             "Games": ["Board Games", "Card Games"]},
    "Grocery": {"Snacks": ["Crisps", "Chocolate"], "Drinks": ["Tea", "Coffee"],
                "Pantry": ["Pasta", "Sauces"]},
    "Books": {"Fiction": ["Novels", "Crime"], "Non-fiction": ["Biography", "Cookbooks"],
              "Children": ["Picture Books", "Comics"]},
}

#: Typical list price (currency units) of an L1 category.
_L1_PRICE = {"Home": 25.0, "Fashion": 45.0, "Electronics": 120.0, "Beauty": 22.0,
             "Sports": 50.0, "Toys": 20.0, "Grocery": 6.0, "Books": 12.0}
_BRAND_A = ["Nor", "Lum", "Vel", "Ast", "Cor", "Bel", "Kai", "Ori", "Sol", "Mar", "Tes", "Qui"]
_BRAND_B = ["dic", "ora", "ex", "wood", "ly", "ance", "ton", "vix", "ure", "field", "ia", "o"]
_CITIES = ["Shanghai", "Beijing", "Shenzhen", "Guangzhou", "Hangzhou", "Chengdu", "Wuhan",
           "Nanjing", "Xi'an", "Chongqing", "Suzhou", "Tianjin"]
_BRANDS_PER_L1 = 6
_DAY = 86_400.0
_NEW_DAYS = 30
_CHURN_DAYS = 90
_DISCOUNTS = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
_EVENTS = ["view", "cart", "purchase"]


@dataclass(frozen=True)
class SyntheticData:
    """A synthetic Dataset with its planted ground truth.

    Attributes
    ----------
    dataset : Dataset
        Interactions ``user_id`` (int), ``item_id`` (int), ``timestamp``,
        ``event`` (view/cart/purchase), ``quantity``, ``price`` (unit price
        paid or shown, after discount), ``order_id`` (float, NaN except on
        purchases), ``session_id`` (int); users ``age``, ``gender``, ``city``,
        ``registration_date`` (attribute-only users included); items
        ``title``, ``category`` (``"L1 > L2 > L3"``), ``brand``, ``price``
        (list price), ``first_seen``.
    user_truth : pandas.DataFrame
        Indexed by ``user_id``: ``segment`` (int), ``price_sensitive``,
        ``novelty_seeker``, ``is_new`` (first activity in the last 30 days),
        ``is_churned`` (no activity in the last 90 days), ``attribute_only``
        (bool), ``cycle_days`` (planted mean days between a user's orders;
        NaN with fewer than 2 orders), ``n_orders``, ``preferred_hour``, ``favourite_l1`` (the L1
        names the segment favours, ``|``-joined).
    item_truth : pandas.DataFrame
        Indexed by ``item_id``: ``segment_affinity`` (the segment whose L1
        categories the item belongs to), ``l1``, ``popularity`` (sampling
        weight, sums to 1), ``is_cheap`` (list price below its L3 median),
        ``released_in_window`` (first_seen after ``start``).
    start, end : pandas.Timestamp
        The simulated period ``[start, end)``.
    """

    dataset: Dataset
    user_truth: pd.DataFrame
    item_truth: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp


def _draw(rng: np.random.Generator, pool: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """Draw ``n`` items from ``pool`` with probability proportional to ``weights[pool]``."""
    if n == 0:
        return np.empty(0, dtype=np.int64)
    cdf = np.cumsum(weights[pool])
    pos = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")
    return pool[np.minimum(pos, len(pool) - 1)]


class _Shop:
    """Items, pools and the vectorised item chooser."""

    def __init__(self, rng: np.random.Generator, n_items: int, n_segments: int,
                 popularity_exponent: float, days: int) -> None:
        l1_names = list(CATEGORY_TREE)
        leaves = [(i, l1, l2, l3) for i, (l1, sub) in enumerate(CATEGORY_TREE.items())
                  for l2, l3s in sub.items() for l3 in l3s]
        leaf_l1 = np.array([lf[0] for lf in leaves])
        leaf_path = np.array([f"{l1} > {l2} > {l3}" for _, l1, l2, l3 in leaves], dtype=object)
        leaf_l3 = np.array([lf[3] for lf in leaves], dtype=object)
        leaf_base = np.array([_L1_PRICE[lf[1]] for lf in leaves]) * np.exp(rng.normal(0, 0.35, len(leaves)))

        self.n_items = n_items
        self.l1_names = l1_names
        self.l1_segment = np.arange(len(l1_names)) % n_segments
        leaf = rng.integers(len(leaves), size=n_items)
        self.leaf = leaf
        self.l1 = leaf_l1[leaf]
        self.segment = self.l1_segment[self.l1]
        brand_rank = np.minimum(rng.zipf(1.6, size=n_items) - 1, _BRANDS_PER_L1 - 1)
        brand_idx = self.l1 * _BRANDS_PER_L1 + brand_rank
        brand_names = np.array([a + b for a in _BRAND_A for b in _BRAND_B], dtype=object)
        brand_names = brand_names[rng.permutation(len(brand_names))[: len(l1_names) * _BRANDS_PER_L1]]
        self.brand = brand_names[brand_idx]
        raw_price = leaf_base[leaf] * np.exp(rng.normal(0, 0.4, n_items))
        self.price = np.maximum(np.round(raw_price) - 0.01, 0.49)
        leaf_median = pd.Series(self.price).groupby(leaf).transform("median").to_numpy()
        self.is_cheap = self.price < leaf_median
        ranks = rng.permutation(n_items)
        self.weight = (ranks + 1.0) ** -popularity_exponent
        released = rng.random(n_items) < 0.25
        # first_seen in days relative to start (whole days)
        self.first_seen_day = np.where(
            released, rng.integers(0, days, n_items), -rng.integers(1, 730, n_items)
        ).astype(np.int64)
        self.first_seen = self.first_seen_day * _DAY
        self.released = released
        self.path = leaf_path[leaf]
        self.title = np.array(
            [f"{b} {l3} {i + 1:05d}" for i, (b, l3) in enumerate(zip(self.brand, leaf_l3[leaf]))],
            dtype=object,
        )
        all_items = np.arange(n_items)
        old = self.first_seen_day < 0
        self.global_pool = all_items
        self.global_old = all_items[old] if old.any() else all_items
        self.seg_pool, self.seg_old, self.seg_cheap, self.seg_new_sorted = [], [], [], []
        for s in range(n_segments):
            in_s = self.segment == s
            pool = all_items[in_s] if in_s.any() else all_items
            pool_old = all_items[in_s & old]
            pool_old = pool_old if len(pool_old) else self.global_old
            cheap = all_items[in_s & self.is_cheap & old]
            new = all_items[in_s & released]
            self.seg_pool.append(pool)
            self.seg_old.append(pool_old)
            self.seg_cheap.append(cheap if len(cheap) else pool_old)
            self.seg_new_sorted.append(new[np.argsort(self.first_seen[new], kind="stable")])

    def choose(self, rng: np.random.Generator, seg: np.ndarray, t: np.ndarray,
               p_staple: np.ndarray, staple: np.ndarray, p_new: np.ndarray,
               p_cheap: np.ndarray, p_segment: float) -> np.ndarray:
        """Choose one item per event (vectorised over events)."""
        n = len(t)
        item = np.full(n, -1, dtype=np.int64)
        u = rng.random(n)
        is_staple = u < p_staple
        item[is_staple] = staple[is_staple]
        want_new = ~is_staple & (u < p_staple + p_new)
        want_cheap = ~is_staple & ~want_new & (u < p_staple + p_new + p_cheap)
        own_seg = rng.random(n) < p_segment
        for s in range(len(self.seg_pool)):
            in_s = seg == s
            # novelties: a uniform pick among the segment's items released in the last 30 days
            m = np.flatnonzero(in_s & want_new)
            new_sorted = self.seg_new_sorted[s]
            if len(m) and len(new_sorted):
                fs = self.first_seen[new_sorted]
                lo = np.searchsorted(fs, t[m] - _NEW_DAYS * _DAY, side="left")
                hi = np.searchsorted(fs, t[m], side="right")
                ok = hi > lo
                pick = lo + np.floor(rng.random(len(m)) * (hi - lo)).astype(np.int64)
                item[m[ok]] = new_sorted[np.minimum(pick[ok], len(new_sorted) - 1)]
            m = np.flatnonzero(in_s & want_cheap)
            item[m] = _draw(rng, self.seg_cheap[s], self.weight, len(m))
            m = np.flatnonzero(in_s & (item < 0) & own_seg)
            item[m] = _draw(rng, self.seg_pool[s], self.weight, len(m))
        m = np.flatnonzero(item < 0)
        item[m] = _draw(rng, self.global_pool, self.weight, len(m))
        # an item cannot be bought before it exists: redraw among established items
        late = np.flatnonzero(self.first_seen[item] > t)
        if len(late):
            for s in range(len(self.seg_pool)):
                m = late[seg[late] == s]
                item[m] = _draw(rng, self.seg_old[s], self.weight, len(m))
        return item


def _check_share(value: Any, name: str) -> float:
    return check_number(value, name, low=0.0, high=1.0, owner="synthetic")


def _generate(
    n_users: int, n_items: int, n_events: int, *, n_segments: int, random_state: int | None,
    start: Any, days: int, segment_strength: float = 0.85, price_sensitive_share: float = 0.25,
    novelty_share: float = 0.15, new_share: float = 0.08, churn_share: float = 0.15,
    attribute_only_share: float = 0.05, popularity_exponent: float = 1.0,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    # The keyword defaults are those of synthetic() (the shop synthetic_social plants its network in).
    n_users = check_int(n_users, "n_users", minimum=1, owner="synthetic")
    n_items = check_int(n_items, "n_items", minimum=20, owner="synthetic")
    n_events = check_int(n_events, "n_events", minimum=1, owner="synthetic")
    n_segments = check_int(n_segments, "n_segments", minimum=1, owner="synthetic")
    if n_segments > len(CATEGORY_TREE):
        raise InvalidParameterError(
            f"The 'n_segments' parameter of synthetic must be an int <= {len(CATEGORY_TREE)} "
            f"(one L1 category per segment at least), got {n_segments}."
        )
    days = check_int(days, "days", minimum=180, owner="synthetic")
    segment_strength = _check_share(segment_strength, "segment_strength")
    shares = {name: _check_share(v, name) for name, v in (
        ("price_sensitive_share", price_sensitive_share), ("novelty_share", novelty_share),
        ("new_share", new_share), ("churn_share", churn_share),
        ("attribute_only_share", attribute_only_share))}
    if shares["new_share"] + shares["churn_share"] > 1:
        raise InvalidParameterError(
            "new_share + churn_share must be <= 1, got "
            f"{shares['new_share']} + {shares['churn_share']}."
        )
    popularity_exponent = check_number(popularity_exponent, "popularity_exponent", low=0.0,
                                       high=3.0, owner="synthetic")
    if random_state is not None and not isinstance(random_state, (int, np.integer)):
        raise InvalidParameterError(
            f"The 'random_state' parameter of synthetic must be an int or None, got {random_state!r}."
        )
    try:
        t0 = pd.Timestamp(start).normalize()
    except (ValueError, TypeError) as exc:
        raise InvalidParameterError(f"The 'start' parameter of synthetic must be a date, got {start!r}.") from exc
    rng = np.random.default_rng(random_state)
    shop = _Shop(rng, n_items, n_segments, popularity_exponent, days)
    horizon = days * _DAY

    # ------------------------------------------------------------------ users
    segment = rng.integers(n_segments, size=n_users)
    attr_only = rng.random(n_users) < shares["attribute_only_share"]
    if attr_only.all():
        attr_only[0] = False
    status_u = rng.random(n_users)
    is_new = ~attr_only & (status_u < shares["new_share"])
    is_churned = ~attr_only & ~is_new & (status_u < shares["new_share"] + shares["churn_share"])
    price_sensitive = rng.random(n_users) < shares["price_sensitive_share"]
    novelty = rng.random(n_users) < shares["novelty_share"]
    before = rng.random(n_users) < 0.6
    reg = np.where(before, -rng.uniform(0, 730, n_users), rng.uniform(0, days - 60, n_users)) * _DAY
    churn_latest = horizon - (_CHURN_DAYS + 90) * _DAY
    reg = np.where(is_churned, np.minimum(reg, churn_latest * rng.uniform(0.3, 1.0, n_users)), reg)
    reg = np.where(is_new, horizon - rng.uniform(1, _NEW_DAYS - 1, n_users) * _DAY, reg)
    reg = np.where(attr_only, rng.uniform(-730, days, n_users) * _DAY, reg)
    reg = np.floor(reg)
    first = np.maximum(reg, 0.0)
    last = np.where(
        is_churned,
        first + rng.uniform(0.3, 1.0, n_users) * (horizon - (_CHURN_DAYS + 1) * _DAY - first),
        horizon,
    )
    window = np.maximum(last - first, _DAY)
    age_mean = 24.0 + 9.0 * (np.arange(n_segments) % 4) + 4.0 * (np.arange(n_segments) // 4)
    age = np.clip(np.round(rng.normal(age_mean[segment], 7.0)), 16, 80).astype(np.int64)
    p_female = np.array([0.75, 0.35, 0.6, 0.25, 0.5, 0.8, 0.4, 0.55])[:n_segments]
    gender = np.where(rng.random(n_users) < p_female[segment], "F", "M").astype(object)
    home_city = (segment * 3 + rng.integers(0, 2, n_users)) % len(_CITIES)
    city = np.where(rng.random(n_users) < 0.6, home_city, rng.integers(len(_CITIES), size=n_users))
    hour_choices = np.array([8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23])
    hour_p = np.array([2, 3, 5, 6, 7, 6, 5, 5, 5, 5, 6, 8, 10, 11, 9, 7], dtype=float)
    pref_hour = rng.choice(hour_choices, size=n_users, p=hour_p / hour_p.sum())

    # ----------------------------------------------------------- event budget
    active = np.flatnonzero(~attr_only)
    n_active = len(active)
    if n_events < n_active:
        raise InvalidParameterError(
            f"The 'n_events' parameter of synthetic must be >= the number of active users "
            f"({n_active} of n_users={n_users}), got {n_events}."
        )
    activity = rng.lognormal(0.0, 0.8, n_active) * (window[active] / _DAY + 7.0)
    n_u = np.ones(n_users, dtype=np.int64)
    n_u[attr_only] = 0
    n_u[active] += rng.multinomial(n_events - n_active, activity / activity.sum())
    buy_rate = rng.beta(2.0, 3.0, n_users)
    lines_u = rng.binomial(n_u // 3, buy_rate)
    basket = 1.0 + rng.gamma(2.0, 0.5, n_users)
    orders_u = np.where(lines_u > 0, np.clip(np.round(lines_u / basket), 1, lines_u), 0).astype(np.int64)
    cycle = np.where(orders_u > 0, window / np.maximum(orders_u, 1), np.nan)
    browse_u = n_u - 3 * lines_u

    staples = np.empty((n_users, 3), dtype=np.int64)
    for s in range(n_segments):
        m = np.flatnonzero(segment == s)
        staples[m] = _draw(rng, shop.seg_old[s], shop.weight, 3 * len(m)).reshape(len(m), 3)
    p_repeat = np.where(novelty, 0.1, 0.35)

    def time_of_day(user: np.ndarray, t: np.ndarray) -> np.ndarray:
        day = np.floor(t / _DAY) * _DAY
        hour = np.clip(pref_hour[user] + rng.normal(0.0, 1.5, len(t)), 0.0, 23.9)
        out = day + hour * 3600.0
        return np.clip(out, first[user] + 1800.0, np.maximum(last[user] - 3600.0, first[user] + 1800.0))

    # ----------------------------------------------------------------- orders
    n_orders = int(orders_u.sum())
    order_user = np.repeat(np.arange(n_users), orders_u)
    order_offset = np.cumsum(orders_u) - orders_u
    k = np.arange(n_orders) - order_offset[order_user]
    order_t = first[order_user] + (k + rng.uniform(0.15, 0.85, n_orders)) * cycle[order_user]
    order_t = time_of_day(order_user, order_t)

    n_lines = int(lines_u.sum())
    line_user = np.repeat(np.arange(n_users), lines_u)
    j = np.arange(n_lines) - (np.cumsum(lines_u) - lines_u)[line_user]
    n_ord_line = orders_u[line_user]
    local = np.where(j < n_ord_line, j, np.floor(rng.random(n_lines) * n_ord_line).astype(np.int64))
    line_order = order_offset[line_user] + local
    line_t = order_t[line_order]
    seg_l = segment[line_user]
    ps_l = price_sensitive[line_user]
    line_item = shop.choose(
        rng, seg_l, line_t,
        p_staple=p_repeat[line_user],
        staple=staples[line_user, rng.integers(0, 3, n_lines)],
        p_new=np.where(novelty[line_user], 0.65, 0.0),
        p_cheap=np.where(ps_l, 0.5, 0.0),
        p_segment=segment_strength,
    )
    qty = rng.geometric(0.6, n_lines).astype(np.int64)
    discounted = rng.random(n_lines) < np.where(ps_l, 0.92, 0.05)
    rate = np.where(discounted, _DISCOUNTS[rng.integers(0, len(_DISCOUNTS), n_lines)], 0.0)
    paid = np.round(shop.price[line_item] * (1.0 - rate), 2)
    view_t = line_t - rng.uniform(600.0, 1500.0, n_lines)
    cart_t = view_t + rng.uniform(30.0, 300.0, n_lines)
    # order ids increase with time
    order_rank = np.empty(n_orders, dtype=np.int64)
    order_rank[np.argsort(order_t, kind="stable")] = np.arange(n_orders)
    line_order_id = (100_000 + order_rank[line_order]).astype(np.float64)
    line_session = order_rank[line_order]

    # ----------------------------------------------------------------- browse
    n_browse = int(browse_u.sum())
    b_user = np.repeat(np.arange(n_users), browse_u)
    bj = np.arange(n_browse) - (np.cumsum(browse_u) - browse_u)[b_user]
    b_sessions_u = (browse_u + 3) // 4
    b_session_local = bj // 4
    b_session = (np.cumsum(b_sessions_u) - b_sessions_u)[b_user] + b_session_local
    n_b_sessions = int(b_sessions_u.sum())
    s_user = np.repeat(np.arange(n_users), b_sessions_u)
    s_local = np.arange(n_b_sessions) - (np.cumsum(b_sessions_u) - b_sessions_u)[s_user]
    s_frac = rng.random(n_b_sessions)
    # the first session of a user opens the activity window, and active (not churned)
    # users come back in the last 60 days at least once
    s_frac = np.where((s_local == 0) & (b_sessions_u[s_user] > 1), s_frac * 14 * _DAY / window[s_user], s_frac)
    recent = np.maximum(first, horizon - 60 * _DAY)
    s_t = first[s_user] + s_frac * window[s_user]
    last_session = (s_local == b_sessions_u[s_user] - 1) & ~is_churned[s_user]
    # a user's only session must not make an established user look new
    recent_end = np.where((b_sessions_u > 1) | is_new, horizon, horizon - _NEW_DAYS * _DAY)
    recent_end = np.maximum(recent_end, recent)
    s_t = np.where(last_session, recent[s_user] + s_frac * (recent_end - recent)[s_user], s_t)
    s_t = time_of_day(s_user, s_t)
    b_t = s_t[b_session] + (bj % 4) * 60.0 + rng.uniform(0.0, 60.0, n_browse)
    seg_b = segment[b_user]
    b_item = shop.choose(
        rng, seg_b, b_t,
        p_staple=np.where(novelty[b_user], 0.02, 0.08),
        staple=staples[b_user, rng.integers(0, 3, n_browse)],
        p_new=np.where(novelty[b_user], 0.4, 0.0),
        p_cheap=np.where(price_sensitive[b_user], 0.3, 0.0),
        p_segment=segment_strength,
    )
    b_cart = rng.random(n_browse) < 0.06
    b_disc = rng.random(n_browse) < 0.2
    b_price = np.round(shop.price[b_item] * (1.0 - np.where(
        b_disc, _DISCOUNTS[rng.integers(0, len(_DISCOUNTS), n_browse)], 0.0)), 2)

    # --------------------------------------------------------------- assemble
    user = np.concatenate([line_user, line_user, line_user, b_user])
    item = np.concatenate([line_item, line_item, line_item, b_item])
    t = np.concatenate([view_t, cart_t, line_t, b_t])
    ev = np.concatenate([np.zeros(n_lines, np.int8), np.ones(n_lines, np.int8),
                         np.full(n_lines, 2, np.int8), b_cart.astype(np.int8)])
    quantity = np.concatenate([np.ones(n_lines, np.int64), qty, qty, np.ones(n_browse, np.int64)])
    price = np.concatenate([paid, paid, paid, b_price])
    order_id = np.concatenate([np.full(2 * n_lines, np.nan), line_order_id, np.full(n_browse, np.nan)])
    session = np.concatenate([line_session, line_session, line_session, n_orders + b_session])
    del line_user, line_item, view_t, cart_t, line_t, b_user, b_item, b_t
    secs = np.floor(t).astype(np.int64)
    del t
    # The same item drawn twice for one order (or browse second) is two scans a second
    # apart, not an exact copy: from_frames refuses exact duplicate rows.
    key = pd.DataFrame({"u": user, "i": item, "s": secs, "e": ev, "q": quantity, "p": price,
                        "o": order_id, "x": session}, copy=False)
    secs = secs + key.groupby(list(key.columns), sort=False, dropna=False).cumcount().to_numpy()
    del key
    order = np.argsort(secs, kind="stable")
    ts = (t0.to_datetime64().astype("datetime64[s]") + secs[order]).astype("datetime64[ns]")
    interactions = pd.DataFrame(
        {
            Columns.USER: (user[order] + 1).astype(np.int64),
            Columns.ITEM: (item[order] + 1).astype(np.int64),
            Columns.TIMESTAMP: ts,
            Columns.EVENT: pd.Categorical.from_codes(ev[order], categories=_EVENTS),
            Columns.QUANTITY: quantity[order],
            Columns.PRICE: price[order],
            "order_id": order_id[order],
            "session_id": session[order].astype(np.int64),
        },
        copy=False,
    )

    base = t0.to_datetime64().astype("datetime64[s]")
    user_ids = np.arange(1, n_users + 1, dtype=np.int64)
    users = pd.DataFrame(
        {
            Columns.USER: user_ids,
            "age": age,
            "gender": gender,
            "city": np.asarray(_CITIES, dtype=object)[city],
            "registration_date": (base + reg.astype(np.int64)).astype("datetime64[ns]"),
        }
    )
    item_ids = np.arange(1, n_items + 1, dtype=np.int64)
    items = pd.DataFrame(
        {
            Columns.ITEM: item_ids,
            "title": shop.title,
            "category": shop.path,
            "brand": shop.brand,
            Columns.PRICE: shop.price,
            "first_seen": (base + (shop.first_seen_day * 86_400)).astype("datetime64[ns]"),
        }
    )
    seg_l1 = ["|".join(n for n, s in zip(shop.l1_names, shop.l1_segment) if s == k)
              for k in range(n_segments)]
    user_truth = pd.DataFrame(
        {
            "segment": segment,
            "price_sensitive": price_sensitive,
            "novelty_seeker": novelty,
            "is_new": is_new,
            "is_churned": is_churned,
            "attribute_only": attr_only,
            "cycle_days": np.where(orders_u >= 2, cycle / _DAY, np.nan),
            "n_orders": orders_u,
            "preferred_hour": pref_hour,
            "favourite_l1": np.asarray(seg_l1, dtype=object)[segment],
        },
        index=pd.Index(user_ids, name=Columns.USER),
    )
    item_truth = pd.DataFrame(
        {
            "segment_affinity": shop.segment,
            "l1": np.asarray(shop.l1_names, dtype=object)[shop.l1],
            "popularity": shop.weight / shop.weight.sum(),
            "is_cheap": shop.is_cheap,
            "released_in_window": shop.released,
        },
        index=pd.Index(item_ids, name=Columns.ITEM),
    )
    return interactions, users, items, user_truth, item_truth


_PARAMS_DOC = """n_users : int, default 2000
    Registered users (active and attribute-only).
n_items : int, default 500
    Catalogue size (>= 20).
n_events : int, default 50_000
    Exact number of interaction rows (>= the number of active users).
n_segments : int, default 4
    Planted segments (1-8); segment ``s`` favours the L1 categories at
    positions ``s, s + n_segments, ...`` of :data:`CATEGORY_TREE`.
random_state : int or None, default 0
    Seed; the same seed gives identical frames.
start : date-like, default "2024-01-01"
    First day of the simulated period.
days : int, default 365
    Length of the period in days (>= 180).
segment_strength : float, default 0.85
    Probability that a (non-repeat, non-novelty) pick comes from the
    user's segment categories rather than the whole catalogue.
price_sensitive_share, novelty_share : float, default 0.25, 0.15
    Shares of users who buy mostly discounted / cheap items, or items
    released in the last 30 days.
new_share, churn_share : float, default 0.08, 0.15
    Shares of active users whose first activity is in the last 30 days,
    or whose last activity is more than 90 days before the end.
attribute_only_share : float, default 0.05
    Share of registered users without any event.
popularity_exponent : float, default 1.0
    Zipf exponent of item popularity (0 = uniform)."""


@fill_doc(params=_PARAMS_DOC)
def synthetic_frames(
    n_users: int = 2000,
    n_items: int = 500,
    n_events: int = 50_000,
    *,
    n_segments: int = 4,
    random_state: int | None = 0,
    start: Any = "2024-01-01",
    days: int = 365,
    segment_strength: float = 0.85,
    price_sensitive_share: float = 0.25,
    novelty_share: float = 0.15,
    new_share: float = 0.08,
    churn_share: float = 0.15,
    attribute_only_share: float = 0.05,
    popularity_exponent: float = 1.0,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Generate synthetic e-commerce frames without building a Dataset.

    Same arguments and frames as :func:`synthetic`; meant for scale
    benchmarks (10M events take a few seconds and about 1.5 GB).

    Parameters
    ----------
    {params}

    Returns
    -------
    interactions, users, items, user_truth : pandas.DataFrame
        See :class:`SyntheticData`. Interactions are sorted by time.

    Examples
    --------
    >>> inter, users, items, truth = synthetic_frames(200, 60, 3000, random_state=1)
    >>> len(inter), len(users), len(items)
    (3000, 200, 60)
    >>> sorted(inter["event"].unique())
    ['cart', 'purchase', 'view']
    """
    inter, users, items, user_truth, _ = _generate(
        n_users, n_items, n_events, n_segments=n_segments, random_state=random_state,
        start=start, days=days, segment_strength=segment_strength,
        price_sensitive_share=price_sensitive_share, novelty_share=novelty_share,
        new_share=new_share, churn_share=churn_share, attribute_only_share=attribute_only_share,
        popularity_exponent=popularity_exponent,
    )
    return inter, users, items, user_truth


@fill_doc(params=_PARAMS_DOC)
def synthetic(
    n_users: int = 2000,
    n_items: int = 500,
    n_events: int = 50_000,
    *,
    n_segments: int = 4,
    random_state: int | None = 0,
    start: Any = "2024-01-01",
    days: int = 365,
    segment_strength: float = 0.85,
    price_sensitive_share: float = 0.25,
    novelty_share: float = 0.15,
    new_share: float = 0.08,
    churn_share: float = 0.15,
    attribute_only_share: float = 0.05,
    popularity_exponent: float = 1.0,
) -> SyntheticData:
    """Generate a seeded, realistic e-commerce Dataset with planted ground truth.

    What is simulated:

    * a catalogue over the three-level :data:`CATEGORY_TREE` (8 L1, 24 L2,
      48 L3), 6 brands per L1, log-normal list prices per L3 category,
      Zipf-distributed item popularity, 25% of items released during the
      period (``first_seen``); no event happens before an item's release;
    * users in ``n_segments`` planted segments, each favouring its own L1
      categories (demographics - age, gender, city - also differ by segment,
      so attribute-only users carry a weak signal);
    * a view -> cart -> purchase funnel: every purchased line is preceded by a
      view and a cart event in its order session; browse sessions of about 4
      events hold views and a few abandoned carts;
    * orders on a per-user cycle (``cycle_days``) with 1-3 lines, repeat
      purchases of each user's 3 staple items;
    * price-sensitive users pay a discounted price (10-50% off) on ~92% of
      their lines (others ~5%) and prefer items priced below their L3 median;
    * novelty seekers buy items released in the last 30 days;
    * new users (first activity in the last 30 days), churned users (nothing
      in the last 90 days) and attribute-only registered users.

    Parameters
    ----------
    {params}

    Returns
    -------
    SyntheticData

    Examples
    --------
    >>> data = synthetic(300, 80, 6000, n_segments=3, random_state=7)
    >>> data.dataset.n_interactions, data.dataset.n_users
    (6000, 300)
    >>> sorted(data.user_truth["segment"].unique().tolist())
    [0, 1, 2]
    """
    inter, users, items, user_truth, item_truth = _generate(
        n_users, n_items, n_events, n_segments=n_segments, random_state=random_state,
        start=start, days=days, segment_strength=segment_strength,
        price_sensitive_share=price_sensitive_share, novelty_share=novelty_share,
        new_share=new_share, churn_share=churn_share, attribute_only_share=attribute_only_share,
        popularity_exponent=popularity_exponent,
    )
    ds = Dataset.from_frames(inter, users=users, items=items)
    t0 = pd.Timestamp(start).normalize()
    return SyntheticData(ds, user_truth, item_truth, t0, t0 + pd.Timedelta(days=days))

