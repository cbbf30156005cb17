"""Strategy playbook: map segments / tags to marketing tactics and build a campaign plan.

A :class:`Playbook` is an ordered list of :class:`PlaybookRule` s. Each rule
matches users by a tag expression or a segment name and names a tactic; the
first matching rule wins, users matching none get ``default_tactic``. A
:meth:`Playbook.plan` then attaches recommended items (via any recommender)
and a send time (via :class:`~persona_rec.marketing.SendTimeModel`).

The default rules (priority order) use the tag ids of the default taxonomy:

=====================  ======================  =====================================
tag expression         tactic                  items
=====================  ======================  =====================================
``churned``            ``win_back_offer``      favourites again (``filter_seen=False``)
``churn_risk``         ``win_back_offer``      favourites again
``new_user``           ``first_order_coupon``  personal recommendations
``high_value``         ``membership_perks``    personal recommendations
``price_sensitive``    ``discount``            recommendations under the median price
``brand_loyal``        ``brand_exclusives``    recommendations (brand filter if known)
``novelty_seeker``     ``new_arrivals``        recommendations among the newest items
(none)                 ``recommendations``     personal recommendations
=====================  ======================  =====================================

``Playbook.default(feedback=True)`` puts ``feedback/detractor`` ->
``service_recovery`` (favourites, no offer) before all of these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._text import slugify_values
from .._types import ProfileSource
from .._validation import check_int, check_number
from ..columns import Columns
from ..exceptions import InvalidParameterError, InvalidValueError
from .propensity import recommend_skip_unknown
from .send_time import segment_labels

__all__ = ["PlaybookRule", "Playbook", "TACTIC_DESCRIPTIONS"]

#: Human-readable description of the built-in tactics.
TACTIC_DESCRIPTIONS: dict[str, str] = {
    "win_back_offer": "Win-back offer: time-limited incentive to return, featuring past favourites.",
    "first_order_coupon": "First/second-order coupon to turn a new customer into a repeat buyer.",
    "membership_perks": "Membership perks (early access, free shipping) for high-value customers.",
    "discount": "Discount on items they like, for price-sensitive customers.",
    "brand_exclusives": "Exclusive items of their favourite brand.",
    "new_arrivals": "New arrivals matched to their interests.",
    "recommendations": "Personalised recommendations.",
    "service_recovery": "Service recovery for an unhappy customer: personal follow-up on their "
                        "complaint (apology, fix, replacement) instead of a promotion.",
}

_ITEM_MODES = ("recommend", "favourites", "cheap", "new", "brand")


@dataclass(frozen=True)
class PlaybookRule:
    """One playbook rule.

    Parameters
    ----------
    tactic : str
        Tactic name (free text; built-ins are in :data:`TACTIC_DESCRIPTIONS`).
    expression : str, optional
        Tag expression matching the users (e.g. ``"churned | churn_risk"``).
    segment : str, optional
        Segment name matching the users (instead of, or with, ``expression``:
        both must hold when both are given).
    items : {"recommend", "favourites", "cheap", "new", "brand"}, default "recommend"
        How items are chosen: personal recommendations; favourites
        (``filter_seen=False``); under the median catalogue price; among the
        newest ``new_share`` of items; the user's top brand (needs profiles
        with ``top_brand``; otherwise plain recommendations).
    description : str, optional
        Text for the plan (default from :data:`TACTIC_DESCRIPTIONS`).
    """

    tactic: str
    expression: str | None = None
    segment: str | None = None
    items: str = "recommend"
    description: str = field(default="")

    def __post_init__(self) -> None:
        if not isinstance(self.tactic, str) or not self.tactic:
            raise InvalidParameterError(f"PlaybookRule.tactic must be a non-empty str, got {self.tactic!r}.")
        if self.expression is None and self.segment is None:
            raise InvalidParameterError(
                f"PlaybookRule for tactic {self.tactic!r} needs an expression or a segment, got neither."
            )
        if self.items not in _ITEM_MODES:
            raise InvalidParameterError(
                f"PlaybookRule.items must be one of {list(_ITEM_MODES)}, got {self.items!r}."
            )
        if self.expression is not None:
            from ..tags.expressions import parse_tag_expression

            parse_tag_expression(self.expression)  # syntax check now, tag check at use

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-friendly)."""
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}


