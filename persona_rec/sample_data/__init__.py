"""Datasets: loaders for real data, the shipped sample and a synthetic generator.

* :func:`load_sample` - a small real Online Retail subset shipped with the package.
* :func:`load_online_retail` - the UCI Online Retail CSV with documented cleaning.
* :func:`load_movielens_100k` - MovieLens 100K (never shipped; bring your own copy).
* :func:`synthetic` / :func:`synthetic_frames` - seeded, realistic e-commerce logs
  with planted ground truth, scalable to 10M+ events.
* :func:`synthetic_social` - the synthetic shop plus a follow graph, content
  catalogue and reviews with planted influencers, communities and sentiment.
"""

from __future__ import annotations

from .movielens import ML100K_GENRES, load_movielens_100k, load_movielens_100k_split
from .online_retail import (
    CATEGORY_KEYWORDS,
    CLEANING_RULES,
    clean_online_retail,
    load_online_retail,
    read_online_retail_raw,
    retail_category,
)
from .sample import load_sample, sample_path
from .synthetic import SyntheticData, synthetic, synthetic_frames
from .social import SocialData, synthetic_social

__all__ = [
    "CATEGORY_KEYWORDS",
    "CLEANING_RULES",
    "ML100K_GENRES",
    "SocialData",
    "SyntheticData",
    "clean_online_retail",
    "load_movielens_100k",
    "load_movielens_100k_split",
    "load_online_retail",
    "load_sample",
    "read_online_retail_raw",
    "retail_category",
    "sample_path",
    "synthetic",
    "synthetic_frames",
    "synthetic_social",
]
