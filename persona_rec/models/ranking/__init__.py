"""Two-stage recommendation: candidate generators, named feature sets, a reranker, a guard.

In the spirit of RecTools' ``CandidateRankingModel``: any fitted
:class:`~persona_rec.models.Recommender` can propose candidates
(:class:`CandidateGenerator`); named, separately tested feature sets
(:mod:`~persona_rec.models.ranking.features`) describe each (user, item)
candidate from point-in-time statistics, profiles and tags; a reranker
(LightGBM lambdarank by default) orders them; and a guard serves the
reranker only when it beats every generator alone on an internal split chosen
from the data (:mod:`~persona_rec.models.ranking.validation`).
:class:`~persona_rec.models.persona.PersonaRecommender` is the
zero-configuration preset.
"""

from __future__ import annotations

from .features import (
    FEATURE_SETS,
    FeatureContext,
    FeatureSet,
    HistoryFeatures,
    ItemFeatures,
    ProfileFeatures,
    ProfileFitFeatures,
    TagFeatures,
    UserFeatures,
    make_feature_sets,
)
from .generators import CandidateGenerator
from .pipeline import DEFAULT_FEATURE_SETS, RERANK, CandidateRankingModel
from .reranker import LGBMReranker, Reranker, SklearnReranker
from .validation import InternalSplit, data_kind, internal_split

__all__ = [
    "CandidateGenerator",
    "CandidateRankingModel",
    "DEFAULT_FEATURE_SETS",
    "RERANK",
    "FEATURE_SETS",
    "FeatureContext",
    "FeatureSet",
    "HistoryFeatures",
    "ItemFeatures",
    "ProfileFeatures",
    "ProfileFitFeatures",
    "TagFeatures",
    "UserFeatures",
    "make_feature_sets",
    "LGBMReranker",
    "Reranker",
    "SklearnReranker",
    "InternalSplit",
    "data_kind",
    "internal_split",
]
