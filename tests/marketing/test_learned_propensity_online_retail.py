"""LearnedPropensity on the real UCI Online Retail data (issue #13 protocol).

Profiles at 2011-09-09 (events strictly before it), outcome: a purchase in
the next 90 days, customers = every user with a purchase before the cut-off.
The AUC floor guards the measured 0.743 (docs/predictive.md) against
regressions; the 0.80 target of the issue is not reached on this data.
"""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from persona_rec.sample_data import load_online_retail
from persona_rec.marketing import LearnedPropensity

AS_OF = pd.Timestamp("2011-09-09")


@pytest.fixture(scope="module")
def retail(online_retail_csv):
    ds = load_online_retail(online_retail_csv)
    inter = ds.interactions
    users = pd.Index(inter.loc[inter["timestamp"] < AS_OF, "user_id"].unique())
    window = inter[(inter["timestamp"] >= AS_OF)
                   & (inter["timestamp"] < AS_OF + pd.Timedelta(days=90))]
    return ds, users, users.isin(window["user_id"].unique())


def test_purchase_auc_and_brier_on_online_retail(retail) -> None:
    ds, users, bought = retail
    new = LearnedPropensity(90).fit(ds, AS_OF).predict(ds, AS_OF).reindex(users)
    assert new.notna().all() and len(users) == 3360
    auc, brier = roc_auc_score(bought, new), brier_score_loss(bought, new)
    assert auc > 0.735 and brier < 0.222
    # the settings of version 0.1 minus its fold-averaged isotonic calibration rank worse
    old = LearnedPropensity(90, C=1.0, calibration="isotonic", n_snapshots=1,
                            timing_features=False).fit(ds, AS_OF).predict(ds, AS_OF)
    assert roc_auc_score(bought, old.reindex(users)) < auc - 0.02
