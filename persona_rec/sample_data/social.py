"""Seeded social-commerce data: a follow graph, a content catalogue and reviews, all with planted truth.

:func:`synthetic_social` starts from the shop of :func:`~persona_rec.sample_data.synthetic`
(same arguments, same seed semantics; the ``synthetic`` outputs themselves are
untouched) and adds:

* a **social graph**: users live in ``n_communities`` planted communities
  (independent of the shopping segments) and follow mostly people of their own
  community; ``n_influencers`` planted influencers attract a large share of all
  follows. Edges are ``follow`` (directed), ``friend`` (mutual) and a few
  ``share``/``referral`` events, each with a weight and a time;
* **social purchases**: each influencer promotes (and buys) 3 items drawn
  uniformly from the catalogue, so mostly long-tail items; followers adopt a
  promoted item, or copy a past purchase of a regular user they follow, a few
  days later, with the usual view -> cart -> purchase funnel; every copied line
  is listed in ``social_truth``;
* a **content catalogue** (articles, videos, posts) about the shop's categories,
  with text, tags and a target category;
* **reviews** (text, 1-5 stars, time) of purchased lines: each user is a planted
  detractor, passive or promoter, some items have a planted issue topic
  (delivery, damage, sizing, battery, description) that lowers their stars and
  shows in the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_int, check_number
from ..columns import Columns
from ..dataset import Dataset
from ..exceptions import InvalidParameterError
from .synthetic import CATEGORY_TREE, _generate

__all__ = ["SocialData", "ISSUE_TOPICS", "synthetic_social"]

#: Planted item issue topics and the phrases reviews use for them.
ISSUE_TOPICS: dict[str, list[str]] = {
    "delivery": ["delivery took weeks", "the parcel arrived late", "courier lost the parcel first",
                 "shipping was very slow"],
    "damaged": ["it arrived broken", "the box was crushed and the item cracked",
                "damaged on arrival", "scratched and dented when unpacked"],
    "sizing": ["the size runs small", "it does not fit at all", "sizing chart is wrong",
               "had to return for a bigger size"],
    "battery": ["the battery drains in an hour", "battery died after a week",
                "charging stopped working", "battery life is poor"],
    "description": ["not as described", "colour differs from the photos",
                    "material feels cheaper than advertised", "listing details were misleading"],
}
_POSITIVE = ["love it", "great quality", "works perfectly", "excellent value", "would buy again",
             "highly recommend", "exactly what I wanted", "very happy with it", "superb product",
             "fantastic, five stars"]
_NEGATIVE = ["very disappointed", "waste of money", "would not recommend", "poor quality",
             "returned it", "terrible experience", "stopped working quickly", "cheap and flimsy",
             "asked for a refund", "never again"]
_NEUTRAL = ["bought it last month", "it is okay", "does the job", "average overall",
            "gift for my sister", "ordered on a weekday", "came in a plain box", "as expected"]
_CONTENT_KINDS = np.array(["article", "video", "post"], dtype=object)
_CONTENT_WORDS = {"article": "guide", "video": "video", "post": "tips"}
_EDGE_KINDS = ("follow", "friend", "share", "referral")
_DAY = 86_400.0


@dataclass(frozen=True)
class SocialData:
    """Synthetic social-commerce data with its planted ground truth.

    Attributes
    ----------
    dataset : Dataset
        The shop's interactions (see :class:`~persona_rec.sample_data.SyntheticData`)
        plus the planted social purchases (view, cart and purchase rows).
    edges : pandas.DataFrame
        ``source, target, kind, weight, timestamp``. ``follow``: source follows
        target; ``friend``: mutual (listed once); ``share``: source shared a
        product with target; ``referral``: source referred target.
    content : pandas.DataFrame
        ``content_id, kind, title, text, tags`` (``|``-joined interest tag ids),
        ``target_category`` (an L1 name), ``published``.
    reviews : pandas.DataFrame
        ``review_id, user_id, item_id, timestamp, stars`` (int 1-5), ``text``,
        ``sentiment`` (planted latent score, real) and ``positive`` (planted
        sentiment label: the latent score is at least 3.5).
    user_truth : pandas.DataFrame
        The synthetic user truth plus ``community`` (int), ``is_influencer``
        (bool) and ``satisfaction`` (``detractor``/``passive``/``promoter``).
    item_truth : pandas.DataFrame
        The synthetic item truth plus ``issue`` (topic of
        :data:`ISSUE_TOPICS` or ``None``).
    social_truth : pandas.DataFrame
        The planted social purchases: ``user_id, item_id, timestamp, from_user``
        (the followed user whose earlier purchase was copied).
    start, end : pandas.Timestamp
        The simulated period ``[start, end)``.
    """

    dataset: Dataset
    edges: pd.DataFrame
    content: pd.DataFrame
    reviews: pd.DataFrame
    user_truth: pd.DataFrame
    item_truth: pd.DataFrame
    social_truth: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp


def _pick(rng: np.random.Generator, phrases: list[str], n: int) -> np.ndarray:
    return np.asarray(phrases, dtype=object)[rng.integers(len(phrases), size=n)]


def _follow_edges(rng: np.random.Generator, community: np.ndarray, fame: np.ndarray,
                  avg_follows: float, mixing: float) -> tuple[np.ndarray, np.ndarray]:
    """Directed follows: mostly inside the follower's community, targets drawn by fame."""
    n = community.size
    deg = rng.poisson(avg_follows, size=n)
    src = np.repeat(np.arange(n), deg)
    order = np.argsort(community, kind="stable")
    n_comm = int(community.max()) + 1
    starts = np.searchsorted(community[order], np.arange(n_comm + 1))
    # cumulative fame inside each community (in `order`) and over everyone
    cum_in = np.cumsum(fame[order])
    cum_all = np.cumsum(fame)
    c = community[src]
    lo = np.where(starts[c] > 0, cum_in[np.maximum(starts[c] - 1, 0)], 0.0)
    hi = cum_in[starts[c + 1] - 1]
    u = rng.random(src.size)
    inside = order[np.searchsorted(cum_in, lo + u * (hi - lo), side="right").clip(0, n - 1)]
    anywhere = np.searchsorted(cum_all, u * cum_all[-1], side="right").clip(0, n - 1)
    dst = np.where(rng.random(src.size) < mixing, anywhere, inside)
    keep = src != dst
    key = np.unique(src[keep] * n + dst[keep])
    return key // n, key % n


