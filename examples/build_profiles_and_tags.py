"""Workflow 1: build user profiles, tags and RFM segments from the shipped sample.

Run::

    python examples/build_profiles_and_tags.py

Uses only the Online Retail sample shipped inside the package
(``persona_rec.sample_data.load_sample()``, 1,000 customers, CC BY 4.0).
"""

from __future__ import annotations

import pandas as pd

from persona_rec.sample_data import load_sample
from persona_rec.profiles import ProfileBuilder
from persona_rec.segments import rfm_segments
from persona_rec.tags import Tagger, Taxonomy

pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 20)


def main() -> None:
    ds = load_sample()
    print(ds)
    print(f"time range: {ds.time_range[0]} .. {ds.time_range[1]}")

    # 1. profiles as of a point in time (only earlier events are used)
    profiles = ProfileBuilder.default().build(ds, as_of="2011-11-09")
    frame = profiles.frame
    print(f"\nprofiles: {frame.shape[0]} users x {frame.shape[1]} columns (as of {profiles.as_of})")
    cols = ["recency_days", "frequency", "monetary", "rfm_score", "top_category", "price_sensitivity",
            "lifecycle_stage", "preferred_hour"]
    print(frame[cols].head(5).round(2).to_string())
    print("\nlifecycle stages:")
    print(frame["lifecycle_stage"].value_counts().to_string())

    # 2. tags from the default taxonomy (interest tags generated from the category tree)
    taxonomy = Taxonomy.default(profiles)
    user_tags = Tagger(taxonomy).assign(profiles)
    counts = user_tags.counts().set_index("tag_id")
    print(f"\ntags: {len(taxonomy)} in taxonomy, {user_tags.matrix.nnz} user-tag pairs")
    leaf = ["high_value", "new_user", "churn_risk", "churned", "price_sensitive", "novelty_seeker",
            "interest/kitchen", "interest/home", "interest/seasonal"]
    print(counts.loc[leaf, ["layer", "n_users", "share", "mean_confidence"]].round(3).to_string())
    user = frame.index[0]
    print(f"\ntags of user {user}:")
    print(user_tags.tags_of(user).round(2).head(12).to_string())
    # (wholesale tier prices are not discounts, so few sample customers are price sensitive)
    print("\nusers matching 'interest/kitchen & novelty_seeker & !churned':",
          len(user_tags.users_with("interest/kitchen & novelty_seeker & !churned")))

    # 3. RFM segments
    seg = rfm_segments(profiles)
    print("\nRFM segments (suppressing segments under 10 users):")
    print(seg.sizes(min_size=10).to_string())


if __name__ == "__main__":
    main()
