"""Real-data check (runs when PERSONA_REC_DATA is set): targeting on Online Retail.

A small version of benchmarks/bench_targeting.py: on 2011-11-09 the
Bags-affinity audience of 400 customers must buy Bags in the next 30 days at
>= 3x the universe's rate and more often than the RFM-only audience.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_rec.sample_data import load_online_retail
from persona_rec.marketing import affinity_propensity, category_item_mask, proportion_diff_ci
from persona_rec.profiles import ProfileBuilder


def test_affinity_audience_beats_random_and_rfm(online_retail_csv):
    ds = load_online_retail(online_retail_csv)
    cutoff = pd.Timestamp("2011-11-09")
    universe = np.asarray(ds.user_map.external_ids, dtype=object)[ds.filter_time(end=cutoff).hot_user_mask()]
    inter = ds.interactions
    test = inter[(inter["timestamp"] >= cutoff) & (inter["timestamp"] < cutoff + pd.Timedelta(days=30))]
    items = ds.item_attributes()
    bags = items.index[category_item_mask(items["category"], "Bags")]
    buyers = pd.Index(test.loc[test["item_id"].isin(bags), "user_id"].unique())
    base = pd.Index(universe).isin(buyers).mean()

    aff = affinity_propensity(ds, "Bags", as_of=cutoff).reindex(universe)
    top = aff.sort_values(ascending=False, kind="mergesort").index[:400]
    frame = ProfileBuilder.default().build(ds, as_of=cutoff).frame.loc[universe]
    rfm = frame.sort_values(["rfm_score", "monetary"], ascending=False).index[:400]
    x_aff, x_rfm = int(top.isin(buyers).sum()), int(rfm.isin(buyers).sum())
    assert x_aff / 400 >= 3 * base
    lo, _ = proportion_diff_ci(x_aff, 400, x_rfm, 400)
    assert lo > 0  # significantly above RFM-only
