"""The social/feedback section of ``persona-rec demo`` (on planted synthetic data)."""

from __future__ import annotations

import importlib.util

import numpy as np
from sklearn.metrics import roc_auc_score

from ..feedback import SentimentModel, feedback_features, feedback_taxonomy_tags
from ..sample_data import synthetic_social
from ..social import SocialGraph, select_seeds, social_features, social_taxonomy_tags
from ..tags import Tagger, Taxonomy
from ._context import format_table

__all__ = ["social_section"]


def social_section(random_state: int = 0) -> str:
    """Influencers, seeds, sentiment and detractors on a small planted social shop.

    Returns
    -------
    str
        The section's text.
    """
    d = synthetic_social(600, 120, 8000, n_communities=4, n_influencers=6, random_state=random_state)
    graph = SocialGraph.from_edges(d.edges, users=d.user_truth.index)
    has_igraph = importlib.util.find_spec("igraph") is not None
    feats = social_features(graph, communities=has_igraph, core=has_igraph, random_state=random_state)
    top = feats.nlargest(6, "social_pagerank")
    planted = d.user_truth["is_influencer"].reindex(top.index)
    lines = [f"Synthetic social shop: {graph.n_users} users, {graph.n_edges} influence links, "
             f"{len(d.reviews)} reviews (planted influencers, communities and sentiment)."]
    cols = ["social_followers", "social_pagerank", "social_reach_2hop"] + (
        ["social_community"] if has_igraph else [])
    lines += ["", "Top users by weighted PageRank (all planted influencers: "
              f"{bool(planted.all())}):", format_table(top[cols].reset_index(), floatfmt="{:.4f}")]
    seeds = select_seeds(graph, 3, n_sets=5000, random_state=random_state)
    lines += ["", "Three seed users maximising expected reach (independent cascade, RIS):",
              format_table(seeds, floatfmt="{:.1f}")]
    half = d.start + (d.end - d.start) * 0.6
    train, test = d.reviews[d.reviews["timestamp"] < half], d.reviews[d.reviews["timestamp"] >= half]
    model = SentimentModel().fit(train)
    auc = roc_auc_score(test["positive"], model.predict_proba(test["text"]))
    fb = feedback_features(d.reviews)
    ut = Tagger(Taxonomy(social_taxonomy_tags(feats) + feedback_taxonomy_tags())).assign(
        feats.join(fb.reindex(feats.index)))
    det = ut.users_with("feedback/detractor")
    share = float(np.mean(d.user_truth.loc[det, "satisfaction"] == "detractor")) if len(det) else float("nan")
    lines += ["", f"Review sentiment model (TF-IDF + logistic regression, trained on stars): "
              f"AUC {auc:.3f} on later reviews.",
              f"feedback/detractor: {len(det)} users ({share:.0%} planted detractors); "
              "Playbook.default(feedback=True) sends them service recovery, not a discount."]
    return "\n".join(lines)
