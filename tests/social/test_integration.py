"""Social and feedback columns and tags next to the default taxonomy, feeding the playbook."""

from __future__ import annotations

import pandas as pd
import pytest

from persona_rec.exceptions import InvalidValueError
from persona_rec.feedback import feedback_features, feedback_taxonomy_tags
from persona_rec.marketing import Playbook
from persona_rec.profiles import ProfileBuilder
from persona_rec.social import (
    SocialGraph,
    join_profile_columns,
    select_seeds,
    social_features,
    social_taxonomy_tags,
)
from persona_rec.tags import Tagger, Taxonomy

pytest.importorskip("igraph")


def test_default_social_and_feedback_tags_in_one_taxonomy(social_data):
    d = social_data
    profiles = ProfileBuilder.default().build(d.dataset)
    social = social_features(SocialGraph.from_edges(d.edges, users=d.user_truth.index))
    feedback = feedback_features(d.reviews)
    joined = join_profile_columns(profiles, social, feedback)
    assert joined.frame.shape[0] == profiles.frame.shape[0]
    assert "social_pagerank" not in profiles.frame.columns  # input untouched
    base = Taxonomy.default(profiles)
    tax = Taxonomy(list(base) + social_taxonomy_tags(social, min_community_size=50)
                   + feedback_taxonomy_tags(), version="default+social+feedback")
    ut = Tagger(tax).assign(joined)
    assert len(ut.users_with("social/influencer")) == 20
    assert len(ut.users_with("feedback/detractor")) > 10
    plan = Playbook.default(feedback=True).assign(ut)
    det = set(ut.users_with("feedback/detractor"))
    assert set(plan.loc[plan["tactic"] == "service_recovery", "user_id"]) == det
    # seeds among promoters of community 0 only
    seeds = select_seeds(SocialGraph.from_edges(d.edges, users=d.user_truth.index), 3, user_tags=ut,
                         expression="social/community/0 & !feedback/detractor", n_sets=3000)
    allowed = set(ut.users_with("social/community/0 & !feedback/detractor"))
    assert set(seeds["user_id"]) <= allowed
    with pytest.raises(InvalidValueError, match="already hold"):
        join_profile_columns(joined, social)
    with pytest.raises(InvalidValueError, match="repeats user id"):
        join_profile_columns(profiles, pd.concat([social.iloc[:2], social.iloc[:1]]))
