"""Raw peer recommenders and the shared table runner of the recommender benchmarks.

The peers call the libraries directly (``implicit``, ``lightfm``, plain
numpy), not persona_rec's wrappers, so the benchmark tables compare
persona_rec with what a practitioner would write by hand. Every peer has the
two methods :func:`persona_rec.evaluation.evaluate` needs::

    peer.fit(train_dataset) -> peer
    peer.recommend(user_ids, k=10, filter_seen=True) -> DataFrame[user_id, item_id, score, rank]

They fit on ``dataset.get_user_item_matrix(binary=True)`` (or the
interactions), rank over every item of the Dataset's id map, drop the user's
train items when ``filter_seen`` and map indices back to external ids with
the Dataset's id maps. Everything is seeded (``random_state=0``) and runs on
one thread.

This module is not part of the library or of the test run.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable, Mapping  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from persona_rec import Columns, Dataset  # noqa: E402
from persona_rec.evaluation import (  # noqa: E402
    MAP,
    NDCG,
    CatalogCoverage,
    HitRate,
    Recall,
    Split,
    evaluate,
)

# implicit's BM25Recommender converts its own weighted matrix to CSR and warns about it
warnings.filterwarnings("ignore", message="Method expects CSR input")

DATA = Path(os.environ.get("PERSONA_REC_DATA", "/work/shared/datasets"))
K = 10
METRICS = [NDCG(K), Recall(K), MAP(K), HitRate(K), CatalogCoverage(K)]
SEED = 0


# ------------------------------------------------------------------ helpers
def top_k_frame(dataset: Dataset, uidx: np.ndarray, scores: np.ndarray, k: int) -> pd.DataFrame:
    """Top-``k`` items per row of a dense score matrix as a reco frame (external ids).

    ``-inf`` marks items that may not be recommended. Ties are broken by the
    lower internal item index, so the output is deterministic.
    """
    n_rows, n_items = scores.shape
    if n_rows == 0:
        return pd.DataFrame({Columns.USER: [], Columns.ITEM: [], Columns.SCORE: [],
                             Columns.RANK: []})
    kk = min(k, n_items)
    part = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
    part.sort(axis=1)  # lower index first, so the stable sort below breaks ties by index
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    items = np.take_along_axis(part, order, axis=1)
    vals = np.take_along_axis(vals, order, axis=1)
    ranks = np.broadcast_to(np.arange(1, kk + 1), (n_rows, kk))
    keep = np.isfinite(vals)
    rows = np.broadcast_to(uidx[:, None], (n_rows, kk))
    return pd.DataFrame({
        Columns.USER: dataset.user_map.to_external(rows[keep]),
        Columns.ITEM: dataset.item_map.to_external(items[keep]),
        Columns.SCORE: vals[keep].astype(np.float64),
        Columns.RANK: ranks[keep].astype(np.int64),
    })


def age_bucket(age: pd.Series) -> pd.Series:
    """MovieLens age buckets (the ML-1M convention): <18, 18-24, 25-34, 35-44, 45-49, 50-55, 56+."""
    bins = [0, 18, 25, 35, 45, 50, 56, 200]
    labels = ["<18", "18-24", "25-34", "35-44", "45-49", "50-55", "56+"]
    return pd.cut(age.astype(float), bins=bins, labels=labels, right=False).astype(str)


def gender_age_segments(dataset: Dataset) -> pd.Series:
    """``user_id -> "gender | age bucket"`` for every user with attributes."""
    users = dataset.users.set_index(Columns.USER)
    return (users["gender"].astype(str) + " | " + age_bucket(users["age"])).rename("segment")


class Peer:
    """Base of the raw peers: fit on the binary train matrix, rank densely, filter seen."""

    #: Short description of the settings, printed in the table.
    setting: str = ""

    def fit(self, dataset: Dataset) -> Peer:
        self.dataset_ = dataset
        self.X_ = dataset.get_user_item_matrix(binary=True).tocsr()
        self._fit(dataset, self.X_)
        return self

    def _fit(self, dataset: Dataset, X: sp.csr_matrix) -> None:
        raise NotImplementedError

    def _scores(self, uidx: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def recommend(self, user_ids: Any, k: int = 10, filter_seen: bool = True) -> pd.DataFrame:
        uidx = self.dataset_.user_map.to_internal(np.asarray(user_ids), what="user_id")
        frames = []
        for start in range(0, len(uidx), 2048):
            u = uidx[start:start + 2048]
            s = np.array(self._scores(u), dtype=np.float64, copy=True)
            if filter_seen:
                seen = self.X_[u].tocoo()
                s[seen.row, seen.col] = -np.inf
            frames.append(top_k_frame(self.dataset_, u, s, k))
        return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------- peers
class PopularityPeer(Peer):
    """Items by number of distinct train users (optionally in the last ``window_days``)."""

    def __init__(self, window_days: float | None = None) -> None:
        self.window_days = window_days
        self.setting = "distinct users" + (f", last {window_days:g} days" if window_days else "")

    def _fit(self, dataset: Dataset, X: sp.csr_matrix) -> None:
        inter = dataset.internal_interactions
        if self.window_days is not None:
            ts = inter[Columns.TIMESTAMP]
            inter = inter.loc[ts >= ts.max() - pd.Timedelta(days=self.window_days)]
        pairs = inter[["user_idx", "item_idx"]].drop_duplicates()
        self.pop_ = np.bincount(pairs["item_idx"].to_numpy(), minlength=dataset.n_items)

    def _scores(self, uidx: np.ndarray) -> np.ndarray:
        v = self.pop_.astype(np.float64)
        v[v == 0] = -np.inf
        return np.broadcast_to(v, (len(uidx), v.size))


class SegmentPopularityPeer(Peer):
    """Popularity among train users of the same segment; ties (and users without a
    segment) by global popularity."""

    def __init__(self, segments: Callable[[Dataset], pd.Series], setting: str) -> None:
        self.segments = segments
        self.setting = setting

    def _fit(self, dataset: Dataset, X: sp.csr_matrix) -> None:
        seg = self.segments(dataset)
        seg_of_user = seg.reindex(dataset.user_map.external_ids).to_numpy(dtype=object)
        codes, labels = pd.factorize(pd.Series(seg_of_user), use_na_sentinel=True)
        self.user_seg_ = codes
        members = sp.csr_matrix(
            (np.ones(int((codes >= 0).sum())), (codes[codes >= 0], np.flatnonzero(codes >= 0))),
            shape=(len(labels), dataset.n_users))
        self.seg_pop_ = np.asarray((members @ X).todense(), dtype=np.float64)
        glob = np.asarray(X.sum(axis=0)).ravel().astype(np.float64)
        self.glob_ = glob
        self.tie_ = glob / (glob.max() + 1.0)  # < 1: only breaks ties

    def _scores(self, uidx: np.ndarray) -> np.ndarray:
        seg = self.user_seg_[uidx]
        s = np.where(seg[:, None] >= 0, self.seg_pop_[np.maximum(seg, 0)], self.glob_[None, :])
        s = s + self.tie_[None, :]
        s[:, self.glob_ == 0] = -np.inf
        return s


class EASEPeer(Peer):
    """EASE (Steck 2019) in plain numpy: ``B = I - P diagMat(1 / diag(P))``, ``P = (X'X + l I)^-1``."""

    def __init__(self, regularization: float = 200.0) -> None:
        self.regularization = regularization
        self.setting = f"lambda={regularization:g}, binary"

    def _fit(self, dataset: Dataset, X: sp.csr_matrix) -> None:
        G = (X.T @ X).toarray().astype(np.float64)
        G[np.diag_indices_from(G)] += self.regularization
        P = np.linalg.inv(G)
        B = P / (-np.diag(P))
        B[np.diag_indices_from(B)] = 0.0
        self.B_ = B

    def _scores(self, uidx: np.ndarray) -> np.ndarray:
        return np.asarray(self.X_[uidx] @ self.B_)


class ImplicitPeer(Peer):
    """implicit ALS / BPR / BM25 item-kNN, fitted and queried through implicit's own API."""

    def __init__(self, kind: str, **params: Any) -> None:
        self.kind = kind
        self.params = params
        self.setting = ", ".join(f"{k}={v}" for k, v in params.items())

    def _fit(self, dataset: Dataset, X: sp.csr_matrix) -> None:
        if self.kind == "als":
            from implicit.cpu.als import AlternatingLeastSquares

            self.model_ = AlternatingLeastSquares(random_state=SEED, num_threads=1,
                                                  **self.params)
        elif self.kind == "bpr":
            from implicit.cpu.bpr import BayesianPersonalizedRanking

            self.model_ = BayesianPersonalizedRanking(random_state=SEED, num_threads=1,
                                                      **self.params)
        elif self.kind == "bm25":
            from implicit.nearest_neighbours import BM25Recommender

            self.model_ = BM25Recommender(num_threads=1, **self.params)
        else:
            raise ValueError(f"unknown implicit model kind {self.kind!r}")
        self.model_.fit(X.astype(np.float32), show_progress=False)

    def recommend(self, user_ids: Any, k: int = 10, filter_seen: bool = True) -> pd.DataFrame:
        uidx = self.dataset_.user_map.to_internal(np.asarray(user_ids), what="user_id")
        ids, scores = self.model_.recommend(uidx, self.X_[uidx], N=k,
                                            filter_already_liked_items=filter_seen)
        ids = np.asarray(ids)
        scores = np.asarray(scores, dtype=np.float64)
        keep = (ids >= 0) & np.isfinite(scores)
        rows = np.broadcast_to(uidx[:, None], ids.shape)
        ranks = np.broadcast_to(np.arange(1, ids.shape[1] + 1), ids.shape)
        return pd.DataFrame({
            Columns.USER: self.dataset_.user_map.to_external(rows[keep]),
            Columns.ITEM: self.dataset_.item_map.to_external(ids[keep]),
            Columns.SCORE: scores[keep],
            Columns.RANK: ranks[keep].astype(np.int64),
        })


class LightFMPeer(Peer):
    """lightfm ``LightFM(loss="warp")``, optionally with user features.

    ``user_features`` maps a Dataset to a DataFrame ``user_id -> categorical
    columns``; each column is one-hot encoded next to a per-user identity
    column, and each row is normalised to sum 1 (lightfm's advice). Users
    without train interactions get no identity column (their identity
    embedding was never trained), so they are scored from their features only.
    """

    def __init__(self, no_components: int = 64, epochs: int = 30, learning_rate: float = 0.05,
                 user_features: Callable[[Dataset], pd.DataFrame] | None = None,
                 feature_note: str = "") -> None:
        self.no_components = no_components
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.user_features = user_features
        self.setting = (f"{no_components} comp., {epochs} epochs, lr {learning_rate:g}"
                        + (f", user features: {feature_note}" if user_features else ""))

    def _user_feature_matrix(self, dataset: Dataset, X: sp.csr_matrix) -> sp.csr_matrix | None:
        if self.user_features is None:
            return None
        n = dataset.n_users
        hot = np.diff(X.indptr) > 0
        frame = self.user_features(dataset).reindex(dataset.user_map.external_ids)
        blocks = [sp.csr_matrix((np.ones(int(hot.sum())), (np.flatnonzero(hot),
                                                          np.flatnonzero(hot))), shape=(n, n))]
        for col in frame.columns:
            codes, labels = pd.factorize(frame[col].astype(object), use_na_sentinel=True)
            ok = codes >= 0
            blocks.append(sp.csr_matrix((np.ones(int(ok.sum())), (np.flatnonzero(ok), codes[ok])),
                                        shape=(n, len(labels))))
        F = sp.hstack(blocks).tocsr().astype(np.float32)
        rs = np.asarray(F.sum(axis=1)).ravel()
        rs[rs == 0] = 1.0
        return (sp.diags(1.0 / rs) @ F).tocsr().astype(np.float32)

    def _fit(self, dataset: Dataset, X: sp.csr_matrix) -> None:
        from lightfm import LightFM

        self.F_ = self._user_feature_matrix(dataset, X)
        self.model_ = LightFM(no_components=self.no_components, loss="warp",
                              learning_rate=self.learning_rate, random_state=SEED)
        self.model_.fit(X.tocoo(), user_features=self.F_, epochs=self.epochs, num_threads=1)
        ub, ue = self.model_.get_user_representations(self.F_)
        ib, ie = self.model_.get_item_representations()
        self.user_emb_, self.item_emb_, self.item_bias_ = ue, ie, ib

    def _scores(self, uidx: np.ndarray) -> np.ndarray:
        return self.user_emb_[uidx] @ self.item_emb_.T + self.item_bias_[None, :]


class BuyAgainPeer(Peer):
    """A user's past items by number of distinct orders, ties by global popularity.

    ``fill=True`` appends globally popular items after the past items (the
    plain buy-again list is often shorter than ``k``).
    """

    def __init__(self, fill: bool = False) -> None:
        self.fill = fill
        self.setting = "orders per item, ties by popularity" + (", popular fill" if fill else "")

    def _fit(self, dataset: Dataset, X: sp.csr_matrix) -> None:
        inter = dataset.internal_interactions
        key = "order_id" if "order_id" in inter.columns else Columns.TIMESTAMP
        n = inter.groupby(["user_idx", "item_idx"], observed=True)[key].nunique()
        u = n.index.get_level_values(0).to_numpy()
        i = n.index.get_level_values(1).to_numpy()
        self.orders_ = sp.csr_matrix((n.to_numpy(np.float64), (u, i)),
                                     shape=(dataset.n_users, dataset.n_items))
        glob = np.asarray(X.sum(axis=0)).ravel().astype(np.float64)
        self.glob_ = glob
        self.tie_ = glob / (glob.max() + 1.0)

    def _scores(self, uidx: np.ndarray) -> np.ndarray:
        orders = self.orders_[uidx].toarray()
        s = np.where(orders > 0, orders + self.tie_[None, :],
                     self.tie_[None, :] - 1.0 if self.fill else -np.inf)
        s[:, self.glob_ == 0] = -np.inf
        return s


# ---------------------------------------------------------------- runner
def run_table(models: Mapping[str, tuple[str, str, Any]], split: Split, *,
              filter_seen: bool | None = None,
              recommend_kwargs: Mapping[str, Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """Evaluate ``{row name: (kind, setting, model)}`` on one split.

    ``kind`` is ``"persona_rec"`` or ``"raw peer"``; ``recommend_kwargs`` maps
    a row name to extra ``recommend`` arguments (e.g. ``on_unknown``).
    """
    rows = []
    for name, (kind, setting, model) in models.items():
        t0 = time.perf_counter()
        kw = dict((recommend_kwargs or {}).get(name, {}))
        res = evaluate(model, split, METRICS, filter_seen=filter_seen, recommend_kwargs=kw)
        val = res[res["group"] == "all"].set_index("metric")["value"]
        row = {"model": name, "kind": kind, "setting": setting or getattr(model, "setting", "")}
        row.update({m.label: float(val[m.label]) for m in METRICS})
        row["fit_s"] = res.attrs["fit_time_s"]
        row["recommend_s"] = res.attrs["recommend_time_s"]
        row["users_without_reco"] = res.attrs["n_users_without_reco"]
        rows.append(row)
        print(f"  {name:<34s} NDCG@10={row['NDCG@10']:.4f} "
              f"({time.perf_counter() - t0:.1f}s)", flush=True)
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    """A GitHub markdown table (4 decimals for metrics, 2 for seconds)."""
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |",
             "|" + "|".join("---:" if pd.api.types.is_numeric_dtype(table[c]) else "---"
                        for c in cols) + "|"]
    for _, r in table.iterrows():
        cells = []
        for c in cols:
            v = r[c]
            if isinstance(v, (float, np.floating)):
                cells.append(f"{v:.2f}" if c.endswith("_s") else f"{v:.4f}")
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def split_info_text(split: Split) -> str:
    """The split's info dict, one ``key: value`` per line."""
    return "\n".join(f"- {k}: {v}" for k, v in split.info.items())


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=None,
                        help="also write the markdown tables and split info to this file")
    return parser.parse_args()


def emit(sections: list[str], out: Path | None) -> None:
    """Print the report; write it to ``out`` too when given."""
    text = "\n\n".join(sections) + "\n"
    print("\n" + text)
    if out is not None:
        out.write_text(text)
        print(f"written to {out}")
