"""evaluate / evaluate_per_user / compare / bootstrap_ci / paired_test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec import Dataset
from persona_rec.evaluation import (
    MAP,
    NDCG,
    CatalogCoverage,
    HitRate,
    IntraListDiversity,
    Novelty,
    PopularityBias,
    Recall,
    bootstrap_ci,
    calc_metrics,
    cold_user_split,
    compare,
    evaluate,
    evaluate_per_user,
    paired_test,
    random_split,
)
from persona_rec.exceptions import (
    InvalidDtypeError,
    InvalidParameterError,
    MissingColumnError,
)


class PopModel:
    """Most popular items (by distinct users) in train, seen items removed."""

    def fit(self, dataset: Dataset) -> PopModel:
        self.fitted_on_ = dataset
        inter = dataset.interactions
        self.pop_ = inter.drop_duplicates(["user_id", "item_id"])["item_id"].value_counts()
        self.seen_ = inter.groupby("user_id")["item_id"].agg(set).to_dict()
        return self

    def _rank(self, user, k, filter_seen, candidates):
        seen = self.seen_.get(user, set()) if filter_seen else set()
        return [i for i in candidates if i not in seen][:k]

    def candidates(self, user):
        return list(self.pop_.index)

    def recommend(self, user_ids, k=10, filter_seen=True):
        self.calls_ = (list(user_ids), k, filter_seen)
        rows = []
        for u in user_ids:  # a test double; real models are vectorised
            for r, i in enumerate(self._rank(u, k, filter_seen, self.candidates(u))):
                rows.append((u, i, float(k - r), r + 1))
        return pd.DataFrame(rows, columns=["user_id", "item_id", "score", "rank"])


class TasteModel(PopModel):
    """Popular items of the user's favourite top-level category first (planted signal)."""

    def fit(self, dataset: Dataset) -> TasteModel:
        super().fit(dataset)
        inter = dataset.interactions
        l1 = dataset.item_attributes()["category"].str.split(" > ").str[0]
        inter["l1"] = l1.reindex(inter["item_id"]).to_numpy()
        self.fav_ = inter.groupby("user_id")["l1"].agg(lambda s: s.value_counts().index[0])
        self.l1_ = l1
        return self

    def candidates(self, user):
        items = list(self.pop_.index)
        fav = self.fav_.get(user)
        return sorted(items, key=lambda i: self.l1_.get(i) != fav)  # stable: popularity within


class SkippingModel(PopModel):
    """Serves only users with train history; others are skipped like on_unknown='skip'."""

    def recommend(self, user_ids, k=10, filter_seen=True, on_unknown="raise"):
        self.on_unknown_ = on_unknown
        known = [u for u in user_ids if u in self.seen_]
        if on_unknown == "raise" and len(known) < len(user_ids):
            raise KeyError("unknown users")
        return super().recommend(known, k=k, filter_seen=filter_seen)


@pytest.fixture(scope="module")
def split(shop):
    return random_split(shop, 0.25, min_interactions=5, random_state=0)


def test_evaluate_given_reco_matches_calc_metrics(split):
    reco = PopModel().fit(split.train).recommend(split.test_users, k=10)
    extra = pd.DataFrame({"user_id": [-1], "item_id": ["i000"], "score": [1.0], "rank": [1]})
    metrics = [NDCG(10), Recall(5), MAP(10), HitRate(3)]
    res = evaluate(pd.concat([reco, extra], ignore_index=True), split, metrics)
    expected = calc_metrics(metrics, reco, split.test)
    assert res["metric"].tolist() == list(expected)
    np.testing.assert_allclose(res["value"], list(expected.values()))
    assert (res["group"] == "all").all()
    assert (res["n_users"] == split.info["n_test_users"]).all()


def test_evaluate_fits_and_recommends(split):
    model = PopModel()
    res = evaluate(model, split, [NDCG(10), Recall(20)])
    assert model.fitted_on_ is split.train
    users, k, filter_seen = model.calls_
    assert users == list(split.test_users) and k == 20 and filter_seen is split.filter_seen
    assert res.attrs["fit_time_s"] >= 0 and res.attrs["recommend_time_s"] > 0
    assert res.attrs["n_users_without_reco"] == 0
    assert 0 < res.loc[res["metric"] == "Recall@20", "value"].item() < 1