def synthetic_social(
    n_users: int = 2000,
    n_items: int = 500,
    n_events: int = 50_000,
    *,
    n_communities: int = 8,
    n_influencers: int = 20,
    avg_follows: float = 12.0,
    community_mixing: float = 0.1,
    influencer_fame: float = 40.0,
    adoption_rate: float = 0.2,
    n_content: int = 240,
    review_share: float = 0.5,
    detractor_share: float = 0.1,
    promoter_share: float = 0.3,
    issue_share: float = 0.2,
    random_state: int | None = 0,
    start: Any = "2024-01-01",
    days: int = 365,
    n_segments: int = 4,
) -> SocialData:
    """Generate a seeded social-commerce dataset with planted influencers, communities and sentiment.

    Parameters
    ----------
    n_users, n_items, n_events : int
        Passed to the shop generator of :func:`~persona_rec.sample_data.synthetic`
        (``n_events`` counts the shop's events; social purchases add rows).
    n_communities : int, default 8
        Planted communities (>= 1), independent of the shopping segments.
    n_influencers : int, default 20
        Planted influencers (>= 0, < ``n_users``).
    avg_follows : float, default 12.0
        Mean number of accounts a user follows (Poisson).
    community_mixing : float, default 0.1
        Share of follows that ignore the community (in [0, 1)).
    influencer_fame : float, default 40.0
        How much more likely an influencer is to be followed than a typical
        user (regular users have log-normal fame with median 1).
    adoption_rate : float, default 0.2
        Probability that a follower adopts one promoted item of an influencer
        it follows (a quarter of this rate for copying a regular followee's
        past purchase).
    n_content : int, default 240
        Content pieces in the catalogue (>= 1).
    review_share : float, default 0.5
        Share of purchased lines that get a review.
    detractor_share, promoter_share : float, default 0.1, 0.3
        Shares of planted detractors and promoters (the rest are passive).
    issue_share : float, default 0.2
        Share of items with a planted issue topic.
    random_state : int or None, default 0
        Seed; the same seed gives identical data.
    start, days, n_segments
        As in :func:`~persona_rec.sample_data.synthetic`.

    Returns
    -------
    SocialData

    Raises
    ------
    InvalidParameterError
        A parameter is out of range (the message names it).

    Examples
    --------
    >>> data = synthetic_social(400, 80, 6000, n_communities=4, n_influencers=8, random_state=3)
    >>> sorted(data.edges["kind"].unique())
    ['follow', 'friend', 'referral', 'share']
    >>> int(data.user_truth["is_influencer"].sum()), data.user_truth["community"].nunique()
    (8, 4)
    >>> set(data.reviews["stars"]) <= {1, 2, 3, 4, 5}
    True
    """
    owner = "synthetic_social"
    n_communities = check_int(n_communities, "n_communities", minimum=1, owner=owner)
    n_influencers = check_int(n_influencers, "n_influencers", minimum=0, owner=owner)
    if n_influencers >= n_users:
        raise InvalidParameterError(
            f"The 'n_influencers' parameter of {owner} must be < n_users ({n_users}), got {n_influencers}."
        )
    avg_follows = check_number(avg_follows, "avg_follows", low=0, low_inclusive=False, owner=owner)
    mixing = check_number(community_mixing, "community_mixing", low=0, high=1, high_inclusive=False,
                          owner=owner)
    fame_x = check_number(influencer_fame, "influencer_fame", low=1, owner=owner)
    adoption = check_number(adoption_rate, "adoption_rate", low=0, high=1, owner=owner)
    n_content = check_int(n_content, "n_content", minimum=1, owner=owner)
    review_share = check_number(review_share, "review_share", low=0, high=1, owner=owner)
    det = check_number(detractor_share, "detractor_share", low=0, high=1, owner=owner)
    pro = check_number(promoter_share, "promoter_share", low=0, high=1, owner=owner)
    if det + pro > 1:
        raise InvalidParameterError(
            f"detractor_share + promoter_share of {owner} must be <= 1, got {det} + {pro}."
        )
    issue_share = check_number(issue_share, "issue_share", low=0, high=1, owner=owner)

    inter, users, items, user_truth, item_truth = _generate(
        n_users, n_items, n_events, n_segments=n_segments, random_state=random_state,
        start=start, days=days,
    )
    # an independent stream, so the shop above is exactly synthetic()'s for the same seed
    rng = np.random.default_rng(np.random.SeedSequence(random_state).spawn(2)[1])
    t0 = pd.Timestamp(start).normalize()
    t_end = t0 + pd.Timedelta(days=days)
    user_ids = user_truth.index.to_numpy()
    n = user_ids.size

    # ------------------------------------------------------------- graph
    community = rng.integers(n_communities, size=n)
    influencer = np.zeros(n, dtype=bool)
    influencer[rng.choice(n, size=n_influencers, replace=False)] = True
    fame = np.exp(rng.normal(0.0, 0.5, size=n))
    fame[influencer] = fame_x
    f_src, f_dst = _follow_edges(rng, community, fame, avg_follows, mixing)
    mutual = rng.random(f_src.size) < 0.15  # part of the follows are friendships (listed once)
    mutual &= f_src < f_dst
    kind = np.where(mutual, "friend", "follow").astype(object)
    n_follow = f_src.size
    # shares and referrals go from a followed account to one of its followers
    pick = rng.random(n_follow) < 0.08
    s_src, s_dst = f_dst[pick], f_src[pick]
    s_kind = np.where(rng.random(s_src.size) < 0.7, "share", "referral").astype(object)
    src = np.concatenate([f_src, s_src])
    dst = np.concatenate([f_dst, s_dst])
    kinds = np.concatenate([kind, s_kind])
    ts = (t0 + pd.to_timedelta(rng.random(src.size) * days * _DAY, unit="s")).floor("s")
    weight = np.where(np.isin(kinds, ["share", "referral"]), 1.0,
                      1.0 + rng.poisson(1.0, size=src.size)).astype(float)
    edges = pd.DataFrame({"source": user_ids[src], "target": user_ids[dst], "kind": kinds,
                          "weight": weight, "timestamp": ts})
    edges = edges.sort_values("timestamp", kind="stable").reset_index(drop=True)

    # ------------------------------------------------------------- social purchases
    buy = inter[inter["event"] == "purchase"]
    row_of = pd.Index(user_ids).get_indexer(buy[Columns.USER].to_numpy())
    order = np.argsort(row_of, kind="stable")
    b_user, b_item = row_of[order], buy[Columns.ITEM].to_numpy()[order]
    b_time = buy[Columns.TIMESTAMP].to_numpy()[order]
    cnt = np.bincount(b_user, minlength=n)
    first = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    # influencers promote a few catalogue items each (uniformly drawn, so mostly long-tail items):
    # they buy them at a random time; followers adopt a promoted item a few days later
    n_promo = 3
    item_ids_all = item_truth.index.to_numpy()
    promo_item = item_ids_all[rng.integers(item_ids_all.size, size=(n, n_promo))]
    promo_time = (np.datetime64(t0) + (rng.random((n, n_promo)) * (days - 7) * _DAY).astype(
        "timedelta64[s]"))
    inf_rows = np.flatnonzero(influencer)
    own_user = np.repeat(inf_rows, n_promo)
    own_item = promo_item[inf_rows].ravel()
    own_time = promo_time[inf_rows].ravel()
    # a follower (follow or friend, both directions for friends) copies a purchase of a followee:
    # a promoted item of an influencer, any past purchase of a regular user
    fol = np.concatenate([f_src, f_dst[mutual]])
    fee = np.concatenate([f_dst, f_src[mutual]])
    is_inf = influencer[fee]
    rate = np.where(is_inf, adoption, adoption / 4)
    take = (rng.random(fol.size) < rate) & (is_inf | (cnt[fee] > 0))
    fol, fee, is_inf = fol[take], fee[take], is_inf[take]
    j = first[fee] + (rng.random(fee.size) * np.maximum(cnt[fee], 1)).astype(np.int64)
    j = np.minimum(j, max(b_item.size - 1, 0))
    slot = rng.integers(n_promo, size=fee.size)
    src_item = np.where(is_inf, promo_item[fee, slot], b_item[j] if b_item.size else 0)
    src_time = np.where(is_inf, promo_time[fee, slot], b_time[j] if b_time.size else promo_time[fee, slot])
    delay = np.rint((0.5 + rng.exponential(4.0, size=fee.size)) * _DAY).astype("timedelta64[s]")
    when = src_time + delay
    ok = when < np.datetime64(t_end) - np.timedelta64(300, "s")
    fol, fee, when, s_items = fol[ok], fee[ok], when[ok], src_item[ok]
    # the influencers' own purchases of their promoted items come first
    fol = np.concatenate([own_user, fol])
    fee = np.concatenate([np.full(own_user.size, -1), fee])
    when = np.concatenate([own_time, when])
    s_items = np.concatenate([own_item, s_items])
    m = fol.size
    item_price = items.set_index(Columns.ITEM)["price"]
    next_order = (np.nanmax(inter["order_id"].to_numpy()) if inter["order_id"].notna().any() else 0) + 1
    next_session = int(inter["session_id"].max()) + 1
    triple = pd.DataFrame({
        Columns.USER: np.repeat(user_ids[fol], 3),
        Columns.ITEM: np.repeat(s_items, 3),
        Columns.TIMESTAMP: np.repeat(when, 3) - np.tile(np.array([240, 120, 0], dtype="timedelta64[s]"), m),
        "event": np.tile(np.array(["view", "cart", "purchase"], dtype=object), m),
        "quantity": 1,
        "price": np.repeat(item_price.reindex(s_items).to_numpy(), 3),
        "order_id": np.where(np.tile([False, False, True], m),
                             np.repeat(next_order + np.arange(m, dtype=float), 3), np.nan),
        "session_id": np.repeat(next_session + np.arange(m), 3),
    })
    copied = fee >= 0
    social_truth = pd.DataFrame({Columns.USER: user_ids[fol[copied]], Columns.ITEM: s_items[copied],
                                 Columns.TIMESTAMP: when[copied], "from_user": user_ids[fee[copied]]})
    inter = pd.concat([inter.astype({"event": object}), triple], ignore_index=True)
    inter = inter.sort_values(Columns.TIMESTAMP, kind="stable").reset_index(drop=True)
    inter["event"] = inter["event"].astype("category")

    # ------------------------------------------------------------- reviews
    sat = rng.random(n)
    satisfaction = np.where(sat < det, "detractor", np.where(sat < det + pro, "promoter", "passive"))
    issue_names = np.asarray(list(ISSUE_TOPICS), dtype=object)
    item_ids = item_truth.index.to_numpy()
    has_issue = rng.random(item_ids.size) < issue_share
    item_issue = np.where(has_issue, issue_names[rng.integers(issue_names.size, size=item_ids.size)], None)
    lines = inter[inter["event"] == "purchase"]
    lines = lines[rng.random(len(lines)) < review_share]
    r_user = pd.Index(user_ids).get_indexer(lines[Columns.USER].to_numpy())
    r_item = pd.Index(item_ids).get_indexer(lines[Columns.ITEM].to_numpy())
    nr = r_user.size
    base = np.select([satisfaction[r_user] == "detractor", satisfaction[r_user] == "promoter"],
                     [1.8, 4.7], 3.9)
    issue_r = item_issue[r_item]
    latent = base + rng.normal(0.0, 0.6, size=nr) - np.where(issue_r != None, 1.6, 0.0)  # noqa: E711
    stars = np.clip(np.rint(latent + rng.normal(0.0, 0.4, size=nr)), 1, 5).astype(int)
    positive = latent >= 3.5
    # text: 1-2 sentiment phrases (10% of them of the opposite polarity), an issue phrase when the
    # item has one and the review is negative (or at random 30% otherwise), and neutral filler
    n_sent = 1 + (rng.random(nr) < 0.5)
    flip = rng.random(nr) < 0.1
    pol1 = positive ^ flip
    p1 = np.where(pol1, _pick(rng, _POSITIVE, nr), _pick(rng, _NEGATIVE, nr))
    p2 = np.where(positive, _pick(rng, _POSITIVE, nr), _pick(rng, _NEGATIVE, nr))
    issue_text = np.full(nr, "", dtype=object)
    for topic, phrases in ISSUE_TOPICS.items():
        hit = (issue_r == topic) & (~positive | (rng.random(nr) < 0.3))
        issue_text[hit] = _pick(rng, phrases, int(hit.sum()))
    filler = _pick(rng, _NEUTRAL, nr)
    parts = pd.DataFrame({"a": filler, "b": p1, "c": np.where(n_sent == 2, p2, ""), "d": issue_text})
    text = parts.apply(lambda r: ", ".join(x for x in r if x), axis=1).str.capitalize() + "."
    r_time = lines[Columns.TIMESTAMP].to_numpy() + pd.to_timedelta(
        rng.uniform(1, 14, size=nr) * _DAY, unit="s").to_numpy()
    r_time = np.minimum(r_time, np.datetime64(t_end) - np.timedelta64(1, "s")).astype("datetime64[s]")
    reviews = pd.DataFrame({"review_id": np.arange(1, nr + 1), Columns.USER: user_ids[r_user],
                            Columns.ITEM: item_ids[r_item], Columns.TIMESTAMP: r_time, "stars": stars,
                            "text": text.to_numpy(dtype=object), "sentiment": latent,
                            "positive": positive})
    reviews = reviews.sort_values(Columns.TIMESTAMP, kind="stable").reset_index(drop=True)
    reviews["review_id"] = np.arange(1, nr + 1)

    # ------------------------------------------------------------- content
    l1_names = list(CATEGORY_TREE)
    topic = rng.integers(len(l1_names), size=n_content)
    ckind = _CONTENT_KINDS[rng.integers(3, size=n_content)]
    titles, texts, tags = [], [], []
    for t, k in zip(topic, ckind):  # small catalogue: readable generation beats vectorising strings
        l1 = l1_names[t]
        l2s = list(CATEGORY_TREE[l1])
        l2 = l2s[rng.integers(len(l2s))]
        l3s = CATEGORY_TREE[l1][l2]
        words = [w for x in l3s for w in x.lower().split()] + [l2.lower(), l1.lower()]
        body = " ".join(rng.choice(words, size=12)) + " " + " ".join(
            rng.choice(["how", "to", "choose", "best", "new", "season", "review", "top", "picks"], size=4))
        titles.append(f"{l2} {_CONTENT_WORDS[k]}: {l3s[rng.integers(len(l3s))]}")
        texts.append(body)
        slug1 = l1.lower().replace(" ", "_")
        tags.append(f"interest/{slug1}|interest/{slug1}/{l2.lower().replace(' ', '_')}")
    content = pd.DataFrame({
        "content_id": [f"c{i:04d}" for i in range(1, n_content + 1)],
        "kind": ckind, "title": titles, "text": texts, "tags": tags,
        "target_category": np.asarray(l1_names, dtype=object)[topic],
        "published": (t0 + pd.to_timedelta(rng.random(n_content) * days * _DAY, unit="s")).floor("s"),
    })

    user_truth = user_truth.assign(community=community, is_influencer=influencer,
                                   satisfaction=satisfaction)
    item_truth = item_truth.assign(issue=item_issue)
    ds = Dataset.from_frames(inter, users=users, items=items)
    return SocialData(ds, edges, content, reviews, user_truth, item_truth, social_truth, t0, t_end)
