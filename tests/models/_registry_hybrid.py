"""Hybrid models in the shared contract tests (see tests/models/_registry.py for the format)."""

from __future__ import annotations

from persona_rec.models.als_features import ALSFeaturesRecommender
from persona_rec.models.association import CoPurchaseRecommender
from persona_rec.models.content import ContentRecommender
from persona_rec.models.lightfm import LightFMRecommender
from persona_rec.models.knn import ItemKNNRecommender
from persona_rec.models.persona import PersonaRecommender
from persona_rec.models.popular import PopularRecommender
from persona_rec.models.ranking import CandidateGenerator, CandidateRankingModel, LGBMReranker
from persona_rec.models.repurchase import BuyAgainRecommender, RepurchaseRecommender

MODELS = [
    ("content", lambda: ContentRecommender()),
    ("content_profiles", lambda: ContentRecommender(half_life_days=None), {"profiles": True}),
    ("lightfm", lambda: LightFMRecommender(no_components=8, epochs=5, random_state=3)),
    (
        "lightfm_profiles",
        lambda: LightFMRecommender(no_components=8, epochs=5, user_features=["profile"],
                                   random_state=3),
        {"profiles": True},
    ),
    (
        "lightfm_no_features",
        lambda: LightFMRecommender(no_components=8, epochs=5, user_features="none",
                                   item_features=False),
    ),
    ("als_features", lambda: ALSFeaturesRecommender(factors=8, iterations=5, random_state=3)),
    (
        "als_features_profiles",
        lambda: ALSFeaturesRecommender(factors=8, iterations=5, random_state=3),
        {"profiles": True},
    ),
    ("copurchase_user_baskets", lambda: CoPurchaseRecommender(min_count=1, basket="user",
                                                                   use_purchases=False)),
    ("repurchase", lambda: RepurchaseRecommender(min_positives=5)),
    ("buy_again", lambda: BuyAgainRecommender(fill="popular")),
    ("buy_again_recency", lambda: BuyAgainRecommender(tie_break="recency", fill="popular")),
    ("persona", lambda: PersonaRecommender(random_state=0, n_candidates=30,
                                           tune_generators=False)),
    ("two_stage", lambda: CandidateRankingModel(
        [CandidateGenerator(ItemKNNRecommender(), 20), CandidateGenerator(PopularRecommender(), 20)],
        reranker=LGBMReranker(n_estimators=20))),
]
