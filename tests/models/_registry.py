"""Model factories run through the shared contract tests (tests/models/test_contract.py).

Adding a model is one line: append ``(case_id, factory)`` or
``(case_id, factory, options)`` to ``MODELS``. ``factory`` takes no argument
and returns an unfitted model, configured small enough to fit the contract
dataset in well under a second. ``options`` (dict, all optional):

* ``"profiles": True`` -- ``fit`` receives ``persona_rec.profiles`` Profiles
  built on the contract dataset.

Other helpers add their models in ``tests/models/_registry_hybrid.py`` with a
``MODELS`` list of the same shape; ``conftest.py`` loads both files by path
(pytest runs with ``--import-mode=importlib``, so they are not importable by
name).
"""

from __future__ import annotations

from persona_rec.models import (
    ALSRecommender,
    BPRRecommender,
    EASERecommender,
    FallbackChain,
    ItemKNNRecommender,
    PopularRecommender,
    SegmentPopularRecommender,
)

MODELS = [
    ("popular", lambda: PopularRecommender()),
    ("popular_recent_weight", lambda: PopularRecommender(window_days=20, by="weight")),
    ("segment_popular", lambda: SegmentPopularRecommender("region", shrinkage=2.0)),
    ("segment_popular_no_global",
     lambda: SegmentPopularRecommender("region", global_fallback=False)),
    ("item_knn_cosine", lambda: ItemKNNRecommender("cosine", k_neighbours=20)),
    ("item_knn_bm25", lambda: ItemKNNRecommender("bm25", k_neighbours=20)),
    ("item_knn_tfidf", lambda: ItemKNNRecommender("tfidf", k_neighbours=20)),
    ("ease", lambda: EASERecommender(regularization=10.0)),
    ("als", lambda: ALSRecommender(factors=8, iterations=5, random_state=3)),
    ("bpr", lambda: BPRRecommender(factors=8, iterations=20, random_state=3)),
    (
        "fallback_chain",
        lambda: FallbackChain(
            [
                EASERecommender(regularization=10.0),
                SegmentPopularRecommender("region"),
                PopularRecommender(),
            ]
        ),
    ),
]
