from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from persona_rec.exceptions import InvalidParameterError, InvalidValueError
from persona_rec.social import (
    SocialGraph,
    compare_seeding,
    edge_probabilities,
    select_seeds,
    simulate_spread,
)
from persona_rec.tags import UserTags


def _star_graph():
    # hub "a" reaches 6 users, "x" reaches 3, chain c1 -> c2 -> c3
    src = ["a"] * 6 + ["x"] * 3 + ["c1", "c2"]
    dst = [f"a{i}" for i in range(6)] + [f"x{i}" for i in range(3)] + ["c2", "c3"]
    return SocialGraph.from_edges(pd.DataFrame({"source": src, "target": dst, "kind": "share"}))


def test_deterministic_cascade_counts_exactly():
    g = _star_graph()
    assert simulate_spread(g, ["a"], probability=1.0, n_simulations=5)["mean"] == 7
    assert simulate_spread(g, ["c1", "a"], probability=1.0, n_simulations=5)["mean"] == 10


def test_spread_matches_the_closed_form_of_a_star(rng):
    g = _star_graph()
    r = simulate_spread(g, ["a"], probability=0.3, n_simulations=4000, random_state=1)
    assert r["mean"] == pytest.approx(1 + 6 * 0.3, abs=4 * r["se"])


def test_weighted_cascade_probabilities_sum_to_one_per_user():
    edges = pd.DataFrame({"source": ["a", "b", "c"], "target": ["t", "t", "t"], "kind": "share",
                          "weight": [1.0, 1.0, 2.0]})
    p = edge_probabilities(SocialGraph.from_edges(edges))
    assert np.asarray(p.sum(axis=0)).ravel().max() == pytest.approx(1.0)
    assert sorted(p.data.tolist()) == [0.25, 0.25, 0.5]
    with pytest.raises(InvalidValueError, match="weights <= 1"):
        edge_probabilities(SocialGraph.from_edges(edges), "weight")
    with pytest.raises(InvalidParameterError, match="'probability'"):
        edge_probabilities(SocialGraph.from_edges(edges), "magic")


def test_greedy_picks_complementary_seeds():
    g = _star_graph()
    s = select_seeds(g, 3, probability=1.0, n_sets=4000, random_state=0)
    assert s["user_id"].tolist() == ["a", "x", "c1"]
    assert g.n_users == 14 and s["spread"].iloc[-1] == pytest.approx(14)  # every RR set covered


def test_tag_expression_candidates_and_budget():
    g = _star_graph()
    ut = UserTags(sp.csr_matrix(np.ones((2, 1))), ["x", "c1"], ["vip"])
    s = select_seeds(g, 2, probability=1.0, user_tags=ut, expression="vip", n_sets=3000)
    assert s["user_id"].tolist() == ["x", "c1"]
    costs = pd.Series({"a": 10.0, "x": 1.0, "c1": 1.0})
    b = select_seeds(g, 3, probability=1.0, costs=costs, budget=5, n_sets=3000)
    assert b["user_id"].tolist() == ["x", "c1"] and b["cost"].sum() <= 5
    with pytest.raises(InvalidParameterError, match="both 'costs' and 'budget'"):
        select_seeds(g, 2, budget=3)
    with pytest.raises(InvalidParameterError, match="both 'user_tags' and 'expression'"):
        select_seeds(g, 2, expression="vip")
    with pytest.raises(InvalidValueError, match="costs must be finite and > 0"):
        select_seeds(g, 2, costs=pd.Series({"a": -1.0}), budget=3)
    with pytest.raises(InvalidParameterError, match="no user is eligible"):
        select_seeds(g, 2, candidates=["a"], costs=pd.Series({"x": 1.0}), budget=3)


def test_seeds_are_reproducible(social_data):
    g = SocialGraph.from_edges(social_data.edges, users=social_data.user_truth.index)
    a = select_seeds(g, 5, n_sets=5000, random_state=3)
    b = select_seeds(g, 5, n_sets=5000, random_state=3)
    pd.testing.assert_frame_equal(a, b)


def test_greedy_beats_top_degree_and_random_on_the_planted_graph(social_data):
    g = SocialGraph.from_edges(social_data.edges, users=social_data.user_truth.index)
    table = compare_seeding(g, 10, n_sets=20_000, n_simulations=1000, random_state=0).set_index("strategy")
    greedy, top = table.loc["greedy (RIS)"], table.loc["top followers"]
    assert greedy["spread"] > top["spread"]
    assert greedy["spread"] > 3 * table.loc["random", "spread"]
