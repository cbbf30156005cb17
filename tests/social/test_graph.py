from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from persona_rec.exceptions import InvalidValueError, MissingColumnError
from persona_rec.social import SocialGraph, social_features, social_taxonomy_tags
from persona_rec.tags import Tagger, Taxonomy

pytest.importorskip("igraph")


def _edges(**cols):
    base = {"source": ["a", "b", "c"], "target": ["b", "c", "a"]}
    base.update(cols)
    return pd.DataFrame(base)


def test_kinds_set_the_influence_direction():
    g = SocialGraph.from_edges(pd.DataFrame({
        "source": ["f", "s", "r", "x"], "target": ["F", "S", "R", "X"],
        "kind": ["follow", "share", "referral", "friend"]}))
    w = g.influence.toarray()
    i = {u: k for k, u in enumerate(g.user_ids)}
    assert w[i["F"], i["f"]] == 1 and w[i["f"], i["F"]] == 0  # the followee reaches the follower
    assert w[i["s"], i["S"]] == 1 and w[i["S"], i["s"]] == 0
    assert w[i["r"], i["R"]] == 1
    assert w[i["x"], i["X"]] == 1 and w[i["X"], i["x"]] == 1


def test_repeated_edges_add_weights_and_isolated_users_get_rows():
    g = SocialGraph.from_edges(_edges(weight=[1.0, 2.0, 3.0]).pipe(
        lambda e: pd.concat([e, e.iloc[[0]]])), users=["z"])
    assert g.user_ids.tolist() == ["z", "a", "b", "c"]
    assert g.influence[g.index_of(["b"])[0], g.index_of(["a"])[0]] == 2.0
    assert g.followers().tolist() == [0, 1, 1, 1]


@pytest.mark.parametrize("edges, match", [
    (pd.DataFrame({"source": ["a"]}), "missing column"),
    (_edges(kind=["follow", "like", "follow"]), "'kind' must be one of"),
    (_edges(weight=[1.0, 0.0, 1.0]), "'weight' must hold finite numbers > 0"),
    (_edges(weight=[1.0, np.nan, 1.0]), "'weight' must hold finite numbers > 0"),
    (pd.DataFrame({"source": ["a", None], "target": ["b", "c"]}), "'source' must not hold missing"),
    (pd.DataFrame({"source": ["a", "b"], "target": ["b", "b"]}), "self-loops"),
    (_edges(timestamp=["2024-01-01", "not a date", "2024-01-02"]), "unparseable"),
])
def test_bad_edges_raise_typed_errors(edges, match):
    with pytest.raises((InvalidValueError, MissingColumnError), match=match):
        SocialGraph.from_edges(edges)


def test_as_of_and_half_life():
    e = _edges(timestamp=pd.to_datetime(["2024-01-01", "2024-01-11", "2024-02-01"]))
    g = SocialGraph.from_edges(e, as_of="2024-01-20", half_life_days=10)
    assert g.n_edges == 2  # the February edge is left out
    b, a, c = g.index_of(["b", "a", "c"])
    assert g.influence[b, a] == pytest.approx(0.5 ** 1.9)
    with pytest.raises(InvalidValueError, match="time column"):
        SocialGraph.from_edges(_edges(), as_of="2024-01-01")
    with pytest.raises(InvalidValueError, match="missing time"):
        SocialGraph.from_edges(_edges(timestamp=["2024-01-01", None, "2024-01-02"]), as_of="2024-01-05")


def test_pagerank_matches_the_dense_definition(rng):
    n = 30
    dense = (rng.random((n, n)) < 0.15) * rng.integers(1, 4, (n, n))
    np.fill_diagonal(dense, 0)
    dense[:, 5] = 0  # a dangling user (nobody reaches it, so it endorses nobody)
    r, c = np.nonzero(dense)
    edges = pd.DataFrame({"source": r, "target": c, "kind": "share", "weight": dense[r, c].astype(float)})
    g = SocialGraph.from_edges(edges, users=np.arange(n))
    w = dense.astype(float)  # w[i, j]: i reaches j; j endorses i
    into = w.sum(axis=0)
    m = np.where(into > 0, w / np.where(into > 0, into, 1), 0)
    pr = np.full(n, 1 / n)
    for _ in range(500):
        pr = 0.85 * (m @ pr) + (0.85 * pr[into == 0].sum() + 0.15) / n
    got = pd.Series(g.pagerank(), index=g.user_ids).reindex(np.arange(n)).to_numpy()
    np.testing.assert_allclose(got, pr / pr.sum(), rtol=1e-6)


def test_reach_matches_breadth_first_search(rng):
    n = 60
    r = rng.integers(n, size=200)
    c = rng.integers(n, size=200)
    keep = r != c
    g = SocialGraph.from_edges(pd.DataFrame({"source": r[keep], "target": c[keep], "kind": "share"}),
                               users=np.arange(n))
    a = (g.influence.toarray() > 0).astype(int)
    two = ((a + a @ a) > 0)
    np.fill_diagonal(two, False)
    assert g.reach(2, chunk_paths=50).tolist() == two.sum(axis=1).tolist()  # many small blocks
    assert g.reach(1).tolist() == a.sum(axis=1).tolist()


def test_planted_influencers_and_communities_are_recovered(social_data):
    g = SocialGraph.from_edges(social_data.edges, users=social_data.user_truth.index)
    f = social_features(g, random_state=0)
    truth = social_data.user_truth.reindex(f.index)
    k = int(truth["is_influencer"].sum())
    top = f["social_pagerank"].nlargest(k).index
    assert truth.loc[top, "is_influencer"].mean() >= 0.9
    assert adjusted_rand_score(truth["community"], f["social_community"]) >= 0.8
    assert (f["social_core"] >= 1).mean() > 0.9
    # refit with the same seed gives the same communities
    again = social_features(g, random_state=0, reach=False, core=False)
    assert (again["social_community"] == f["social_community"]).all()


def test_harder_graph_still_recovers_the_planted_truth():
    from persona_rec.sample_data.social import synthetic_social

    d = synthetic_social(3000, 200, 20_000, n_communities=12, avg_follows=8, community_mixing=0.25,
                         influencer_fame=15, random_state=5)
    f = social_features(SocialGraph.from_edges(d.edges, users=d.user_truth.index), reach=False)
    truth = d.user_truth.reindex(f.index)
    top = f["social_pagerank"].nlargest(int(truth["is_influencer"].sum())).index
    assert truth.loc[top, "is_influencer"].mean() >= 0.9
    assert adjusted_rand_score(truth["community"], f["social_community"]) >= 0.8


def test_social_tags_plug_into_the_taxonomy(social_data):
    g = SocialGraph.from_edges(social_data.edges, users=social_data.user_truth.index)
    f = social_features(g)
    tags = social_taxonomy_tags(f, influencer_share=0.01, min_community_size=50)
    ids = [t.id for t in tags]
    assert {"social", "social/influencer", "social/connector", "social/community/0"} <= set(ids)
    ut = Tagger(Taxonomy(tags)).assign(f)
    infl = set(ut.users_with("social/influencer"))
    planted = set(social_data.user_truth.index[social_data.user_truth["is_influencer"]])
    assert len(infl) == 20 and len(infl & planted) >= 18
    assert len(ut.users_with("social/community/0")) == (f["social_community"] == 0).sum()
    connectors = ut.users_with("social/connector")
    assert len(connectors) > 0
    assert (f.loc[connectors, "social_community_span"] >= 2).all()
