"""Workflow 2: target a campaign and build its plan on the shipped sample.

Scenario: on 2011-11-09 the shop wants to promote its **Kitchen** range to at
most 150 customers, not churned, ranked by their propensity to buy Kitchen
items; nobody contacted twice in the last week; at most 40% from the
"champions" RFM segment. Each selected customer then gets a tactic from the
default playbook, three recommended items and a personal send time.

Run::

    python examples/target_campaign.py
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_rec.sample_data import load_sample
from persona_rec.marketing import (
    Playbook,
    SendTimeModel,
    affinity_propensity,
    category_item_mask,
    select_audience,
)
from persona_rec.models import ItemKNNRecommender
from persona_rec.profiles import ProfileBuilder
from persona_rec.segments import rfm_segments
from persona_rec.tags import Tagger, Taxonomy

pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 90)

CUTOFF = pd.Timestamp("2011-11-09")


def main() -> None:
    ds = load_sample()
    train = ds.filter_time(end=CUTOFF)  # what the shop knew on the campaign day
    profiles = ProfileBuilder.default().build(ds, as_of=CUTOFF)
    user_tags = Tagger(Taxonomy.default(profiles)).assign(profiles)
    segments = rfm_segments(profiles)

    # propensity for the Kitchen category (recency-weighted past Kitchen purchases)
    propensity = affinity_propensity(ds, "Kitchen", as_of=CUTOFF)

    # a contact log: say the 20 most active customers were mailed twice this week
    busiest = profiles.frame["frequency"].nlargest(20).index
    contacts = pd.DataFrame({
        "user_id": np.repeat(busiest.to_numpy(), 2),
        "timestamp": np.tile([CUTOFF - pd.Timedelta(days=2), CUTOFF - pd.Timedelta(days=5)], 20),
    })
    opted_out = profiles.frame.index[::50]  # every 50th customer unsubscribed

    audience = select_audience(
        user_tags,
        expression="!churned",
        propensity=propensity,
        budget=150,
        segments=segments,
        quotas={"champions": 0.4},
        exclude=opted_out,
        contact_history=contacts,
        max_contacts=2,
        as_of=CUTOFF,
        label="Kitchen",
    )
    print("audience funnel:", audience.attrs["funnel"])
    print(audience.head(8).to_string(index=False))
    print("\nsegment mix:", audience["segment"].value_counts().to_dict())

    # privacy: sensitive or unknown tags are refused
    for bad in ("interest/kichen & !churned", "interest/kitchen &"):
        try:
            select_audience(user_tags, expression=bad, budget=100)
        except Exception as err:  # noqa: BLE001 - showing the typed errors
            print(f"\n{type(err).__name__}: {err}")

    # campaign plan: tactic, items, send time
    model = ItemKNNRecommender().fit(train)
    send_times = SendTimeModel(prior_strength=10).fit(train, segments=segments)
    plan = Playbook.default().plan(
        user_tags, user_ids=audience["user_id"], recommender=model, k=3,
        send_time_model=send_times, campaign_start=CUTOFF + pd.Timedelta(hours=8), dataset=train,
        segments=segments,
    )
    print("\ntactics:", plan["tactic"].value_counts().to_dict())
    show = plan[["user_id", "tactic", "items", "send_at"]].head(8)
    print(show.to_string(index=False))

    # what happened next (the sample holds the following month)
    test = ds.interactions
    test = test[(test["timestamp"] >= CUTOFF) & (test["timestamp"] < CUTOFF + pd.Timedelta(days=30))]
    kitchen = ds.item_attributes().index[category_item_mask(ds.item_attributes()["category"], "Kitchen")]
    buyers = set(test.loc[test["item_id"].isin(kitchen), "user_id"])
    universe = profiles.frame.index[profiles.frame["frequency"] > 0]
    rate_aud = audience["user_id"].isin(buyers).mean()
    rate_all = pd.Index(universe).isin(list(buyers)).mean()
    print(f"\nKitchen buyers in the next 30 days: audience {rate_aud:.1%} vs all past buyers {rate_all:.1%} "
          f"(lift {rate_aud / rate_all:.2f}x)")


if __name__ == "__main__":
    main()
