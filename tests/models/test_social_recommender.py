from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec import Dataset
from persona_rec.sample_data.social import synthetic_social
from persona_rec.exceptions import InvalidDtypeError, InvalidParameterError
from persona_rec.models import FallbackChain, PopularRecommender, SocialRecommender, load_model
from persona_rec.social import SocialGraph


@pytest.fixture(scope="module")
def split():
    d = synthetic_social(2000, 300, 30_000, adoption_rate=0.3, random_state=4)
    inter = d.dataset.interactions
    cutoff = d.end - pd.Timedelta(days=60)
    train = Dataset.from_frames(inter[inter["timestamp"] < cutoff])
    test = inter[(inter["timestamp"] >= cutoff) & (inter["event"] == "purchase")]
    graph = SocialGraph.from_edges(d.edges, users=d.user_truth.index)
    return d, train, test, graph


def _recall(recs: pd.DataFrame, test: pd.DataFrame, users: np.ndarray) -> float:
    truth = test[test["user_id"].isin(users)].groupby("user_id")["item_id"].agg(set)
    got = recs.groupby("user_id")["item_id"].agg(set)
    return float(np.mean([len(truth[u] & got.get(u, set())) / len(truth[u]) for u in truth.index]))


def test_validation():
    with pytest.raises(InvalidParameterError, match="'events'"):
        SocialRecommender(events="purchase")
    with pytest.raises(InvalidParameterError, match="'half_life_days'"):
        SocialRecommender(half_life_days=0)
    inter = pd.DataFrame({"user_id": [1], "item_id": [1], "timestamp": pd.to_datetime(["2024-01-01"])})
    with pytest.raises(InvalidDtypeError, match="graph=SocialGraph"):
        SocialRecommender().fit(Dataset.from_frames(inter))
    g = SocialGraph.from_edges(pd.DataFrame({"source": [1], "target": [2]}))
    with pytest.raises(InvalidParameterError, match="needs an 'event' column"):
        SocialRecommender().fit(Dataset.from_frames(inter), graph=g)


def test_bought_by_followees_finds_the_planted_social_purchases(split, tmp_path):
    d, train, test, graph = split
    users = test["user_id"].unique()
    social = SocialRecommender().fit(train, graph=graph)
    pop = PopularRecommender().fit(train)
    r_social = social.recommend(users, k=10, on_unknown="skip")
    r_pop = pop.recommend(users, k=10, on_unknown="skip")
    cutoff = d.end - pd.Timedelta(days=60)
    influencers = d.user_truth.index[d.user_truth["is_influencer"]]
    st = d.social_truth
    adopted = st[(st["timestamp"] >= cutoff) & st["from_user"].isin(influencers)]
    assert len(adopted) > 50
    rs, rp = _recall(r_social, adopted, users), _recall(r_pop, adopted, users)
    assert rs > 3 * rp and rs > 0.05, (rs, rp)
    # explanations name followees who bought the item
    row = r_social.iloc[0]
    why = social.explain(row["user_id"], row["item_id"])
    assert len(why) >= 1 and (why["contribution"] > 0).all()
    follows = graph.influence[graph.index_of(why["followee"].to_numpy()), graph.index_of([row["user_id"]])[0]]
    assert (follows.toarray() > 0).all()
    # a chain with popularity serves everyone; save/load keeps the recommendations
    chain = FallbackChain([social, pop], fit_links=False).fit(train)
    assert set(chain.recommend(users, k=10, on_unknown="skip")["user_id"]) == set(users)
    path = social.save(tmp_path / "social")
    again = load_model(path).recommend(users[:50], k=10, on_unknown="skip")
    pd.testing.assert_frame_equal(again, social.recommend(users[:50], k=10, on_unknown="skip"))
