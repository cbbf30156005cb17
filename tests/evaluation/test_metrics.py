"""Metrics: hand-computed literal cases, a brute-force reference, properties, errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from persona_rec import Dataset
from persona_rec.evaluation import (
    AUC,
    MAP,
    MRR,
    NDCG,
    CatalogCoverage,
    HitRate,
    IntraListDiversity,
    Novelty,
    PopularityBias,
    Precision,
    Recall,
    calc_metrics,
    calc_metrics_per_user,
)
from persona_rec.exceptions import (
    DuplicateIdError,
    EmptyInputError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    MissingColumnError,
)


def make_reco(lists: dict) -> pd.DataFrame:
    rows = [(u, i, float(len(items) - r), r + 1) for u, items in lists.items()
            for r, i in enumerate(items)]
    return pd.DataFrame(rows, columns=["user_id", "item_id", "score", "rank"])


def make_test(rel: dict) -> pd.DataFrame:
    rows = [(u, i) for u, items in rel.items() for i in items]
    return pd.DataFrame(rows, columns=["user_id", "item_id"])


# ---------------------------------------------------------------- literal
# user "a": list [1, 2, 3, 4, 5], relevant {2, 5, 9}  -> hits at ranks 2 and 5
# user "b": list [7, 8],          relevant {7}        -> hit at rank 1
# user "c": list [1, 2],          no relevant         -> excluded (NaN)
# user "d": no list,              relevant {4}        -> scores 0
RECO = make_reco({"a": [1, 2, 3, 4, 5], "b": [7, 8], "c": [1, 2]})
TEST = make_test({"a": [2, 5, 9], "b": [7], "d": [4]})


def test_literal_precision_recall():
    p = Precision(k=5).calc_per_user(RECO, TEST)
    assert p["a"] == pytest.approx(2 / 5)
    assert p["b"] == pytest.approx(1 / 5)  # denominator is k, not the list length
    assert p["d"] == 0.0
    assert np.isnan(p["c"])
    assert Precision(k=5).calc(RECO, TEST) == pytest.approx((2 / 5 + 1 / 5 + 0) / 3)
    r = Recall(k=2).calc_per_user(RECO, TEST)
    assert r[["a", "b", "d"]].tolist() == pytest.approx([1 / 3, 1.0, 0.0])
    r5 = Recall(k=5).calc_per_user(RECO, TEST)
    assert r5["a"] == pytest.approx(2 / 3)
    rmin = Recall(k=2, normalize="min").calc_per_user(RECO, TEST)
    assert rmin["a"] == pytest.approx(1 / 2)  # 1 hit / min(2, 3)
    assert Recall(k=2, normalize="min").label == "Recall@2(min)"
    assert Recall(k=2).label == "Recall@2"


def test_literal_ndcg_map_mrr_hitrate():
    ndcg = NDCG(k=5).calc_per_user(RECO, TEST)
    dcg_a = 1 / math.log2(3) + 1 / math.log2(6)
    idcg_a = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg["a"] == pytest.approx(dcg_a / idcg_a)
    assert ndcg["b"] == pytest.approx(1.0)
    assert ndcg["d"] == 0.0
    ap = MAP(k=5).calc_per_user(RECO, TEST)
    assert ap["a"] == pytest.approx((1 / 2 + 2 / 5) / 3)
    assert ap["b"] == pytest.approx(1.0)
    ap3 = MAP(k=3, normalize="min").calc_per_user(RECO, TEST)
    assert ap3["a"] == pytest.approx((1 / 2) / 3)  # min(3, 3) = 3
    ap2 = MAP(k=2, normalize="min").calc_per_user(RECO, TEST)
    assert ap2["a"] == pytest.approx((1 / 2) / 2)
    mrr = MRR(k=5).calc_per_user(RECO, TEST)
    assert mrr[["a", "b", "d"]].tolist() == pytest.approx([0.5, 1.0, 0.0])
    assert MRR(k=1).calc_per_user(RECO, TEST)["a"] == 0.0
    hr = HitRate(k=1).calc_per_user(RECO, TEST)
    assert hr[["a", "b", "d"]].tolist() == [0.0, 1.0, 0.0]
    assert HitRate(k=2).calc(RECO, TEST) == pytest.approx(2 / 3)
    assert NDCG(k=10).label == "NDCG@10"


def test_per_user_index_and_name():
    s = NDCG(k=3).calc_per_user(RECO, TEST)
    assert s.name == "NDCG@3"
    assert s.index.name == "user_id"
    assert list(s.index) == ["a", "b", "d", "c"]  # test users first, then reco-only


def test_repeated_test_rows_count_once_and_ranks_unsorted():
    test = make_test({"a": [2, 2, 5, 9, 9]})
    shuffled = RECO.sample(frac=1.0, random_state=3)
    assert Recall(k=5).calc(shuffled, test) == pytest.approx(2 / 3)
    assert NDCG(k=5).calc(shuffled, test) == NDCG(k=5).calc(RECO, make_test({"a": [2, 5, 9]}))


def test_string_and_int_ids_are_distinct():
    reco = make_reco({1: ["1", 2]})
    test = make_test({1: [1, 2]})
    assert Precision(k=2).calc(reco, test) == pytest.approx(0.5)


def test_literal_auc():
    reco = make_reco({"u": ["a", "b", "c"]})
    test = make_test({"u": ["b", "e"]})
    catalog = list("abcdef")
    # positives b (rank 2), e (unranked); negatives a, c, d, f
    # b beats c, d, f (3); e ties with d, f (0.5 each) -> (3 + 1) / (2 * 4)
    assert AUC(catalog=catalog).calc(reco, test) == pytest.approx(0.5)
    assert AUC(catalog=6).calc(reco, test) == pytest.approx(0.5)
    # top-1 only: b is unranked too -> b ties with c, d, f: 1.5; e: 1.5 -> 3 / 8
    assert AUC(k=1, catalog=catalog).calc(reco, test) == pytest.approx(3 / 8)
    perfect = make_reco({"u": ["b", "e", "a"]})
    assert AUC(catalog=catalog).calc(perfect, test) == 1.0
    assert AUC(catalog=catalog, n_negatives=50, random_state=0).calc(perfect, test) == 1.0


def test_sampled_auc_approaches_full_auc(rng):
    reco, test, n_items = random_case(rng, n_users=60, n_items=80, list_len=30)
    full = AUC(catalog=np.arange(n_items)).calc(reco, test)
    sampled = AUC(catalog=np.arange(n_items), n_negatives=400, random_state=1).calc(reco, test)
    assert sampled == pytest.approx(full, abs=0.02)
    again = AUC(catalog=np.arange(n_items), n_negatives=400, random_state=1).calc(reco, test)
    assert again == sampled
    assert AUC(n_negatives=5).label == "SampledAUC(5)"


def test_literal_beyond_accuracy():
    train = pd.DataFrame({"user_id": [1, 2, 3, 4, 1, 2], "item_id": list("aaaabb")})
    reco = make_reco({"x": ["a", "b"], "y": ["c"]})
    nov = Novelty(k=2, train=train).calc_per_user(reco)
    assert nov["x"] == pytest.approx((-math.log2(4 / 4) - math.log2(2 / 4)) / 2)
    assert nov["y"] == pytest.approx(-math.log2(1 / 4))  # unseen item counts once
    arp = PopularityBias(k=2, train=train).calc_per_user(reco)
    assert arp["x"] == pytest.approx((1.0 + 0.5) / 2)
    assert arp["y"] == 0.0
    # head = ceil(0.5 * 2) = 1 item ("a"); long tail = b and unseen c
    lt = PopularityBias(k=2, train=train, measure="long_tail_share",
                        head_fraction=0.5).calc_per_user(reco)
    assert lt.tolist() == [0.5, 1.0]
    assert CatalogCoverage(k=1, catalog=list("abcd")).calc(reco) == pytest.approx(2 / 4)
    assert CatalogCoverage(k=2, catalog=list("abcd")).calc(reco) == pytest.approx(3 / 4)
    assert CatalogCoverage(k=2, catalog=10).calc(reco) == pytest.approx(3 / 10)


def test_literal_intra_list_diversity():
    feats = pd.DataFrame({"f1": [1.0, 1.0, 0.0, 0.0], "f2": [0.0, 1.0, 1.0, 0.0]},
                         index=pd.Index(list("abcd"), name="item_id"))
    reco = make_reco({"x": ["a", "b", "c"], "y": ["a", "a2"], "z": ["a", "d"]})
    ild = IntraListDiversity(k=3, item_features=feats).calc_per_user(reco)
    s = 1 / math.sqrt(2)
    # pairs (a,b): 1-s, (a,c): 1, (b,c): 1-s
    assert ild["x"] == pytest.approx(((1 - s) + 1 + (1 - s)) / 3)
    assert np.isnan(ild["y"])  # "a2" has no features -> one item left
    assert np.isnan(ild["z"])  # "d" is an all-zero vector
    emb = (np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array(["a", "b"]))
    assert IntraListDiversity(k=2, item_features=emb).calc(make_reco({"x": ["a", "b"]})) == 2.0


def test_intra_list_diversity_from_dataset_category_paths():
    items = pd.DataFrame({"item_id": [1, 2, 3], "category": ["A > B", "A > C", "D > E"]})
    inter = pd.DataFrame({"user_id": [1, 1, 1], "item_id": [1, 2, 3],
                          "timestamp": pd.to_datetime(["2024-01-01"] * 3)})
    ds = Dataset.from_frames(inter, items=items)
    metric = IntraListDiversity(k=3).bind(ds)
    # 1 and 2 share the ancestor "A": cos = 1/2; other pairs 0
    value = metric.calc(make_reco({"u": [1, 2, 3]}))
    assert value == pytest.approx((0.5 + 1 + 1) / 3)
    assert metric.label == "IntraListDiversity@3"


def test_bind_fills_context_from_dataset():
    inter = pd.DataFrame({"user_id": [1, 2, 2], "item_id": ["a", "a", "b"],
                          "timestamp": pd.to_datetime(["2024-01-01"] * 3)})
    items = pd.DataFrame({"item_id": ["a", "b", "c", "d"], "brand": ["x", "x", "y", "y"]})
    ds = Dataset.from_frames(inter, items=items)
    reco = make_reco({1: ["b", "c"]})
    assert CatalogCoverage(k=2).bind(ds).calc(reco) == pytest.approx(2 / 4)
    assert Novelty(k=1).bind(ds).calc(reco) == pytest.approx(-math.log2(1 / 2))
    with pytest.raises(InvalidParameterError, match="Novelty@1 needs 'train'"):
        Novelty(k=1).calc(reco)
    given = Novelty(k=1, train=inter)
    assert given.bind(ds) is given


# --------------------------------------------------------- reference impl
def brute_force(reco: pd.DataFrame, test: pd.DataFrame, k: int) -> dict[str, dict]:
    """Independent per-user loop implementation (textbook definitions)."""
    rel = test.groupby("user_id")["item_id"].apply(set).to_dict()
    lists = {u: g.sort_values("rank")["item_id"].tolist() for u, g in reco.groupby("user_id")}
    out: dict[str, dict] = {m: {} for m in ("ndcg", "recall", "map", "precision", "mrr", "hr")}
    for u, r in rel.items():
        top = lists.get(u, [])[:k]
        gains = [1.0 if i in r else 0.0 for i in top]
        dcg = sum(g / math.log2(pos + 2) for pos, g in enumerate(gains))
        idcg = sum(1 / math.log2(pos + 2) for pos in range(min(k, len(r))))
        out["ndcg"][u] = dcg / idcg
        out["recall"][u] = sum(gains) / len(r)
        out["precision"][u] = sum(gains) / k
        hits, ap = 0, 0.0
        for pos, g in enumerate(gains):
            if g:
                hits += 1
                ap += hits / (pos + 1)
        out["map"][u] = ap / len(r)
        first = next((pos for pos, g in enumerate(gains) if g), None)
        out["mrr"][u] = 0.0 if first is None else 1 / (first + 1)
        out["hr"][u] = float(hits > 0)
    return out


def brute_auc(reco: pd.DataFrame, test: pd.DataFrame, catalog: np.ndarray) -> dict:
    rel = test.groupby("user_id")["item_id"].apply(set).to_dict()
    lists = {u: g.sort_values("rank")["item_id"].tolist() for u, g in reco.groupby("user_id")}
    out = {}
    for u, r in rel.items():
        pos_of = {i: p for p, i in enumerate(lists.get(u, []))}
        big = len(catalog) + 10
        positives = [i for i in catalog if i in r]
        negatives = [i for i in catalog if i not in r]
        total = 0.0
        for p in positives:
            for n in negatives:
                a, b = pos_of.get(p, big), pos_of.get(n, big)
                total += 1.0 if a < b else 0.5 if a == b else 0.0
        out[u] = total / (len(positives) * len(negatives))
    return out


def random_case(rng: np.random.Generator, n_users: int = 40, n_items: int = 30,
                list_len: int = 12) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    reco_rows, test_rows = [], []
    for u in range(n_users):
        length = int(rng.integers(0, list_len + 1))
        for r, i in enumerate(rng.choice(n_items, size=length, replace=False)):
            reco_rows.append((u, int(i), -r, r + 1))
        n_rel = int(rng.integers(0, 8))
        for i in rng.choice(n_items, size=n_rel, replace=False):
            test_rows.append((u, int(i)))
    reco = pd.DataFrame(reco_rows, columns=["user_id", "item_id", "score", "rank"])
    test = pd.DataFrame(test_rows, columns=["user_id", "item_id"])
    return reco, test, n_items


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("k", [1, 3, 10])
def test_matches_brute_force_reference(seed, k):
    reco, test, _ = random_case(np.random.default_rng(seed))
    ref = brute_force(reco, test, k)
    ours = calc_metrics_per_user(
        [NDCG(k), Recall(k), MAP(k), Precision(k), MRR(k), HitRate(k)], reco, test)
    for name, col in (("ndcg", f"NDCG@{k}"), ("recall", f"Recall@{k}"), ("map", f"MAP@{k}"),
                      ("precision", f"Precision@{k}"), ("mrr", f"MRR@{k}"),
                      ("hr", f"HitRate@{k}")):
        expected = pd.Series(ref[name]).sort_index()
        got = ours[col].dropna().sort_index()
        assert got.index.tolist() == expected.index.tolist()
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_full_auc_matches_brute_force(seed):
    reco, test, n_items = random_case(np.random.default_rng(100 + seed), n_users=25, n_items=20)
    catalog = np.arange(n_items)
    ours = AUC(catalog=catalog).calc_per_user(reco, test).dropna()
    ref = pd.Series(brute_auc(reco, test, catalog))
    np.testing.assert_allclose(ours.sort_index().to_numpy(), ref.sort_index().to_numpy())


def test_calc_metrics_equals_individual_calc(rng):
    reco, test, n_items = random_case(rng)
    metrics = [NDCG(5), Recall(10), MAP(3, normalize="min"), Precision(2), MRR(7), HitRate(1),
               AUC(catalog=np.arange(n_items)), CatalogCoverage(5, catalog=n_items),
               Novelty(5, train=test), PopularityBias(4, train=test)]
    together = calc_metrics(metrics, reco, test)
    for m in metrics:
        assert together[m.label] == pytest.approx(m.calc(reco, test)), m.label


# -------------------------------------------------------------- properties
@st.composite
def cases(draw):
    n_users = draw(st.integers(1, 6))
    n_items = draw(st.integers(2, 12))
    lists, rel = {}, {}
    for u in range(n_users):
        perm = draw(st.permutations(range(n_items)))
        lists[u] = list(perm[: draw(st.integers(1, n_items))])
        rel[u] = draw(st.sets(st.integers(0, n_items - 1), min_size=1, max_size=n_items))
    k = draw(st.integers(1, n_items + 2))
    return lists, rel, k


RANKERS = (NDCG, Recall, MAP, MRR, HitRate, Precision)


@settings(max_examples=60, deadline=None)
@given(cases())
def test_bounds_and_perfect_ranking(case):
    lists, rel, k = case
    reco, test = make_reco(lists), make_test(rel)
    for cls in RANKERS:
        s = cls(k).calc_per_user(reco, test)
        assert ((s >= 0) & (s <= 1 + 1e-12)).all()
    perfect = make_reco({u: sorted(r) for u, r in rel.items()})
    for cls in (NDCG, MRR, HitRate):
        assert cls(k).calc(perfect, test) == pytest.approx(1.0)
    assert Recall(k, normalize="min").calc(perfect, test) == pytest.approx(1.0)
    assert MAP(k, normalize="min").calc(perfect, test) == pytest.approx(1.0)
    if all(len(r) <= k for r in rel.values()):
        assert Recall(k).calc(perfect, test) == pytest.approx(1.0)
        assert MAP(k).calc(perfect, test) == pytest.approx(1.0)
    if all(len(r) >= k for r in rel.values()):
        assert Precision(k).calc(perfect, test) == pytest.approx(1.0)
    auc = AUC(catalog=sorted({i for r in lists.values() for i in r} | set().union(*rel.values())))
    values = auc.calc_per_user(perfect, test).dropna()
    assert ((values >= 0) & (values <= 1)).all()


@settings(max_examples=60, deadline=None)
@given(cases())
def test_reversing_a_perfect_ranking_cannot_raise_ndcg(case):
    lists, rel, k = case
    test = make_test(rel)
    # A list that puts the relevant items first, then the rest: the best order.
    best = {u: sorted(r) + [i for i in lists[u] if i not in r] for u, r in rel.items()}
    worst = {u: items[::-1] for u, items in best.items()}
    a = NDCG(k).calc_per_user(make_reco(best), test)
    b = NDCG(k).calc_per_user(make_reco(worst), test)
    assert (b <= a + 1e-12).all()
    # Also for any list: sorting relevant items to the front never lowers NDCG.
    arbitrary = make_reco(lists)
    front = {u: [i for i in items if i in rel[u]] + [i for i in items if i not in rel[u]]
             for u, items in lists.items()}
    assert (NDCG(k).calc_per_user(arbitrary, test)
            <= NDCG(k).calc_per_user(make_reco(front), test) + 1e-12).all()


@settings(max_examples=40, deadline=None)
@given(cases(), st.randoms(use_true_random=False))
def test_permuting_users_does_not_change_the_mean(case, rnd):
    lists, rel, k = case
    reco, test = make_reco(lists), make_test(rel)
    users = list(rel)
    perm = users[:]
    rnd.shuffle(perm)
    rename = dict(zip(users, [f"p{p}" for p in perm]))
    reco2 = reco.assign(user_id=reco["user_id"].map(rename)).sample(frac=1.0, random_state=1)
    test2 = test.assign(user_id=test["user_id"].map(rename)).iloc[::-1]
    for cls in RANKERS:
        assert cls(k).calc(reco2, test2) == pytest.approx(cls(k).calc(reco, test))


# ------------------------------------------------------------------ errors
def test_bad_k():
    with pytest.raises(InvalidParameterError, match=r"'k' parameter of NDCG must be an int >= 1, got 0"):
        NDCG(k=0)
    with pytest.raises(InvalidParameterError, match="'k' parameter of Recall must be an int"):
        Recall(k=2.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="'normalize' parameter of MAP must be one of"):
        MAP(k=3, normalize="k")


def test_missing_columns():
    with pytest.raises(MissingColumnError, match=r"reco is missing column\(s\) \['rank'\]"):
        NDCG(3).calc(RECO.drop(columns="rank"), TEST)
    with pytest.raises(MissingColumnError, match=r"test is missing column\(s\) \['item_id'\]"):
        NDCG(3).calc(RECO, TEST.drop(columns="item_id"))
    with pytest.raises(InvalidDtypeError, match="reco must be a pandas.DataFrame, got list"):
        NDCG(3).calc([1, 2], TEST)  # type: ignore[arg-type]


def test_duplicate_user_item_in_reco():
    bad = pd.concat([RECO, RECO.iloc[[1]].assign(rank=6)], ignore_index=True)
    with pytest.raises(DuplicateIdError, match=r"duplicate \(user_id, item_id\).*\('a', 2\)"):
        Recall(10).calc(bad, TEST)
    same_rank = RECO.copy()
    same_rank.loc[1, "rank"] = 1
    with pytest.raises(DuplicateIdError, match=r"same \(user_id, rank\) = \('a', 1\)"):
        Recall(10).calc(same_rank, TEST)


def test_ranks_must_start_at_one():
    with pytest.raises(InvalidValueError, match=r"must start at 1 for every user; 1 user\(s\).*'b'"):
        NDCG(5).calc(RECO.assign(rank=RECO["rank"] + (RECO["user_id"] == "b")), TEST)
    with pytest.raises(InvalidValueError, match=r"must start at 1 \(1 = best\), got rank 0"):
        NDCG(5).calc(RECO.assign(rank=RECO["rank"] - 1), TEST)
    with pytest.raises(InvalidValueError, match="whole numbers"):
        NDCG(5).calc(RECO.assign(rank=RECO["rank"] + 0.5), TEST)
    with pytest.raises(InvalidDtypeError, match="must be an integer column"):
        NDCG(5).calc(RECO.assign(rank=RECO["rank"].astype(str)), TEST)


def test_empty_test_and_other_errors():
    with pytest.raises(EmptyInputError, match="test is empty"):
        NDCG(5).calc(RECO, TEST.iloc[:0])
    with pytest.raises(InvalidParameterError, match="needs the 'test' frame"):
        NDCG(5).calc(RECO)
    with pytest.raises(InvalidParameterError, match="catalog-level metric"):
        CatalogCoverage(5, catalog=10).calc_per_user(RECO)
    with pytest.raises(InvalidParameterError, match="sampled AUC needs 'catalog' as item ids"):
        AUC(catalog=10, n_negatives=3).calc(RECO, TEST)
    with pytest.raises(DuplicateIdError, match=r"duplicate label\(s\) \['NDCG@5'\]"):
        calc_metrics([NDCG(5), NDCG(5)], RECO, TEST)
    with pytest.raises(InvalidDtypeError, match="Metric objects"):
        calc_metrics(["NDCG@5"], RECO, TEST)  # type: ignore[list-item]
    with pytest.raises(InvalidParameterError, match="'measure' parameter of PopularityBias"):
        PopularityBias(5, measure="gini")
    with pytest.raises(MissingColumnError, match="'train' frame of Novelty is missing"):
        Novelty(5, train=pd.DataFrame({"user_id": [1]})).calc(RECO)


def test_float_ranks_with_whole_values_are_accepted():
    assert NDCG(5).calc(RECO.assign(rank=RECO["rank"].astype(float)), TEST) == \
        NDCG(5).calc(RECO, TEST)


def test_empty_reco_scores_zero():
    empty = pd.DataFrame({"user_id": [], "item_id": [], "score": [], "rank": []})
    assert Recall(5).calc(empty, TEST) == 0.0
    assert NDCG(5).calc_per_user(empty, TEST).tolist() == [0.0, 0.0, 0.0]


def test_duplicates_beyond_k_are_not_read():
    beyond = pd.concat([RECO, RECO.iloc[[1]].assign(rank=6)], ignore_index=True)
    assert NDCG(5).calc(beyond, TEST) == NDCG(5).calc(RECO, TEST)
    with pytest.raises(DuplicateIdError, match="duplicate"):
        NDCG(6).calc(beyond, TEST)
    with pytest.raises(DuplicateIdError, match="duplicate"):
        Novelty(6, train=TEST).calc(beyond)


@settings(max_examples=40, deadline=None)
@given(cases())
def test_beyond_accuracy_bounds(case):
    lists, rel, k = case
    reco = make_reco(lists)
    train = make_test(rel)  # any interactions frame works as train popularity
    n_items = max(max(items) for items in lists.values()) + 1
    feats = pd.DataFrame({"group": [i % 3 for i in range(n_items)], "odd": [i % 2 for i in
                                                                           range(n_items)]},
                         index=pd.Index(range(n_items), name="item_id")).astype(str)
    for metric in (CatalogCoverage(k, catalog=n_items),
                   PopularityBias(k, train=train),
                   PopularityBias(k, train=train, measure="long_tail_share"),
                   IntraListDiversity(k, item_features=feats)):
        value = metric.calc(reco)
        assert np.isnan(value) or 0.0 <= value <= 1.0 + 1e-12, metric.label
    assert Novelty(k, train=train).calc(reco) >= 0.0