_DEFAULT_RULES = (
    PlaybookRule("win_back_offer", "churned", items="favourites"),
    PlaybookRule("win_back_offer", "churn_risk", items="favourites"),
    PlaybookRule("first_order_coupon", "new_user"),
    PlaybookRule("membership_perks", "high_value"),
    PlaybookRule("discount", "price_sensitive", items="cheap"),
    PlaybookRule("brand_exclusives", "brand_loyal", items="brand"),
    PlaybookRule("new_arrivals", "novelty_seeker", items="new"),
)


class Playbook:
    """Ordered segment/tag -> tactic rules.

    Parameters
    ----------
    rules : sequence of PlaybookRule or dict
        Rules in priority order (first match wins).
    default_tactic : str or None, default "recommendations"
        Tactic for users matching no rule (None = leave them out of the plan).
    new_share : float, default 0.1
        Share of newest items used by ``items="new"`` rules.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from persona_rec.tags import UserTags
    >>> ut = UserTags(sp.csr_matrix(np.array([[1.0, 0, 0], [0, 1.0, 1.0], [0, 0, 0]])),
    ...               ["u1", "u2", "u3"], ["churned", "high_value", "price_sensitive"])
    >>> pb = Playbook([{"tactic": "win_back_offer", "expression": "churned"},
    ...                {"tactic": "membership_perks", "expression": "high_value"}])
    >>> pb.assign(ut)[["user_id", "tactic", "rule"]]
      user_id            tactic              rule
    0      u1    win_back_offer           churned
    1      u2  membership_perks        high_value
    2      u3   recommendations  (no rule: default)
    """

    def __init__(
        self,
        rules: Sequence[PlaybookRule | Mapping[str, Any]],
        *,
        default_tactic: str | None = "recommendations",
        new_share: float = 0.1,
    ) -> None:
        parsed = [r if isinstance(r, PlaybookRule) else PlaybookRule(**dict(r)) for r in rules]
        if not parsed:
            raise InvalidParameterError("Playbook needs at least one rule, got none.")
        self.rules: list[PlaybookRule] = parsed
        self.default_tactic = default_tactic
        self.new_share = check_number(new_share, "new_share", low=0.0, high=1.0, low_inclusive=False,
                                      owner="Playbook")

    @classmethod
    def default(cls, *, feedback: bool = False) -> Playbook:
        """The default e-commerce playbook (see the module docs).

        Parameters
        ----------
        feedback : bool, default False
            Put ``feedback/detractor -> service_recovery`` first, so unhappy
            customers (see :mod:`persona_rec.feedback`) get a service follow-up
            with their favourites instead of a win-back offer or a discount.
            The user tags must then include the ``feedback`` tags.
        """
        rules = list(_DEFAULT_RULES)
        if feedback:
            rules.insert(0, PlaybookRule("service_recovery", "feedback/detractor", items="favourites"))
        return cls(rules)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form; :meth:`from_dict` restores it."""
        return {"rules": [r.to_dict() for r in self.rules], "default_tactic": self.default_tactic,
                "new_share": self.new_share}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Playbook:
        """Build a playbook from :meth:`to_dict` output."""
        if "rules" not in d:
            raise InvalidValueError(f"Playbook dict needs a 'rules' list, got keys {list(d)}.")
        return cls(d["rules"], default_tactic=d.get("default_tactic", "recommendations"),
                   new_share=d.get("new_share", 0.1))

    def __repr__(self) -> str:
        return f"Playbook({len(self.rules)} rules, default_tactic={self.default_tactic!r})"

    # --------------------------------------------------------------- assign
    def assign(
        self,
        user_tags: Any,
        *,
        segments: Any = None,
        user_ids: Iterable[Any] | None = None,
        min_confidence: float = 0.0,
        allow_sensitive: bool = False,
    ) -> pd.DataFrame:
        """Tactic per user (first matching rule).

        Parameters
        ----------
        user_tags : UserTags
            Tags per user.
        segments : Segmentation, Series, DataFrame or mapping, optional
            Needed by rules with a ``segment``.
        user_ids : iterable, optional
            Restrict to these users (e.g. an audience), in this order.
        min_confidence : float, default 0.0
            Tag confidence threshold.
        allow_sensitive : bool, default False
            Whether rules may use sensitive tags.

        Returns
        -------
        pandas.DataFrame
            ``user_id, tactic, rule, items_mode, description``.
        """
        from ..tags.expressions import parse_tag_expression

        all_ids = np.asarray(user_tags.user_ids, dtype=object)
        if user_ids is None:
            rows = np.arange(all_ids.size)
        else:
            want = pd.Index(pd.unique(np.asarray(list(user_ids), dtype=object)))
            rows = pd.Index(all_ids).get_indexer(want)
            if (rows < 0).any():
                from ..exceptions import UnknownIdError

                raise UnknownIdError(
                    f"user_ids has {(rows < 0).sum()} id(s) without tags, e.g. {want[rows < 0][:3].tolist()}."
                )
        seg = segment_labels(segments, all_ids[rows]) if segments is not None else None
        n = rows.size
        chosen = np.full(n, -1, dtype=np.int64)
        for i, rule in enumerate(self.rules):
            match = np.ones(n, dtype=bool)
            if rule.expression is not None:
                e = parse_tag_expression(rule.expression).validate(user_tags, allow_sensitive=allow_sensitive)
                match &= e.evaluate(user_tags, min_confidence=min_confidence)[rows]
            if rule.segment is not None:
                if seg is None:
                    raise InvalidParameterError(
                        f"Rule for tactic {rule.tactic!r} uses segment {rule.segment!r}; pass segments=."
                    )
                match &= seg == rule.segment
            chosen = np.where((chosen < 0) & match, i, chosen)
        tactic = np.array([r.tactic for r in self.rules] + [self.default_tactic], dtype=object)[chosen]
        label = np.array(
            [r.expression if r.segment is None else
             (f"segment={r.segment}" + (f" & {r.expression}" if r.expression else "")) for r in self.rules]
            + ["(no rule: default)"], dtype=object)[chosen]
        mode = np.array([r.items for r in self.rules] + ["recommend"], dtype=object)[chosen]
        desc = np.array([r.description or TACTIC_DESCRIPTIONS.get(r.tactic, r.tactic) for r in self.rules]
                        + [TACTIC_DESCRIPTIONS.get(str(self.default_tactic), str(self.default_tactic))],
                        dtype=object)[chosen]
        out = pd.DataFrame({Columns.USER: all_ids[rows], "tactic": tactic, "rule": label,
                            "items_mode": mode, "description": desc})
        if self.default_tactic is None:
            out = out[chosen >= 0].reset_index(drop=True)
        return out

    # ----------------------------------------------------------------- plan
    def plan(
        self,
        user_tags: Any,
        *,
        recommender: Any = None,
        k: int = 3,
        send_time_model: Any = None,
        campaign_start: Any = None,
        user_ids: Iterable[Any] | None = None,
        segments: Any = None,
        profiles: ProfileSource | None = None,
        dataset: Any = None,
        min_confidence: float = 0.0,
        allow_sensitive: bool = False,
    ) -> pd.DataFrame:
        """Campaign plan: user, tactic, recommended items and send time.

        Parameters
        ----------
        user_tags : UserTags
            Tags per user; :meth:`assign` picks each user's tactic from them.
        recommender : Recommender, optional
            Fitted model with ``recommend(user_ids, k, filter_seen=..., items=...)``;
            without it the ``items`` column is empty.
        k : int, default 3
            Items per user.
        send_time_model : SendTimeModel, optional
            Fitted send-time model; gives ``send_at`` (needs ``campaign_start``).
        campaign_start : timestamp-like, optional
            Earliest send time.
        user_ids : iterable, optional
            The audience (default every tagged user).
        segments : optional
            For segment rules.
        profiles : Profiles, optional
            Gives ``top_brand`` for ``items="brand"`` rules.
        dataset : Dataset, optional
            Item attributes (``price``, ``first_seen``/first event, ``brand``) for
            the item modes; default the recommender's fit data where available.
        min_confidence : float, default 0.0
            Tag confidence threshold, as in :meth:`assign`.
        allow_sensitive : bool, default False
            Whether rules may use sensitive tags, as in :meth:`assign`.

        Returns
        -------
        pandas.DataFrame
            ``user_id, tactic, rule, description, items`` (list of item ids),
            ``send_at``, ``best_hour``, ``best_weekday``. When a restricted item
            pool (cheap, new, brand) yields fewer than ``k`` items, the list is
            topped up with plain recommendations.
        """
        k = check_int(k, "k", minimum=1)
        plan = self.assign(user_tags, segments=segments, user_ids=user_ids, min_confidence=min_confidence,
                           allow_sensitive=allow_sensitive)
        items_col = pd.Series([[] for _ in range(len(plan))], index=plan.index, dtype=object)
        if recommender is not None and len(plan):
            pools = self._item_pools(dataset)
            for mode, idx in plan.groupby("items_mode").groups.items():
                users = plan.loc[idx, Columns.USER].to_numpy()
                kwargs: dict[str, Any] = {"k": k, "filter_seen": mode != "favourites"}
                if mode == "cheap" and pools.get("cheap") is not None:
                    kwargs["items"] = pools["cheap"]
                if mode == "new" and pools.get("new") is not None:
                    kwargs["items"] = pools["new"]
                recs = self._recommend(recommender, users, kwargs)
                if mode == "brand" and profiles is not None and "top_brand" in getattr(profiles, "frame", {}):
                    recs = self._brand_filter(recs, profiles, pools.get("brand"), recommender, users, kwargs)
                lists = recs.sort_values([Columns.USER, Columns.RANK]).groupby(
                    recs[Columns.USER].astype(object))[Columns.ITEM].agg(list)
                found = lists.reindex(pd.Index(users, dtype=object))
                got = [v if isinstance(v, list) else [] for v in found.to_numpy()]
                short = np.array([len(g) < k for g in got])
                if short.any() and "items" in kwargs:  # small pool: top up with plain recommendations
                    plain = {key: v for key, v in kwargs.items() if key != "items"}
                    extra = self._recommend(recommender, users[short], plain)
                    extra_lists = extra.sort_values([Columns.USER, Columns.RANK]).groupby(
                        extra[Columns.USER].astype(object))[Columns.ITEM].agg(list)
                    for j in np.flatnonzero(short):
                        fill = [i for i in extra_lists.get(users[j], []) if i not in got[j]]
                        got[j] = got[j] + fill[: k - len(got[j])]
                items_col.loc[idx] = got
        plan["items"] = items_col
        if send_time_model is not None:
            if campaign_start is None:
                raise InvalidParameterError("The 'campaign_start' parameter is needed with send_time_model.")
            st = send_time_model.next_send_time(plan[Columns.USER].to_numpy(), after=campaign_start)
            plan["send_at"] = st["send_at"].to_numpy()
            plan["best_hour"] = st["best_hour"].to_numpy()
            plan["best_weekday"] = st["best_weekday"].to_numpy()
        return plan.drop(columns="items_mode")

    @staticmethod
    def _recommend(model: Any, users: np.ndarray, kwargs: dict[str, Any]) -> pd.DataFrame:
        return recommend_skip_unknown(model, users, **kwargs)

    def _item_pools(self, dataset: Any) -> dict[str, Any]:
        if dataset is None:
            return {}
        items = dataset.item_attributes()
        pools: dict[str, Any] = {}
        if Columns.PRICE in items.columns and items[Columns.PRICE].notna().any():
            median = items[Columns.PRICE].median()
            pools["cheap"] = items.index[items[Columns.PRICE] <= median].to_numpy()
        if "first_seen" in items.columns and items["first_seen"].notna().any():
            first = pd.to_datetime(items["first_seen"], errors="coerce")
        else:
            inter = dataset.internal_interactions
            first_idx = inter.groupby(Columns.ITEM_IDX)[Columns.TIMESTAMP].min()
            first = pd.Series(pd.NaT, index=items.index, dtype="datetime64[ns]")
            first.iloc[first_idx.index.to_numpy()] = first_idx.to_numpy()
        n_new = max(1, int(np.ceil(self.new_share * first.notna().sum())))
        pools["new"] = first.dropna().sort_values(ascending=False).index[:n_new].to_numpy()
        if "brand" in items.columns:
            pools["brand"] = items["brand"]
        return pools

    @staticmethod
    def _brand_filter(recs: pd.DataFrame, profiles: ProfileSource, brands: pd.Series | None, model: Any,
                      users: np.ndarray, kwargs: dict[str, Any]) -> pd.DataFrame:
        if brands is None:
            return recs
        top = profiles.frame["top_brand"].reindex(pd.Index(users, dtype=object))
        # profiles hold brand slugs ("acme_co"); compare them with the slugs of the item brands
        brand_slugs = pd.Series(slugify_values(brands), index=brands.index, dtype=object)
        parts = []
        for brand, grp in pd.Series(users, dtype=object).groupby(top.to_numpy()):
            pool = brand_slugs.index[(brand_slugs == brand).to_numpy()].to_numpy()
            if pool.size:
                parts.append(Playbook._recommend(model, grp.to_numpy(), {**kwargs, "items": pool}))
        done = set().union(*[set(p[Columns.USER]) for p in parts]) if parts else set()
        rest = recs[~recs[Columns.USER].isin(done)]
        return pd.concat(parts + [rest], ignore_index=True) if parts else recs
