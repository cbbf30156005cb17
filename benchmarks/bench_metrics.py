"""Speed and correctness of the ranking metrics at scale, side by side with RecTools.

Input: 100,000 users x top-100 recommendations over a 20,000-item catalog, 20
relevant items per user (10 of them placed at random positions of the user's
list, 10 outside it). Timed: Precision, Recall, NDCG, MAP, MRR and HitRate @10
computed together with ``calc_metrics`` (one validation + hit search shared)
and one by one with ``Metric.calc``.

Correctness: the values are compared with an independent brute-force loop on a
2,000-user subsample, and -- when ``rectools`` is importable -- with RecTools'
metrics on the full input (max absolute difference printed). RecTools is a
benchmark-only dependency; it needs pandas < 3, so run this script a second
time from a separate virtualenv that has it, e.g.::

    /tmp/venv/bin/python benchmarks/bench_metrics.py            # timings
    /tmp/venv_rectools/bin/python benchmarks/bench_metrics.py   # + RecTools

Options: ``--users N`` (default 100000), ``--repeat R`` (default 3).
"""

from __future__ import annotations

import argparse
import math
import platform
import time

import numpy as np
import pandas as pd

from persona_rec.evaluation import MAP, MRR, NDCG, HitRate, Precision, Recall, calc_metrics


def make_input(n_users: int, n_items: int = 20_000, list_len: int = 100, n_rel: int = 20,
               seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Distinct items per list via an arithmetic progression modulo the catalog size."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, n_items, n_users)
    steps = np.array([s for s in range(1, 400, 2) if s % 5 != 0])  # coprime with 20,000
    step = rng.choice(steps, n_users)
    offsets = np.arange(list_len + n_rel // 2)
    seq = (base[:, None] + step[:, None] * offsets) % n_items  # all distinct per row
    lists = seq[:, :list_len]
    user = np.repeat(np.arange(n_users), list_len)
    reco = pd.DataFrame({
        "user_id": user,
        "item_id": lists.ravel(),
        "score": np.tile(np.linspace(1.0, 0.01, list_len), n_users),
        "rank": np.tile(np.arange(1, list_len + 1), n_users),
    })
    in_list = np.argsort(rng.random((n_users, list_len)), axis=1)[:, : n_rel // 2]
    rel_in = np.take_along_axis(lists, in_list, axis=1)
    rel_out = seq[:, list_len:]
    test = pd.DataFrame({
        "user_id": np.repeat(np.arange(n_users), n_rel),
        "item_id": np.concatenate([rel_in, rel_out], axis=1).ravel(),
    })
    return reco.sample(frac=1.0, random_state=seed).reset_index(drop=True), test


def brute_force(reco: pd.DataFrame, test: pd.DataFrame, k: int) -> dict[str, float]:
    rel = test.groupby("user_id")["item_id"].apply(set).to_dict()
    lists = {u: g.sort_values("rank")["item_id"].tolist()[:k] for u, g in reco.groupby("user_id")}
    acc = {m: [] for m in ("Precision", "Recall", "NDCG", "MAP", "MRR", "HitRate")}
    for u, r in rel.items():
        gains = [1.0 if i in r else 0.0 for i in lists.get(u, [])]
        hits = 0
        ap = 0.0
        for pos, g in enumerate(gains):
            if g:
                hits += 1
                ap += hits / (pos + 1)
        acc["Precision"].append(hits / k)
        acc["Recall"].append(hits / len(r))
        dcg = sum(g / math.log2(p + 2) for p, g in enumerate(gains))
        acc["NDCG"].append(dcg / sum(1 / math.log2(p + 2) for p in range(min(k, len(r)))))
        acc["MAP"].append(ap / len(r))
        first = next((p for p, g in enumerate(gains) if g), None)
        acc["MRR"].append(0.0 if first is None else 1 / (first + 1))
        acc["HitRate"].append(float(hits > 0))
    return {f"{m}@{k}": float(np.mean(v)) for m, v in acc.items()}


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    k = 10
    reco, test = make_input(args.users)
    print(f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}")
    print(f"input: {args.users:,} users x top-100 = {len(reco):,} reco rows; "
          f"{len(test):,} relevant rows (20 per user)")
    metrics = [Precision(k), Recall(k), NDCG(k), MAP(k), MRR(k), HitRate(k)]

    t_all, ours = timed(lambda: calc_metrics(metrics, reco, test), args.repeat)
    t_each, _ = timed(lambda: [m.calc(reco, test) for m in metrics], args.repeat)
    print(f"\npersona_rec calc_metrics (6 metrics @10, shared prep): {t_all:.3f} s (best of "
          f"{args.repeat})")
    print(f"persona_rec 6 x Metric.calc (separately):            {t_each:.3f} s")

    sub_users = np.arange(min(2000, args.users))
    sub_reco = reco[reco["user_id"].isin(sub_users)]
    sub_test = test[test["user_id"].isin(sub_users)]
    ref = brute_force(sub_reco, sub_test, k)
    ours_sub = calc_metrics(metrics, sub_reco, sub_test)
    diff_bf = max(abs(ours_sub[key] - ref[key]) for key in ref)
    print(f"max |persona_rec - brute force| on {len(sub_users):,} users: {diff_bf:.2e}")

    rows = [{"metric": lab, "persona_rec": val} for lab, val in ours.items()]
    table = pd.DataFrame(rows).set_index("metric")
    try:
        import rectools
        from rectools import metrics as rm
    except ImportError:
        print("\nrectools is not importable here: RecTools comparison skipped "
              "(run with an interpreter that has rectools).")
        print(table.to_string(float_format=lambda v: f"{v:.6f}"))
        return
    rt_metrics = {
        "Precision@10": rm.Precision(k=k),
        "Recall@10": rm.Recall(k=k),
        "NDCG@10": rm.NDCG(k=k, divide_by_achievable=True),
        "MAP@10": rm.MAP(k=k),
        "MRR@10": rm.MRR(k=k),
        "HitRate@10": rm.HitRate(k=k),
    }
    rt_reco = reco[["user_id", "item_id", "rank"]].rename(
        columns={"user_id": rectools.Columns.User, "item_id": rectools.Columns.Item,
                 "rank": rectools.Columns.Rank})
    rt_test = test.rename(columns={"user_id": rectools.Columns.User,
                                   "item_id": rectools.Columns.Item})
    t_rt, theirs = timed(lambda: rm.calc_metrics(rt_metrics, rt_reco, rt_test), args.repeat)
    table["rectools"] = pd.Series(theirs)
    table["abs_diff"] = (table["persona_rec"] - table["rectools"]).abs()
    print(f"\nRecTools {rectools.__version__} calc_metrics (same 6 metrics): {t_rt:.3f} s "
          f"(best of {args.repeat})")
    print(f"speed ratio RecTools / persona_rec: {t_rt / t_all:.2f}x")
    print(f"max |persona_rec - RecTools|: {table['abs_diff'].max():.2e}")
    # R-precision: RecTools Precision(r_precision=True) == our Recall(normalize="min")
    ours_min = Recall(k, normalize="min").calc(reco, test)
    theirs_min = rm.calc_metrics({"p": rm.Precision(k=k, r_precision=True)}, rt_reco, rt_test)["p"]
    print(f"Recall@10(min) vs RecTools Precision(r_precision=True): |diff| = "
          f"{abs(ours_min - theirs_min):.2e}")
    print(table.to_string(float_format=lambda v: f"{v:.6g}"))


if __name__ == "__main__":
    main()