def test_planted_signal_wins_significantly(split):
    metrics = [NDCG(10), Recall(10)]
    pop = evaluate_per_user(PopModel(), split, metrics)
    taste = evaluate_per_user(TasteModel(), split, metrics)
    assert list(pop.index) == list(split.test_users)
    res = paired_test(pop, taste)
    assert res.loc["NDCG@10", "mean_diff"] > 0
    assert res.loc["NDCG@10", "t_pvalue"] < 0.01
    assert res.loc["NDCG@10", "wilcoxon_pvalue"] < 0.01
    assert res.loc["NDCG@10", "n_users"] == len(split.test_users)
    same = paired_test(pop, pop, method="t")
    assert np.isnan(same.loc["NDCG@10", "t_pvalue"]) and "wilcoxon_pvalue" not in same


def test_by_attribute_series_mapping_and_state(split):
    metrics = [NDCG(10), CatalogCoverage(10)]
    model = PopModel().fit(split.train)
    reco = model.recommend(split.test_users, k=10)
    per_user = evaluate_per_user(reco, split, [NDCG(10)])
    res = evaluate(reco, split, metrics, by="tier")
    tiers = split.train.user_attributes()["tier"]
    for g in ("gold", "silver"):
        users = [u for u in split.test_users if tiers[u] == g]
        row = res[(res["group"] == g) & (res["metric"] == "NDCG@10")].iloc[0]
        assert row["value"] == pytest.approx(per_user.loc[users, "NDCG@10"].mean())
        assert row["n_users"] == len(users)
        cov = res[(res["group"] == g) & (res["metric"] == "CatalogCoverage@10")]["value"].item()
        sub = reco[reco["user_id"].isin(users)]
        assert cov == pytest.approx(sub["item_id"].nunique() / split.train.n_items)
    assert res.attrs["by"] == "tier"
    odd = pd.Series({u: "odd" if u % 2 else "even" for u in split.test_users[:-3]}, name="parity")
    by_series = evaluate(reco, split, [NDCG(10)], by=odd)
    assert set(by_series["group"]) == {"all", "odd", "even", "(missing)"}
    assert by_series.loc[by_series["group"] == "(missing)", "n_users"].item() == 3
    by_map = evaluate(reco, split, [NDCG(10)], by=odd.to_dict())
    pd.testing.assert_frame_equal(by_map.drop(columns="group"), by_series.drop(columns="group"))
    by_state = evaluate(reco, split, [NDCG(10)], by="state")
    assert set(by_state["group"]) == {"all", "hot"}


def test_cold_user_split_state_and_skipped_users(shop):
    split = cold_user_split(shop, 0.15, random_state=0)
    res = evaluate(SkippingModel(), split, [HitRate(10)], by="state")
    assert set(res["group"]) == {"all", "warm"}
    # the model cannot serve warm users: evaluate asked it to skip them, they score 0
    assert res.attrs["n_users_without_reco"] == split.info["n_test_users"]
    assert res["value"].eq(0).all()


def test_beyond_accuracy_context_from_split(split):
    res = evaluate(PopModel(), split, [Novelty(10), PopularityBias(10),
                                       PopularityBias(10, measure="long_tail_share"),
                                       IntraListDiversity(10), CatalogCoverage(10)])
    values = dict(zip(res["metric"], res["value"]))
    assert values["CatalogCoverage@10"] < 0.3  # popularity concentrates on few items
    assert values["LongTailShare@10"] < 0.5
    assert 0 < values["IntraListDiversity@10"] <= 1
    taste = evaluate(TasteModel(), split, [IntraListDiversity(10)])
    assert taste["value"].item() < values["IntraListDiversity@10"]  # one category = less diverse


def test_bootstrap_ci(split, rng):
    res = evaluate(PopModel(), split, [NDCG(10), HitRate(10)], ci=0.9, n_bootstrap=300,
                   random_state=1)
    assert (res["ci_low"] <= res["value"]).all() and (res["value"] <= res["ci_high"]).all()
    again = evaluate(PopModel(), split, [NDCG(10), HitRate(10)], ci=0.9, n_bootstrap=300,
                     random_state=1)
    pd.testing.assert_frame_equal(res, again)
    values = pd.Series(rng.normal(0.3, 0.1, 4000))
    values[::10] = np.nan
    out = bootstrap_ci(values, n_bootstrap=400, ci=0.95, random_state=0)
    se = values.std() / np.sqrt(values.notna().sum())
    width = out.iloc[0]["ci_high"] - out.iloc[0]["ci_low"]
    assert width == pytest.approx(2 * 1.96 * se, rel=0.15)
    assert out.iloc[0]["mean"] == pytest.approx(values.mean())


