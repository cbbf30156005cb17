"""Benchmark: BG/NBD + Gamma-Gamma predictions on Online Retail versus naive baselines and lifetimes.

Usage::

    PERSONA_REC_DATA=<datasets folder> python benchmarks/bench_predictive.py [--as-of 2011-09-09]

Protocol (one process, deterministic):

1. ``load_online_retail`` (cleaned by its documented rules); profiles at
   ``as_of`` = 2011-09-09 from the purchases strictly before it
   (``RFMBuilder`` + ``PredictiveBuilder(horizon_days=90)``); customers = every
   user with a purchase before ``as_of``.
2. Outcome window ``[as_of, as_of + 90 days)``: actual purchase days (the
   unit BG/NBD predicts: distinct calendar days with a purchase), whether the
   customer bought at all, and the actual spend.
3. Purchase counts: MAE and Spearman of BG/NBD ``expected_purchases`` against
   "same as last period" (purchase days in ``[as_of - 90 days, as_of)``) and
   "historical rate" (``frequency + 1`` purchase days over the customer's
   observed days, scaled to 90 days). Ranking-only baseline: ``rfm_score``.
4. Purchase / churn AUC: "buys in the window" scored by ``expected_purchases``
   and by ``p_alive``; baselines ``rfm_score``, ``-recency_days`` and the last
   period's count. (Churn = no purchase in the window, so churn AUC with
   ``1 - score`` equals the purchase AUC.)
5. Learned propensity (``LearnedPropensity``: logistic regression on the
   profile features + ``PurchaseTimingBuilder``, 3 stacked training snapshots,
   sigmoid calibration), trained on label windows ending at ``as_of``:
   purchase AUC, Brier score, mean probability versus the realised rate, with
   one-change-at-a-time ablations; gradient boosting (LightGBM, strongly
   regularised) on the same stacked features; and, as a diagnostic ceiling
   that is *not* a forecaster, the same logistic regression cross-fitted
   (5 folds) on the evaluation window's own labels: how well these features
   can rank the window at all, with no distribution shift. Per category
   (bags, kitchen, stationery, toys & kids) against ``affinity_propensity``
   (recency-weighted past category orders).
6. CLV decile lift: share of the window's actual spend made by the top 10%
   of customers by each score, divided by 0.1; scores: BG/NBD x Gamma-Gamma
   expected 90-day spend (``expected_purchases * expected_spend``), the
   365-day ``clv`` column, past ``monetary`` and last period's spend.
7. ``lifetimes`` (test/benchmark dependency) on the same summaries (CDNOW
   from its package data, and Online Retail with penalizer 0 and 0.001):
   fitted parameters, log-likelihood, fit time (best of 3) and the largest
   difference of the predictions.

Prints markdown tables; the figures are recorded in ``docs/benchmarks.md``
and ``docs/predictive.md``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import brier_score_loss, roc_auc_score

from _timing import best
from persona_rec.sample_data import load_online_retail
from persona_rec.marketing import LearnedPropensity, affinity_propensity, category_item_mask
from persona_rec.profiles import ProfileBuilder, PurchaseTimingBuilder, RFMBuilder
from persona_rec.profiles.predictive import BGNBD, GammaGamma, PredictiveBuilder, rfm_summary

WINDOW_DAYS = 90
REPEAT = 3


def best_time(fn, repeat: int = REPEAT) -> tuple[float, object]:
    """Best wall-clock time of ``repeat`` runs and the last result."""
    return best(fn, repeat)


def decile_lift(score: pd.Series, value: pd.Series) -> float:
    """Share of ``value`` held by the top 10% by ``score`` (stable ties), over 0.1."""
    order = np.argsort(-score.to_numpy(), kind="stable")
    top = order[: int(np.ceil(0.1 * len(order)))]
    return float(value.to_numpy()[top].sum() / value.sum() / 0.1)


def window_counts(inter: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp,
                  users: pd.Index) -> tuple[pd.Series, pd.Series]:
    """Purchase days and spend per user in ``[start, end)``."""
    w = inter[(inter["timestamp"] >= start) & (inter["timestamp"] < end)]
    days = (w.assign(day=w["timestamp"].dt.floor("D"))
            .drop_duplicates(["user_id", "day"]).groupby("user_id").size())
    spend = (w["quantity"] * w["price"]).groupby(w["user_id"]).sum()
    return (days.reindex(users, fill_value=0).astype(float),
            spend.reindex(users, fill_value=0.0).astype(float))


def _stacked(ds, builder, as_of: pd.Timestamp, n: int = 3, step: int = 30):
    """Stacked (features at as_of - 90 - j*step, label in the next 90 days) rows, j < n."""
    from scipy import sparse

    inter = ds.interactions
    mats, names, labels = [], [], []
    for j in range(n):
        start = as_of - pd.Timedelta(days=WINDOW_DAYS + j * step)
        x, nm = builder.build(ds, start).features()
        seen = ds.user_map.to_internal(inter.loc[inter["timestamp"] < start, "user_id"].unique())
        seen = np.sort(seen)
        w = inter[(inter["timestamp"] >= start)
                  & (inter["timestamp"] < start + pd.Timedelta(days=WINDOW_DAYS))]
        y = np.isin(ds.user_map.external_ids[seen], w["user_id"].unique())
        mats.append((x[seen], nm))
        labels.append(y)
        names += [c for c in nm if c not in names]
    pos = {c: i for i, c in enumerate(names)}

    def align(x, nm):
        src = np.arange(len(nm))
        dst = np.array([pos[c] for c in nm])
        return sparse.csr_matrix(x @ sparse.csr_matrix(
            (np.ones(len(nm)), (src, dst)), shape=(len(nm), len(names))))

    return sparse.vstack([align(x, nm) for x, nm in mats], format="csr"), \
        np.concatenate(labels), names, align


def model_choices(ds, as_of: pd.Timestamp, users: pd.Index, bought: pd.Series, builder) -> None:
    """Gradient boosting vs logistic regression on the stacked features, and the ceiling."""
    import lightgbm as lgb
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    x_tr, y_tr, names, align = _stacked(ds, builder, as_of)
    x_te, nm = builder.build(ds, as_of).features()
    te_rows = ds.user_map.to_internal(users.to_numpy())
    known = [c for c in nm if c in set(names)]
    keep = np.array([c in set(names) for c in nm])
    x_te = align(x_te[te_rows][:, np.flatnonzero(keep)], known)
    print("\n| model on the same stacked features (3 snapshots) | purchase AUC | Brier | fit s |")
    print("|---|---|---|---|")
    models = {
        "logistic regression, C=0.1, no calibration": LogisticRegression(C=0.1, max_iter=3000),
        "LightGBM, 300 trees, 8 leaves, lr 0.03, min_child 50, L2 5": lgb.LGBMClassifier(
            n_estimators=300, learning_rate=0.03, num_leaves=8, min_child_samples=50,
            subsample=0.8, subsample_freq=1, colsample_bytree=0.8, reg_lambda=5.0,
            random_state=0, verbose=-1, n_jobs=1),
    }
    for name, m in models.items():
        t0 = time.perf_counter()
        m.fit(x_tr, y_tr)
        p = m.predict_proba(x_te)[:, 1]
        print(f"| {name} | {roc_auc_score(bought, p):.3f} | {brier_score_loss(bought, p):.3f} | "
              f"{time.perf_counter() - t0:.1f} |")
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    for name, m in models.items():
        p = cross_val_predict(m, x_te, bought.to_numpy(), cv=cv, method="predict_proba")[:, 1]
        print(f"| ceiling (not a forecaster): {name}, 5-fold on the evaluation window's own "
              f"labels | {roc_auc_score(bought, p):.3f} | {brier_score_loss(bought, p):.3f} | |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.environ.get("PERSONA_REC_DATA", ""))
    ap.add_argument("--as-of", default="2011-09-09")
    args = ap.parse_args()
    ds = load_online_retail(Path(args.data) / "online-retail" / "online_retail.csv.gz")
    as_of = pd.Timestamp(args.as_of)
    end = as_of + pd.Timedelta(days=WINDOW_DAYS)

    t0 = time.perf_counter()
    prof = ProfileBuilder([RFMBuilder(), PredictiveBuilder(horizon_days=WINDOW_DAYS)]).build(
        ds, as_of)
    t_build = time.perf_counter() - t0
    f = prof.frame[prof.frame["frequency"].notna()]
    users = f.index
    inter = ds.interactions
    actual, spend = window_counts(inter, as_of, end, users)
    last, last_spend = window_counts(inter, as_of - pd.Timedelta(days=WINDOW_DAYS), as_of, users)
    s = rfm_summary(ds, as_of).reindex(users)
    hist_rate = (s["frequency"] + 1) / np.maximum(s["T"], 1.0) * WINDOW_DAYS
    bought = (actual > 0).astype(int)
    print(f"as_of {as_of.date()}, window {WINDOW_DAYS} days to {end.date()}: {len(users)} "
          f"customers, {bought.mean():.3f} buy again in the window, mean purchase days "
          f"{actual.mean():.3f}; profiles built in {t_build:.2f} s")
    print(prof.column_docs["p_alive"])
    print(prof.column_docs["expected_spend"])

    print("\n| predictor | MAE (purchase days) | Spearman | purchase AUC |")
    print("|---|---|---|---|")
    count_preds = {
        "BG/NBD expected_purchases": f["expected_purchases"],
        "same as last period": last,
        "historical rate": hist_rate,
    }
    for name, pred in count_preds.items():
        mae = float(np.abs(pred - actual).mean())
        rho = spearmanr(pred, actual).statistic
        auc = roc_auc_score(bought, pred)
        print(f"| {name} | {mae:.3f} | {rho:.3f} | {auc:.3f} |")
    rank_preds = {
        "BG/NBD p_alive": f["p_alive"],
        "rfm_score": f["rfm_score"],
        "-recency_days": -f["recency_days"],
    }
    for name, pred in rank_preds.items():
        rho = spearmanr(pred, actual).statistic
        auc = roc_auc_score(bought, pred)
        print(f"| {name} | - | {rho:.3f} | {auc:.3f} |")

    print("\n| learned propensity (time-respecting: label windows end at or before as_of) | "
          "purchase AUC | Brier | mean P | actual rate | training rows | fit+predict s |")
    print("|---|---|---|---|---|---|---|")
    timing = ProfileBuilder.default().builders + [PurchaseTimingBuilder()]
    variants = {
        "LearnedPropensity() defaults": {},
        "  n_snapshots=1": {"n_snapshots": 1},
        "  n_snapshots=5": {"n_snapshots": 5},
        "  timing_features=False": {"timing_features": False},
        "  calibration='isotonic'": {"calibration": "isotonic"},
        "  C=1.0": {"C": 1.0},
        "  + PredictiveBuilder columns": {"builder": ProfileBuilder(
            timing + [PredictiveBuilder(horizon_days=WINDOW_DAYS)])},
        "  C=1, isotonic, 1 snapshot, no timing (0.1 settings, one-classifier calibration)": {
            "C": 1.0, "calibration": "isotonic", "n_snapshots": 1, "timing_features": False},
    }
    for name, kw in variants.items():
        t0 = time.perf_counter()
        lp = LearnedPropensity(WINDOW_DAYS, **kw).fit(ds, as_of)
        prop = lp.predict(ds, as_of).reindex(users)
        secs = time.perf_counter() - t0
        print(f"| {name} | {roc_auc_score(bought, prop):.3f} | "
              f"{brier_score_loss(bought, prop):.3f} | {prop.mean():.3f} | {bought.mean():.3f} | "
              f"{lp.n_train_} | {secs:.1f} |")
    model_choices(ds, as_of, users, bought, ProfileBuilder(timing))

    print("\n| category: buys in the next 90 days | buyers | LearnedPropensity AUC | Brier | "
          "affinity_propensity AUC |")
    print("|---|---|---|---|---|")
    items = ds.item_attributes()
    for cat in ("bags", "kitchen", "stationery", "toys_kids"):
        in_cat = category_item_mask(items["category"], cat)
        cat_items = set(ds.item_map.external_ids[in_cat])
        w = inter[(inter["timestamp"] >= as_of) & (inter["timestamp"] < end)]
        y = users.isin(w.loc[w["item_id"].isin(cat_items), "user_id"].unique()).astype(int)
        lp = LearnedPropensity(WINDOW_DAYS, category=cat).fit(ds, as_of)
        prop = lp.predict(ds, as_of).reindex(users)
        aff = affinity_propensity(ds, cat, as_of=as_of).reindex(users)
        print(f"| {cat} | {int(y.sum())} | {roc_auc_score(y, prop):.3f} | "
              f"{brier_score_loss(y, prop):.3f} | {roc_auc_score(y, aff):.3f} |")

    print("\n| CLV score | top-decile lift of next-90-day spend | Spearman with spend |")
    print("|---|---|---|")
    clv_preds = {
        "BG/NBD x Gamma-Gamma, 90 days": f["expected_purchases"] * f["expected_spend"],
        "clv column (365 days, 10%/yr)": f["clv"],
        "past monetary": f["monetary"],
        "last period spend": last_spend,
    }
    for name, pred in clv_preds.items():
        print(f"| {name} | {decile_lift(pred, spend):.2f} | "
              f"{spearmanr(pred, spend).statistic:.3f} |")

    # ----------------------------------------------------------- lifetimes
    x, tx, T = (s[c].to_numpy() for c in ("frequency", "t_x", "T"))
    mv = s["monetary_value"].to_numpy()
    rep = (x > 0) & (mv > 0)
    try:
        import lifetimes
    except ImportError:
        print("\nlifetimes is not installed: no comparison")
        return
    from lifetimes.datasets import load_cdnow_summary

    print("\n| data | penalizer | library | r | alpha | a | b | log-lik | fit s (best of 3) |"
          " max diff E[X(t)] | max diff P(alive) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    cd = load_cdnow_summary(index_col=[0])
    runs = [("CDNOW (weeks, t=39)", 0.0, 39.0,
             tuple(cd[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))),
            ("Online Retail (days, t=90)", 0.0, 90.0, (x, tx, T)),
            ("Online Retail (days, t=90)", 0.001, 90.0, (x, tx, T))]
    for label, pen, horizon, (cx, ctx, cT) in runs:
        t_ours, bg = best_time(lambda: BGNBD(penalizer=pen).fit(cx, ctx, cT))
        p = bg.params_
        note = " (NBD limit: no drop-out)" if bg.no_dropout_ else ""
        print(f"| {label} | {pen:g} | persona_rec{note} | {p['r']:.4f} | {p['alpha']:.3f} | "
              f"{p['a']:.4g} | {p['b']:.4f} | {bg.log_likelihood_:.2f} | {t_ours:.3f} | | |")
        try:
            t_lt, lt = best_time(lambda: lifetimes.BetaGeoFitter(penalizer_coef=pen).fit(
                cx, ctx, cT))
        except lifetimes.utils.ConvergenceError:
            print(f"| {label} | {pen:g} | lifetimes | ConvergenceError | | | | | | | |")
            continue
        lp = lt.params_
        at_lt = BGNBD()  # lifetimes' optimum, scored with the same likelihood
        at_lt.params_ = {k: float(lp[k]) for k in ("r", "alpha", "a", "b")}
        ll_lt = float(at_lt.log_likelihood(cx, ctx, cT).sum())
        d_e = np.abs(lt.conditional_expected_number_of_purchases_up_to_time(horizon, cx, ctx, cT)
                     - bg.expected_purchases(horizon, cx, ctx, cT)).max()
        d_a = np.abs(lt.conditional_probability_alive(cx, ctx, cT)
                     - bg.p_alive(cx, ctx, cT)).max()
        print(f"| {label} | {pen:g} | lifetimes | {lp['r']:.4f} | {lp['alpha']:.3f} | "
              f"{lp['a']:.4g} | {lp['b']:.4f} | {ll_lt:.2f} | {t_lt:.3f} | {d_e:.1e} | "
              f"{d_a:.1e} |")
    t_gg, gg = best_time(lambda: GammaGamma().fit(x[rep], mv[rep]))
    t_lgg, lgg = best_time(lambda: lifetimes.GammaGammaFitter().fit(x[rep], mv[rep]))
    d_s = np.abs(lgg.conditional_expected_average_profit(x[rep], mv[rep])
                 - gg.expected_spend(x[rep], mv[rep])).max()
    print("\n| Gamma-Gamma, Online Retail | p | q | gamma | fit s (best of 3) | max diff spend |")
    print("|---|---|---|---|---|---|")
    g = gg.params_
    print(f"| persona_rec | {g['p']:.4f} | {g['q']:.4f} | {g['gamma']:.3f} | {t_gg:.3f} | |")
    lg = lgg.params_
    print(f"| lifetimes | {lg['p']:.4f} | {lg['q']:.4f} | {lg['v']:.3f} | {t_lgg:.3f} | "
          f"{d_s:.1e} GBP |")


if __name__ == "__main__":
    main()
