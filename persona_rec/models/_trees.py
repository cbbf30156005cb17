"""A gradient-boosted tree ensemble stored as plain arrays.

scikit-learn's ``HistGradientBoostingClassifier`` learns the ranker of
:class:`~persona_rec.models.PersonaRecommender`. Pickling it would make
:meth:`~persona_rec.models.base.Recommender.load` execute code from the file,
so :class:`TreeEnsemble` copies the fitted trees into numeric arrays (saved
with ``allow_pickle=False``) and evaluates them itself, vectorised over
samples and trees at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["TreeEnsemble"]


class TreeEnsemble:
    """Binary-classification tree ensemble held as flat arrays.

    Parameters
    ----------
    feature, threshold, left, right, value : numpy.ndarray
        Per node (all trees concatenated; ``left``/``right`` are global node
        indices): split feature, split threshold (go left when
        ``x <= threshold``), children, leaf value.
    is_leaf, missing_left : numpy.ndarray of bool
        Leaf flag, and the side NaN values go to.
    roots : numpy.ndarray of int
        Global index of each tree's root.
    baseline : float
        Raw score added to the sum of the leaf values.
    max_depth : int
        Depth of the deepest tree (number of descent steps).
    """

    def __init__(self, feature: np.ndarray, threshold: np.ndarray, left: np.ndarray,
                 right: np.ndarray, value: np.ndarray, is_leaf: np.ndarray,
                 missing_left: np.ndarray, roots: np.ndarray, baseline: float,
                 max_depth: int) -> None:
        self.feature = np.asarray(feature, dtype=np.int64)
        self.threshold = np.asarray(threshold, dtype=np.float64)
        self.left = np.asarray(left, dtype=np.int64)
        self.right = np.asarray(right, dtype=np.int64)
        self.value = np.asarray(value, dtype=np.float64)
        self.is_leaf = np.asarray(is_leaf, dtype=bool)
        self.missing_left = np.asarray(missing_left, dtype=bool)
        self.roots = np.asarray(roots, dtype=np.int64)
        self.baseline = float(baseline)
        self.max_depth = int(max_depth)

    @classmethod
    def from_sklearn(cls, model: Any) -> TreeEnsemble:
        """Copy a fitted binary ``HistGradientBoostingClassifier``.

        Parameters
        ----------
        model : sklearn.ensemble.HistGradientBoostingClassifier
            Fitted on numeric features (no categorical features).

        Returns
        -------
        TreeEnsemble
        """
        parts = []
        offset = 0
        roots = []
        depth = 0
        for (predictor,) in model._predictors:
            nodes = predictor.nodes
            roots.append(offset)
            parts.append((nodes, offset))
            depth = max(depth, int(nodes["depth"].max()))
            offset += len(nodes)
        feature = np.concatenate([p["feature_idx"] for p, _ in parts])
        threshold = np.concatenate([p["num_threshold"] for p, _ in parts])
        left = np.concatenate([p["left"].astype(np.int64) + o for p, o in parts])
        right = np.concatenate([p["right"].astype(np.int64) + o for p, o in parts])
        value = np.concatenate([p["value"] for p, _ in parts])
        is_leaf = np.concatenate([p["is_leaf"] for p, _ in parts]).astype(bool)
        missing_left = np.concatenate([p["missing_go_to_left"] for p, _ in parts]).astype(bool)
        baseline = float(np.asarray(model._baseline_prediction).ravel()[0])
        return cls(feature, threshold, left, right, value, is_leaf, missing_left,
                   np.asarray(roots), baseline, depth)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Return the ensemble as a dict of arrays (for npz persistence)."""
        return {
            "feature": self.feature, "threshold": self.threshold, "left": self.left,
            "right": self.right, "value": self.value, "is_leaf": self.is_leaf,
            "missing_left": self.missing_left, "roots": self.roots,
            "baseline": np.array([self.baseline]), "max_depth": np.array([self.max_depth]),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> TreeEnsemble:
        """Inverse of :meth:`to_arrays`."""
        a = dict(arrays)
        return cls(a["feature"], a["threshold"], a["left"], a["right"], a["value"],
                   a["is_leaf"], a["missing_left"], a["roots"],
                   float(np.asarray(a["baseline"]).ravel()[0]),
                   int(np.asarray(a["max_depth"]).ravel()[0]))

    def decision_function(self, x: np.ndarray, batch: int = 8192) -> np.ndarray:
        """Raw scores (log-odds) for the rows of ``x``.

        Parameters
        ----------
        x : numpy.ndarray, shape (n_samples, n_features)
            Features; NaN is allowed (sent to each split's missing side).
        batch : int, default 8192
            Rows evaluated at once (bounds memory to ``batch * n_trees``).

        Returns
        -------
        numpy.ndarray of float64, shape (n_samples,)
        """
        x = np.asarray(x, dtype=np.float64)
        out = np.empty(len(x), dtype=np.float64)
        n_trees = len(self.roots)
        for start in range(0, len(x), batch):
            xb = x[start:start + batch]
            rows = np.arange(len(xb))[:, None]
            node = np.broadcast_to(self.roots, (len(xb), n_trees)).copy()
            for _ in range(self.max_depth):
                leaf = self.is_leaf[node]
                if leaf.all():
                    break
                v = xb[rows, self.feature[node]]
                go_left = np.where(np.isnan(v), self.missing_left[node], v <= self.threshold[node])
                nxt = np.where(go_left, self.left[node], self.right[node])
                node = np.where(leaf, node, nxt)
            out[start:start + len(xb)] = self.baseline + self.value[node].sum(axis=1)
        return out

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Probability of the positive class for the rows of ``x``."""
        return 1.0 / (1.0 + np.exp(-self.decision_function(x)))
