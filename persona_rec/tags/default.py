"""The default e-commerce taxonomy (``Taxonomy.default``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from .._text import slug_text
from .._types import ProfileSource
from .._validation import check_int, check_number
from ..exceptions import InvalidParameterError
from .expressions import is_valid_tag_id
from .taxonomy import Tag

__all__ = ["DEFAULT_VERSION", "AGE_BAND_TAGS", "default_taxonomy_tags"]

#: Version string of the default taxonomy (bump when a rule or id changes).
DEFAULT_VERSION = "default-1"

#: ``age_band`` value -> tag id suffix (the profile bands, made expression-safe).
AGE_BAND_TAGS: dict[str, str] = {
    "<18": "under_18", "18-24": "18-24", "25-34": "25-34", "35-44": "35-44",
    "45-54": "45-54", "55-64": "55-64", "65+": "65_plus",
}
_LIFECYCLE = {
    "prospect": "no purchase yet (registered or browsing only)",
    "new": "first purchase in the last 30 days (profile `new_days`)",
    "active": "buying at their usual pace",
    "reactivated": "came back after a gap longer than the churn threshold",
    "at_risk": "recency above 1.5 x their expected interval between orders",
    "churned": "recency above the churn threshold (3 x expected interval, at most 365 days)",
}
_HOURS = {  # name -> (rule, description)
    "morning": ("preferred_hour >= 6 and preferred_hour < 12", "most active 06:00-11:59"),
    "afternoon": ("preferred_hour >= 12 and preferred_hour < 18", "most active 12:00-17:59"),
    "evening": ("preferred_hour >= 18 and preferred_hour < 22", "most active 18:00-21:59"),
    "night": ("preferred_hour >= 22 or preferred_hour < 6", "most active 22:00-05:59"),
}
def _slug(value: Any) -> str:
    return slug_text(str(value).strip(), keep="/_.-").strip("_/")


def _quote(value: str) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


#: A tag of the default taxonomy as data: (id, name, parent, description, rule, confidence).
_Row = tuple[str, str, str, str, "str | None", "str | None"]
# the tags that no parameter changes, in taxonomy order (the function adds the others around them)
_BEHAVIOUR: list[_Row] = [
    ("behaviour/heavy_user", "Heavy user", "behaviour", "top 10% of users by number of events",
     "quantile(n_events) >= 0.9", "quantile(n_events)"),
    ("behaviour/browser", "Browser", "behaviour", "5+ events but no purchase yet",
     'lifecycle_stage == "prospect" and n_events >= 5', None),
    ("behaviour/cart_abandoner", "Cart abandoner", "behaviour",
     "fewer than one purchase per two add-to-cart events",
     "cart_to_purchase < 0.5", "clip(1 - cart_to_purchase, 0, 1)"),
    ("behaviour/weekend_shopper", "Weekend shopper", "behaviour", "most active on Saturday or Sunday",
     "preferred_weekday >= 5", None),
    ("active_hours", "Active hours", "behaviour",
     "Hour of day with the most activity (preferred_hour).", None, None),
    *((f"active_hours/{name}", name.capitalize(), "active_hours", desc, rule, None)
      for name, (rule, desc) in _HOURS.items()),
]
_PREFERENCE: list[_Row] = [
    ("preference/discount_hunter", "Discount hunter", "preference",
     "at least half of purchase lines paid below list price",
     "discount_share >= 0.5", "discount_share"),
    ("preference/explorer", "Category explorer", "preference",
     "spread across categories (category_diversity >= 0.7)",
     "category_diversity >= 0.7", "category_diversity"),
    ("preference/focused", "Category focused", "preference",
     "5+ events concentrated in few categories (category_diversity <= 0.2)",
     "category_diversity <= 0.2 and n_events >= 5", None),
    ("preference/price", "Price band", "preference",
     "Price band (low/mid/high tercile) with the highest affinity.", None, None),
]
_VALUE: list[_Row] = [
    ("high_value", "High value", "value",
     "top monetary quintile among buyers (m_score 5); confidence = percentile of monetary",
     "m_score >= 5", "quantile(monetary)"),
    ("value/rfm_high", "RFM high", "value", "rfm_score 12-15", "rfm_score >= 12", None),
    ("value/rfm_mid", "RFM mid", "value", "rfm_score 7-11", "rfm_score >= 7 and rfm_score < 12", None),
    ("value/rfm_low", "RFM low", "value", "rfm_score 3-6", "rfm_score < 7", None),
    ("value/frequent_buyer", "Frequent buyer", "value", "f_score 4-5 (top two frequency quintiles)",
     "f_score >= 4", None),
    ("value/big_basket", "Big basket", "value", "top 20% average order value among buyers",
     "quantile(avg_order_value) >= 0.8", "quantile(avg_order_value)"),
]
_LIFECYCLE_TAGS: list[_Row] = [
    *((f"lifecycle/{stage}", stage.capitalize(), "lifecycle", _LIFECYCLE[stage],
       f"lifecycle_stage == {_quote(stage)}", None)
      for stage in ("prospect", "new", "active", "reactivated")),
    ("churn_risk", "Churn risk", "lifecycle",
     ("at_risk, or active/reactivated and already past their expected "
      "interval; confidence = recency / (1.5 x expected interval)"),
     'lifecycle_stage in ["active", "reactivated"] and recency_days > expected_interval_days',
     "clip(recency_days / (1.5 * expected_interval_days), 0, 1)"),
    ("lifecycle/at_risk", "At risk", "churn_risk", _LIFECYCLE["at_risk"],
     'lifecycle_stage == "at_risk"', None),
    ("churned", "Churned", "lifecycle", "Users whose lifecycle stage is churned.", None, None),
    ("lifecycle/churned", "Churned (stage)", "churned", _LIFECYCLE["churned"],
     'lifecycle_stage == "churned"', None),
]


def _tags(rows: Iterable[_Row]) -> list[Tag]:
    """The :class:`Tag` of each (id, name, parent, description, rule, confidence) row."""
    return [Tag(tid, name, parent=parent, description=description, rule=rule, confidence=confidence)
            for tid, name, parent, description, rule, confidence in rows]


def _frame(profiles: ProfileSource) -> pd.DataFrame | None:
    """The profile frame restricted to users known at as_of (they alone shape the taxonomy)."""
    if profiles is None:
        return None
    frame = profiles if isinstance(profiles, pd.DataFrame) else profiles.frame
    known = frame.get("known_at_as_of")
    if known is not None and known.dtype.kind == "b":
        frame = frame[known.to_numpy()]
    return frame


def _value_tags(frame: pd.DataFrame | None, column: str, parent: str, label: str,
                max_values: int) -> list[Tag]:
    """One tag per observed value of ``column`` (most frequent first, at most ``max_values``)."""
    if frame is None or column not in frame.columns:
        return []
    counts = frame[column].dropna().astype(str).value_counts()
    tags, seen = [], set()
    for value in counts.index[:max_values]:
        slug = _slug(value)
        tid = f"{parent}/{slug}"
        if not slug or tid in seen or not is_valid_tag_id(tid):
            continue
        seen.add(tid)
        tags.append(Tag(tid, name=f"{label}: {value}", parent=parent,
                        description=f"{column} is {value!r}", rule=f"{column} == {_quote(value)}"))
    return tags


def default_taxonomy_tags(
    profiles: ProfileSource | None = None,
    *,
    interest_threshold: float = 0.2,
    interest_levels: int = 2,
    interest_top_n: int | None = None,
    price_sensitive_threshold: float = 0.6,
    brand_loyal_threshold: float = 0.6,
    novelty_threshold: float = 0.3,
    new_user_days: float = 30.0,
    max_attribute_values: int = 50,
    likely_churned_threshold: float = 0.3,
    high_clv_quantile: float = 0.8,
) -> list[Tag]:
    """Tags of the default e-commerce taxonomy.

    Parameters
    ----------
    profiles : Profiles or DataFrame, optional
        With profiles, ``interest/<l1>[/<l2>]`` tags are generated from
        ``profiles.affinities["category_l1"/"category_l2"]`` value names;
        ``basic/age/*`` only when ``age_band`` exists; ``basic/gender/*`` and
        ``basic/country/*`` one per observed value of ``gender``/``country``;
        ``new_user`` also uses ``account_age_days`` when present. Without
        profiles, only the fixed tags (and the age bands) are returned.
    interest_threshold : float, default 0.2
        A user gets ``interest/x`` when their (normalised) affinity for x is
        at least this; the confidence is the affinity.
    interest_levels : int, default 2
        Category levels that get interest tags (1-3).
    interest_top_n : int or None, default None
        Also require x to be among the user's ``top_n`` categories of that level.
    price_sensitive_threshold, brand_loyal_threshold, novelty_threshold : float
        Thresholds on ``price_sensitivity``, ``brand_loyalty``, ``novelty_seeking``.
    new_user_days : float, default 30
        ``new_user`` = first seen (or registered) at most this many days ago.
    max_attribute_values : int, default 50
        At most this many (most frequent) values of gender/country get a tag.
    likely_churned_threshold : float, default 0.3
        ``lifecycle/likely_churned`` = BG/NBD ``p_alive`` below this (only
        when the profiles have ``p_alive``, see
        :class:`~persona_rec.profiles.PredictiveBuilder`).
    high_clv_quantile : float, default 0.8
        ``value/high_potential_clv`` = percentile of ``clv`` at least this
        (only when the profiles have ``clv``).

    Returns
    -------
    list of Tag
    """
    th = check_number(interest_threshold, "interest_threshold", low=0, high=1, low_inclusive=False,
                      owner="Taxonomy.default")
    levels = check_int(interest_levels, "interest_levels", minimum=1, owner="Taxonomy.default")
    if levels > 3:
        raise InvalidParameterError(
            f"The 'interest_levels' parameter of Taxonomy.default must be an int in 1..3, got {levels}."
        )
    if interest_top_n is not None:
        check_int(interest_top_n, "interest_top_n", minimum=1, owner="Taxonomy.default")
    ps = check_number(price_sensitive_threshold, "price_sensitive_threshold", low=0, high=1,
                      owner="Taxonomy.default")
    bl = check_number(brand_loyal_threshold, "brand_loyal_threshold", low=0, high=1,
                      owner="Taxonomy.default")
    nv = check_number(novelty_threshold, "novelty_threshold", low=0, high=1, owner="Taxonomy.default")
    nd = check_number(new_user_days, "new_user_days", low=0, owner="Taxonomy.default")
    max_vals = check_int(max_attribute_values, "max_attribute_values", minimum=0, owner="Taxonomy.default")
    lc = check_number(likely_churned_threshold, "likely_churned_threshold", low=0, high=1,
                      low_inclusive=False, owner="Taxonomy.default")
    hq = check_number(high_clv_quantile, "high_clv_quantile", low=0, high=1, low_inclusive=False,
                      owner="Taxonomy.default")
    frame = _frame(profiles)
    affinities = {} if profiles is None or isinstance(profiles, pd.DataFrame) else (
        getattr(profiles, "affinities", None) or {})

    T: list[Tag] = []
    # ---------------------------------------------------------------- basic
    T.append(Tag("basic", "Basic attributes", layer="basic",
                 description="Demographic and registration attributes."))
    if frame is None or "age_band" in frame.columns:
        T.append(Tag("basic/age", "Age band", parent="basic", sensitive=True,
                     description="Age band from the profile's age_band (sensitive)."))
        for band, suffix in AGE_BAND_TAGS.items():
            T.append(Tag(f"basic/age/{suffix}", f"Age {band}", parent="basic/age",
                         description=f"age_band is {band!r}", rule=f"age_band == {_quote(band)}"))
    gender = _value_tags(frame, "gender", "basic/gender", "Gender", max_vals)
    if gender:
        T.append(Tag("basic/gender", "Gender", parent="basic", sensitive=True,
                     description="Gender as recorded at registration (sensitive)."))
        T.extend(gender)
    country = _value_tags(frame, "country", "basic/country", "Country", max_vals)
    if country:
        T.append(Tag("basic/country", "Country", parent="basic",
                     description="Country of the customer account."))
        T.extend(country)

    # ---------------------------------------------------------------- behaviour
    T.append(Tag("behaviour", "Behaviour", layer="behaviour",
                 description="How the user shops: price, novelty, activity patterns."))
    T.extend(_tags([
        ("price_sensitive", "Price sensitive", "behaviour",
         f"at least {ps:g} of purchase lines paid below the item's usual price",
         f"price_sensitivity >= {ps:g}", "price_sensitivity"),
        ("novelty_seeker", "Novelty seeker", "behaviour",
         f"at least {nv:g} of purchase lines are items new to the catalogue",
         f"novelty_seeking >= {nv:g}", "novelty_seeking"),
        *_BEHAVIOUR,
    ]))

    # ---------------------------------------------------------------- interest
    T.append(Tag("interest", "Interests", layer="interest",
                 description=f"Category interests: time-decayed affinity >= {th:g}"
                 + (f" and among the user's top {interest_top_n}" if interest_top_n else "") + "."))
    made: set[str] = {"interest"}
    for level in range(1, levels + 1):
        kind = f"category_l{level}"
        if kind not in affinities:
            continue
        _, names = affinities[kind]
        for value in names:
            value = str(value)
            tid = "interest/" + value
            if not value or tid in made or not is_valid_tag_id(tid):
                continue
            parent = "interest/" + value.rsplit("/", 1)[0] if "/" in value else "interest"
            if parent not in made:
                parent = "interest"
            aff = f"affinity({_quote(kind)}, {_quote(value)})"
            rule = f"{aff} >= {th:g}"
            if interest_top_n:
                rule += f" and affinity_rank({_quote(kind)}, {_quote(value)}) <= {interest_top_n}"
            T.append(Tag(tid, value.rsplit("/", 1)[-1].replace("_", " ").capitalize(),
                         parent=parent, description=f"{kind} affinity for {value!r} >= {th:g}",
                         rule=rule, confidence=aff))
            made.add(tid)

    # ---------------------------------------------------------------- preference
    T.append(Tag("preference", "Preferences", layer="preference",
                 description="Brand, price-band and assortment preferences."))
    T.extend(_tags([
        ("brand_loyal", "Brand loyal", "preference", f"2+ orders and brand_loyalty >= {bl:g}",
         f"brand_loyalty >= {bl:g} and frequency >= 2", "brand_loyalty"),
        *_PREFERENCE,
    ]))
    bands = [str(b) for b in affinities["price_band"][1]] if "price_band" in affinities else \
        ["low", "mid", "high"]
    for band in bands:
        slug = _slug(band)
        if not slug or not is_valid_tag_id(f"preference/price/{slug}"):
            continue
        conf = (f"affinity(\"price_band\", {_quote(band)})" if "price_band" in affinities else None)
        T.append(Tag(f"preference/price/{slug}", f"Prefers {band} prices", parent="preference/price",
                     description=f"top_price_band is {band!r}",
                     rule=f"top_price_band == {_quote(band)}", confidence=conf))

    # ---------------------------------------------------------------- value
    T.append(Tag("value", "Value", layer="value", description="Customer value from RFM."))
    T.extend(_tags(_VALUE))
    if frame is not None and "clv" in frame.columns:
        T.extend(_tags([
            ("value/high_potential_clv", "High potential CLV", "value",
             (f"predicted customer lifetime value (BG/NBD x Gamma-Gamma) in "
              f"the top {100 * (1 - hq):g}% of buyers"),
             f"quantile(clv) >= {hq:g}", "quantile(clv)"),
        ]))

    # ---------------------------------------------------------------- lifecycle
    T.append(Tag("lifecycle", "Lifecycle", layer="lifecycle",
                 description="Lifecycle stage (profiles' lifecycle_stage) and related alerts."))
    new_rule = f"tenure_days <= {nd:g}"
    if frame is not None and "account_age_days" in frame.columns:
        new_rule = f"account_age_days <= {nd:g} or tenure_days <= {nd:g}"
    T.extend(_tags([
        ("new_user", "New user", "lifecycle", f"first seen (or registered) at most {nd:g} days ago",
         new_rule, None),
        *_LIFECYCLE_TAGS,
    ]))
    if frame is not None and "p_alive" in frame.columns:
        T.extend(_tags([
            ("lifecycle/likely_churned", "Likely churned", "churned",
             (f"BG/NBD probability of still being an active customer below "
              f"{lc:g}; confidence = 1 - p_alive"),
             f"p_alive < {lc:g}", "1 - p_alive"),
        ]))
    return T