def test_compare_table_and_plot(split, tmp_path):
    path = tmp_path / "cmp.png"
    table = compare({"pop": PopModel(), "taste": TasteModel()}, split,
                    [NDCG(10), Recall(10), CatalogCoverage(10)], plot=path)
    assert list(table.index) == ["pop", "taste"]
    assert list(table.columns) == ["NDCG@10", "Recall@10", "CatalogCoverage@10", "fit_time_s",
                                   "recommend_time_s", "n_users_without_reco"]
    assert table.loc["taste", "NDCG@10"] > table.loc["pop", "NDCG@10"]
    assert (table["fit_time_s"] > 0).all()
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_errors(split):
    reco = PopModel().fit(split.train).recommend(split.test_users, k=5)
    with pytest.raises(MissingColumnError, match="by='shoe_size' is neither 'state' nor"):
        evaluate(reco, split, [NDCG(5)], by="shoe_size")
    with pytest.raises(InvalidDtypeError, match="split must be a persona_rec.evaluation.Split"):
        evaluate(reco, "split", [NDCG(5)])  # type: ignore[arg-type]
    with pytest.raises(MissingColumnError, match=r"reco is missing column\(s\) \['rank'\]"):
        evaluate(reco.drop(columns="rank"), split, [NDCG(5)])
    with pytest.raises(InvalidDtypeError, match="must have fit\\(dataset\\) and recommend"):
        evaluate(object(), split, [NDCG(5)])
    with pytest.raises(InvalidParameterError, match="'ci' parameter of evaluate"):
        evaluate(reco, split, [NDCG(5)], ci=95)
    with pytest.raises(InvalidParameterError, match="models must be a non-empty mapping"):
        compare({}, split, [NDCG(5)])
    with pytest.raises(InvalidDtypeError, match="by must be None, 'state'"):
        evaluate(reco, split, [NDCG(5)], by=3)


def test_library_model_through_evaluate(shop):
    """A persona_rec model (popularity) on a cold-user split: warm users are skipped, not raised."""
    from persona_rec.models import PopularRecommender

    split = cold_user_split(shop, 0.15, random_state=0)
    res = evaluate(PopularRecommender(), split, [HitRate(10), NDCG(10)], by="state")
    assert res.attrs["n_users_without_reco"] in (0, split.info["n_test_users"])
    assert res["value"].between(0, 1).all()
    hot = random_split(shop, 0.25, min_interactions=5, random_state=0)
    lib = evaluate(PopularRecommender(), hot, [HitRate(10)])
    assert lib.attrs["n_users_without_reco"] == 0 and lib["value"].item() > 0


def test_cold_item_split_ranks_only_new_items(shop):
    """evaluate passes split.candidate_items as items= to models that accept it."""
    from persona_rec.evaluation import cold_item_split
    from persona_rec.models import PopularRecommender

    class Spy(PopModel):
        def recommend(self, user_ids, k=10, filter_seen=True, items=None):
            self.items_ = items
            allowed = set(items)
            self.candidates = lambda u: [i for i in self.pop_.index if i in allowed] + sorted(
                allowed - set(self.pop_.index))
            return super().recommend(user_ids, k=k, filter_seen=filter_seen)

    split = cold_item_split(shop, pd.Timestamp("2024-01-04"))
    spy = Spy()
    res = evaluate(spy, split, [HitRate(5)])
    np.testing.assert_array_equal(spy.items_, split.candidate_items)
    assert res["n_users"].item() == split.info["n_test_users"]
    assert res["value"].item() > 0  # only new items are ranked, so some are hit
    model = PopularRecommender()
    evaluate(model, split, [HitRate(5)])
    reco = model.recommend(split.test_users, k=5, items=split.candidate_items, on_unknown="skip")
    assert set(reco["item_id"]) <= set(split.candidate_items)


def test_bootstrap_all_nan_column_and_errors():
    frame = pd.DataFrame({"a": np.r_[np.ones(50), np.zeros(50)], "b": np.nan})
    out = bootstrap_ci(frame, n_bootstrap=100, random_state=0)
    assert out.loc["a", "mean"] == 0.5 and out.loc["a", "ci_low"] < 0.5 < out.loc["a", "ci_high"]
    assert out.loc["b"].isna().all()
    with pytest.raises(InvalidParameterError, match="'n_bootstrap' parameter of bootstrap_ci"):
        bootstrap_ci(frame, n_bootstrap=5)
    with pytest.raises(InvalidDtypeError, match="per_user must be a per-user Series or DataFrame"):
        bootstrap_ci([1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="'method' parameter of paired_test"):
        paired_test(frame, frame, method="anova")
