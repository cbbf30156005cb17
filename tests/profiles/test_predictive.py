"""BG/NBD, Gamma-Gamma, CLV and PredictiveBuilder: reference values, recovery, errors."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import special
from sklearn.metrics import roc_auc_score

from persona_rec import Dataset
from persona_rec.exceptions import (
    EmptyInputError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    NotFittedError,
)
from persona_rec.profiles import ProfileBuilder, RFMBuilder
from persona_rec.profiles.predictive import (
    BGNBD,
    PREDICTIVE_COLUMNS,
    GammaGamma,
    PredictiveBuilder,
    customer_lifetime_value,
    rfm_summary,
    sample_bgnbd,
    simulate_btyd,
)


# ----------------------------------------------------------------- CDNOW data
def _lifetimes_data(name: str) -> Path:
    """A CSV shipped inside the ``lifetimes`` package (a test dependency): never skipped."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("the 'lifetimes' package (test extra) is required for the CDNOW reference "
                    "tests; install persona-rec[test]")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / name
    if not path.exists():
        pytest.fail(f"lifetimes is installed but {path} is missing")
    return path


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    """CDNOW sample (2,357 customers, weeks): ID, frequency, recency (= t_x), T."""
    return pd.read_csv(_lifetimes_data("cdnow_customers_summary.csv"))


@pytest.fixture(scope="module")
def cdnow_bg(cdnow: pd.DataFrame) -> BGNBD:
    return BGNBD().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


def test_bgnbd_cdnow_reference_parameters(cdnow: pd.DataFrame, cdnow_bg: BGNBD) -> None:
    # Fader, Hardie & Lee (2005): r=0.243, alpha=4.414, a=0.793, b=2.426, LL=-9582.4
    assert len(cdnow) == 2357
    p = cdnow_bg.params_
    assert p["r"] == pytest.approx(0.243, abs=5e-4)
    assert p["alpha"] == pytest.approx(4.414, abs=5e-4)
    assert p["a"] == pytest.approx(0.793, abs=5e-4)
    assert p["b"] == pytest.approx(2.426, abs=5e-4)
    assert cdnow_bg.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert cdnow_bg.n_customers_ == 2357
    assert cdnow_bg.n_repeat_customers_ == int((cdnow["frequency"] > 0).sum())


def test_bgnbd_cdnow_reference_prediction(cdnow: pd.DataFrame, cdnow_bg: BGNBD) -> None:
    # the paper's worked example: x=2, t_x=30.43, T=38.86 -> 1.226 purchases in 39 weeks
    e = cdnow_bg.expected_purchases(39, [2], [30.43], [38.86])
    assert e[0] == pytest.approx(1.226, abs=2e-3)
    # the fitted model reproduces the mean repeat count of the calibration period (1.04)
    fitted = cdnow_bg.expected_purchases_new(cdnow["T"].to_numpy()).mean()
    assert fitted == pytest.approx(cdnow["frequency"].mean(), rel=0.03)


def test_gamma_gamma_cdnow_reference() -> None:
    # Fader & Hardie, "The Gamma-Gamma model of monetary value": p=6.25, q=3.74, gamma=15.44
    d = pd.read_csv(_lifetimes_data("cdnow_customers_summary_with_transactions.csv"))
    d = d[d["x"] > 0]
    assert len(d) == 946
    gg = GammaGamma().fit(d["x"], d["zbar"])
    assert gg.params_["p"] == pytest.approx(6.25, abs=5e-3)
    assert gg.params_["q"] == pytest.approx(3.74, abs=5e-3)
    assert gg.params_["gamma"] == pytest.approx(15.44, abs=1e-2)
    # shrinkage: between the population mean and the own mean
    e = gg.expected_spend([1, 10], [100.0, 100.0])
    assert gg.population_mean_ < e[0] < e[1] < 100.0


# ------------------------------------------------------------ hand-computed values
def _ll_by_hand(r: float, alpha: float, a: float, b: float, x: int, tx: float, T: float) -> float:
    """Equation (6) of Fader, Hardie & Lee (2005) with plain Gamma/Beta functions."""
    beta = lambda u, v: math.gamma(u) * math.gamma(v) / math.gamma(u + v)  # noqa: E731
    head = math.gamma(r + x) * alpha ** r / math.gamma(r)
    term1 = beta(a, b + x) / beta(a, b) * (alpha + T) ** -(r + x)
    term2 = (beta(a + 1, b + x - 1) / beta(a, b) * (alpha + tx) ** -(r + x)) if x > 0 else 0.0
    return math.log(head * (term1 + term2))


def test_bgnbd_log_likelihood_matches_hand_computation() -> None:
    m = BGNBD()
    m.params_ = {"r": 0.5, "alpha": 2.0, "a": 1.5, "b": 3.0}
    x, tx, T = [0, 1, 3, 7], [0.0, 2.0, 7.0, 9.5], [10.0, 4.0, 10.0, 12.0]
    got = m.log_likelihood(x, tx, T)
    want = [_ll_by_hand(0.5, 2.0, 1.5, 3.0, *c) for c in zip(x, tx, T)]
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_bgnbd_p_alive_and_expectation_formulas() -> None:
    m = BGNBD()
    r, alpha, a, b = 0.5, 2.0, 1.5, 3.0
    m.params_ = {"r": r, "alpha": alpha, "a": a, "b": b}
    x, tx, T = np.array([0.0, 2.0, 5.0]), np.array([0.0, 3.0, 9.0]), np.array([10.0, 10.0, 10.0])
    pa = m.p_alive(x, tx, T)
    assert pa[0] == 1.0
    want = 1 / (1 + a / (b + 2 - 1) * ((alpha + 10) / (alpha + 3)) ** (r + 2))
    assert pa[1] == pytest.approx(want, rel=1e-12)
    # equation (10) in its original (untransformed) hypergeometric form
    t = 6.0
    z = t / (alpha + T + t)
    direct = ((a + b + x - 1) / (a - 1)
              * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x)
                 * special.hyp2f1(r + x, b + x, a + b + x - 1, z)) * pa)
    np.testing.assert_allclose(m.expected_purchases(t, x, tx, T), direct, rtol=1e-9)
    # more time, more purchases; a recent heavy buyer outranks a lapsed one
    assert (m.expected_purchases(12.0, x, tx, T) > m.expected_purchases(6.0, x, tx, T)).all()
    e = m.expected_purchases(6.0, [5, 5], [9.5, 1.0], [10.0, 10.0])
    assert e[0] > e[1]


def _expected_at_a_one(t, x, tx, T, r, alpha, b):
    """Equation (10) at ``a = 1`` exactly, by its limit (not by the closed form used in the code).

    With ``A = b - r``, ``c = b + x`` and ``z = t / (alpha + T + t)``, the
    limit of ``(1 - (1-z)^(a-1) 2F1(A, a-1; c; z)) / (a - 1)`` is
    ``-log(1 - z) - sum_{n>=1} (A)_n / ((c)_n n) z^n``.
    """
    z = t / (alpha + T + t)
    s, term = 0.0, 1.0
    for n in range(1, 10_000):
        term *= (b - r + n - 1) / (b + x + n - 1) * z
        s += term / n
        if abs(term) < 1e-18:
            break
    pa = 1.0 if x == 0 else 1 / (1 + 1 / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x))
    return (b + x) * (-math.log1p(-z) - s) * pa


@pytest.mark.parametrize("r, alpha, b, x, tx, T, t", [
    (1.0, 1.0, 1.0, 0, 0.0, 1.0, 1.0),
    (0.5, 3.0, 2.5, 4, 7.0, 10.0, 6.0),
    (2.0, 10.0, 0.3, 20, 40.0, 50.0, 30.0),
    (0.243, 4.414, 2.426, 2, 30.43, 38.86, 39.0),
])
def test_bgnbd_expectations_at_a_equal_one(r, alpha, b, x, tx, T, t) -> None:
    """a = 1 makes the closed forms 0/0; the finite limit is returned, and it is continuous."""
    m = BGNBD()
    m.params_ = {"r": r, "alpha": alpha, "a": 1.0, "b": b}
    at_one = m.expected_purchases(t, [x], [tx], [T])[0]
    assert at_one == pytest.approx(_expected_at_a_one(t, x, tx, T, r, alpha, b), rel=1e-8)
    # continuous through the interpolation window and its edges (slope ~ 1e-3 per 1e-3 of a)
    for a in (1 - 1e-3, 1 - 1e-4, 1 - 3e-5, 1 + 1e-7, 1 + 1e-4, 1 + 1e-3):
        m.params_["a"] = a
        assert m.expected_purchases(t, [x], [tx], [T])[0] == pytest.approx(at_one, rel=2 * abs(a - 1))
    # the population-level expectation has the same removable singularity
    m.params_["a"] = 1.0
    new_at_one = m.expected_purchases_new([t])[0]
    assert np.isfinite(new_at_one) and new_at_one > 0
    for a in (1 - 1e-3, 1 + 1e-6, 1 + 1e-3):
        m.params_["a"] = a
        assert m.expected_purchases_new([t])[0] == pytest.approx(new_at_one, rel=2 * abs(a - 1))
    if (r, alpha, b) == (1.0, 1.0, 1.0):  # r = alpha = b = 1, a = 1: E[new](t) = log(1 + t)
        assert new_at_one == pytest.approx(math.log1p(t), rel=1e-8)


@pytest.mark.parametrize("r, alpha, a, T, t", [
    (1.0, 1.0, 0.5, 1.0, 1.0), (0.3, 4.0, 0.8, 10.0, 6.0), (2.0, 10.0, 0.1, 50.0, 30.0)])
def test_bgnbd_expectations_at_a_plus_b_equal_one(r, alpha, a, T, t) -> None:
    """a + b = 1 puts the hypergeometric pole c = 0 under a customer without repeats; the limit is returned.

    The references are the limits written with ``c * 2F1(A, B; c; z) -> A B z 2F1(A+1, B+1; 2; z)``:
    ``r z (1-z)^(a-1) 2F1(1-r, a; 2; z)`` per customer and ``(1-z)^r r z 2F1(r+1, b+1; 2; z)``
    for a new one.
    """
    b = 1.0 - a
    m = BGNBD()
    m.params_ = {"r": r, "alpha": alpha, "a": a, "b": b}
    z = t / (alpha + T + t)
    want = r * z * (1 - z) ** (a - 1) * special.hyp2f1(1 - r, a, 2, z)
    got = m.expected_purchases(t, [0, 0], [0.0, 0.0], [T, T])
    np.testing.assert_allclose(got, want, rtol=1e-8)
    zn = t / (alpha + t)
    want_new = (1 - zn) ** r * r * zn * special.hyp2f1(r + 1, b + 1, 2, zn)
    assert m.expected_purchases_new([t])[0] == pytest.approx(want_new, rel=1e-8)
    for bb in (b - 1e-3, b + 1e-6, b + 1e-3):  # continuous through the window
        m.params_["b"] = bb
        assert m.expected_purchases(t, [0], [0.0], [T])[0] == pytest.approx(
            want, rel=1e-8 + 0.5 * abs(bb - b))


@pytest.mark.parametrize("b, x, T", [(6.921899383647891, 0, 0.5),
                                     (4.196475989450356, 3, 1.0)])
def test_bgnbd_long_horizons_where_scipy_2f1_degenerates(b, x, T) -> None:
    """r = a with t >> alpha: scipy's 2F1 returns NaN in the Euler form; the Pfaff form takes over.

    Reference: the paper's untransformed equation (10), which scipy evaluates here.
    """
    r, alpha, a = 0.05, 0.1, 0.05
    m = BGNBD()
    m.params_ = {"r": r, "alpha": alpha, "a": a, "b": b}
    tx = 0.4 * T if x else 0.0
    pa = m.p_alive([x], [tx], [T])[0]
    for t in (376.8, 2000.0):  # z = t / (alpha + T + t) > 0.998
        z = t / (alpha + T + t)
        direct = ((a + b + x - 1) / (a - 1)
                  * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x)
                     * special.hyp2f1(r + x, b + x, a + b + x - 1, z)) * pa)
        assert m.expected_purchases(t, [x], [tx], [T])[0] == pytest.approx(direct, rel=1e-8)
        zn = t / (alpha + t)
        new = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r
                                       * special.hyp2f1(r, b, a + b - 1, zn))
        assert m.expected_purchases_new([t])[0] == pytest.approx(new, rel=1e-8)


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
def test_bgnbd_near_a_equal_one_agrees_with_lifetimes() -> None:
    import lifetimes  # test extra: an ImportError fails the test, it does not skip
    x, tx, T = np.array([0.0, 1, 4, 20]), np.array([0.0, 3, 7, 40]), np.array([5.0, 10, 10, 50])
    for a in (1 - 1e-3, 1 + 1e-3, 1 + 2e-2):
        m = BGNBD()
        m.params_ = {"r": 0.5, "alpha": 3.0, "a": a, "b": 2.5}
        lt = lifetimes.BetaGeoFitter()
        lt.params_ = pd.Series(m.params_)
        np.testing.assert_allclose(
            m.expected_purchases(6.0, x, tx, T),
            lt.conditional_expected_number_of_purchases_up_to_time(6.0, x, tx, T), rtol=1e-7)


# ------------------------------------------------------------------- recovery
def test_bgnbd_recovers_planted_parameters() -> None:
    truth = {"r": 0.6, "alpha": 12.0, "a": 0.9, "b": 2.5}
    rng = np.random.default_rng(7)
    T = rng.uniform(60, 300, size=20_000)
    x, tx, TT = sample_bgnbd(20_000, **truth, T=T, random_state=7)
    m = BGNBD().fit(x, tx, TT)
    for k, v in truth.items():
        assert m.params_[k] == pytest.approx(v, rel=0.15), k
    # the fitted model explains the data better than the truth is explained by a wrong model
    wrong = BGNBD()
    wrong.params_ = {"r": 1.2, "alpha": 12.0, "a": 0.9, "b": 2.5}
    assert m.log_likelihood(x, tx, TT).sum() > wrong.log_likelihood(x, tx, TT).sum()


def test_gamma_gamma_recovers_planted_parameters() -> None:
    rng = np.random.default_rng(3)
    n = 5000
    nu = rng.gamma(4.0, 1 / 20.0, size=n)
    x = rng.integers(1, 8, size=n).astype(float)
    m = rng.gamma(6.0 * x, 1 / (nu * x))  # mean of x Gamma(6, nu) draws
    gg = GammaGamma().fit(x, m)
    assert gg.params_["p"] == pytest.approx(6.0, rel=0.1)
    assert gg.params_["q"] == pytest.approx(4.0, rel=0.15)
    assert gg.params_["gamma"] == pytest.approx(20.0, rel=0.2)
    # shrunk estimates are closer to the truth than the raw means
    true_mean = 6.0 / nu
    err_shrunk = np.abs(gg.expected_spend(x, m) - true_mean).mean()
    err_raw = np.abs(m - true_mean).mean()
    assert err_shrunk < err_raw


def test_fit_is_deterministic() -> None:
    x, tx, T = sample_bgnbd(500, r=0.5, alpha=10.0, a=0.8, b=2.0, T=100.0, random_state=1)
    assert BGNBD().fit(x, tx, T).params_ == BGNBD().fit(x, tx, T).params_
    x2, tx2, T2 = sample_bgnbd(500, r=0.5, alpha=10.0, a=0.8, b=2.0, T=100.0, random_state=1)
    np.testing.assert_array_equal(x, x2)


# ---------------------------------------------------------------------- CLV
def test_clv_discounting_and_horizon() -> None:
    m = BGNBD()
    m.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    args = ([20.0, 20.0], [2, 0], [30.0, 0.0], [38.0, 38.0])
    undiscounted = customer_lifetime_value(m, *args, horizon=52, step=4, period=52)
    np.testing.assert_allclose(undiscounted, 20.0 * m.expected_purchases(52, *args[1:]),
                               rtol=1e-12)
    discounted = customer_lifetime_value(m, *args, horizon=52, step=4, period=52,
                                         discount_rate=0.2)
    assert (discounted < undiscounted).all() and (discounted > undiscounted / 1.2).all()
    longer = customer_lifetime_value(m, *args, horizon=104, step=4, period=52, discount_rate=0.2)
    assert (longer > discounted).all()


# --------------------------------------------------------------------- errors
def test_errors_are_typed_and_named() -> None:
    with pytest.raises(EmptyInputError, match="no customers"):
        BGNBD().fit([], [], [])
    with pytest.raises(InvalidValueError, match="min_customers=10 .* got 1"):
        BGNBD().fit([1], [2.0], [5.0])
    with pytest.raises(InvalidValueError, match="no customer has a repeat purchase"):
        BGNBD().fit(np.zeros(50), np.zeros(50), np.full(50, 30.0))
    with pytest.raises(InvalidValueError, match="t_x must be <= T"):
        BGNBD().fit([1] * 20, [40.0] * 20, [30.0] * 20)
    with pytest.raises(InvalidValueError, match="frequency must be an integer >= 0"):
        BGNBD().fit([-1] * 20, [0.0] * 20, [30.0] * 20)
    with pytest.raises(InvalidValueError, match="t_x must be 0 when frequency is 0"):
        BGNBD().fit([0] * 20, [3.0] * 20, [30.0] * 20)
    with pytest.raises(InvalidValueError, match="must be finite"):
        BGNBD().fit([1, np.nan], [1.0, 1.0], [3.0, 3.0])
    with pytest.raises(InvalidValueError, match="same length"):
        BGNBD().fit([1, 2], [1.0], [3.0, 3.0])
    with pytest.raises(InvalidDtypeError, match="1-D array"):
        BGNBD().fit(np.zeros((2, 2)), [1.0], [3.0])
    with pytest.raises(NotFittedError, match="not fitted"):
        BGNBD().p_alive([1], [1.0], [2.0])
    with pytest.raises(NotFittedError, match="not fitted"):
        GammaGamma().expected_spend([1], [1.0])
    with pytest.raises(InvalidValueError, match="monetary_value .* must be >= 0, got negative"):
        GammaGamma().fit([1] * 20, [-5.0] + [3.0] * 19)
    with pytest.raises(InvalidValueError, match="frequency >= 1"):
        GammaGamma().fit([0] + [1] * 19, [3.0] * 20)
    with pytest.raises(InvalidValueError, match="monetary_value > 0"):
        GammaGamma().fit([1] * 20, [0.0] + [3.0] * 19)
    with pytest.raises(InvalidParameterError, match="'penalizer' parameter of BGNBD"):
        BGNBD(penalizer=-1)
    with pytest.raises(InvalidParameterError, match="'horizon_days' parameter of PredictiveBuilder"):
        PredictiveBuilder(horizon_days=0)
    m = BGNBD()
    m.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    with pytest.raises(InvalidValueError, match="spend of customer_lifetime_value must be >= 0"):
        customer_lifetime_value(m, [-1.0], [1], [1.0], [2.0], horizon=10)


# ------------------------------------------------------------- the builder
@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, pd.DataFrame, Dataset]:
    buys, truth = simulate_btyd(3000, r=0.6, alpha=25.0, a=0.8, b=2.5, p=6.0, q=4.0, gamma=15.0,
                                start="2024-01-01", acquisition_days=180, end="2025-01-01",
                                random_state=0)
    inter = pd.DataFrame({"user_id": buys["user_id"], "item_id": 1,
                          "timestamp": buys["timestamp"], "price": buys["amount"]})
    # a browsing-only user (no purchase) to check NaN semantics
    inter = pd.concat([inter, pd.DataFrame({"user_id": [-1], "item_id": [1], "timestamp":
                                            [pd.Timestamp("2024-03-01")], "price": [1.0],
                                            "event": ["view"]})], ignore_index=True)
    inter["event"] = inter["event"].fillna("purchase")
    return buys, truth, Dataset.from_frames(inter)


def test_builder_on_planted_btyd_truth(planted: tuple) -> None:
    buys, truth, ds = planted
    as_of = pd.Timestamp("2024-10-01")
    prof = ProfileBuilder([RFMBuilder(), PredictiveBuilder(horizon_days=92)]).build(ds, as_of)
    f = prof.frame
    buyer = f["frequency"].notna()
    assert not buyer.loc[-1] and f.loc[-1, list(PREDICTIVE_COLUMNS)].isna().all()
    assert f.loc[buyer, list(PREDICTIVE_COLUMNS)].notna().all().all()
    assert ((f.loc[buyer, "p_alive"] > 0) & (f.loc[buyer, "p_alive"] <= 1)).all()
    # planted truth: who is still alive at as_of, and what happens next
    alive = (truth["dropout"].isna() | (truth["dropout"] >= as_of)).reindex(f.index[buyer])
    assert roc_auc_score(alive, f.loc[buyer, "p_alive"]) > 0.85
    nxt = buys[buys["timestamp"] >= as_of]
    actual = (nxt.assign(day=nxt["timestamp"].dt.floor("D"))
              .drop_duplicates(["user_id", "day"]).groupby("user_id").size()
              .reindex(f.index[buyer], fill_value=0))
    pred = f.loc[buyer, "expected_purchases"]
    assert pred.mean() == pytest.approx(actual.mean(), rel=0.15)
    assert np.corrcoef(pred, actual)[0, 1] > 0.5
    # CLV ranks the planted high spenders: top decile holds a large share of next-window spend
    spend_next = nxt.groupby("user_id")["amount"].sum().reindex(f.index[buyer], fill_value=0)
    top = f.loc[buyer, "clv"] >= f.loc[buyer, "clv"].quantile(0.9)
    assert spend_next[top].sum() / spend_next.sum() > 0.3
    assert "fitted r=" in prof.column_docs["p_alive"]
    # the same numbers as the model classes on rfm_summary
    s = rfm_summary(ds, as_of)
    bg = BGNBD().fit(s["frequency"], s["t_x"], s["T"])
    np.testing.assert_allclose(bg.p_alive(s["frequency"], s["t_x"], s["T"]),
                               f.loc[s.index, "p_alive"], rtol=1e-9)


def test_builder_features_and_default_profiles_unchanged(planted: tuple) -> None:
    _, _, ds = planted
    prof = ProfileBuilder([RFMBuilder(), PredictiveBuilder()]).build(ds, "2024-10-01")
    _, names = prof.features(blocks=["numeric"])
    assert {f"predictive:{c}" for c in PREDICTIVE_COLUMNS} <= set(names)
    default = ProfileBuilder.default().build(ds, "2024-10-01")
    assert not set(PREDICTIVE_COLUMNS) & set(default.frame.columns)


def test_builder_errors_no_purchases_and_same_day() -> None:
    views = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 1], "event": ["view", "view"],
                          "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    with pytest.raises(EmptyInputError, match="no purchase before as_of"):
        ProfileBuilder([PredictiveBuilder()]).build(Dataset.from_frames(views), "2024-02-01")
    # every customer buys on one day only (several orders that day): no repeat purchase
    same_day = pd.DataFrame({"user_id": np.repeat(np.arange(30), 2), "item_id": 1,
                             "timestamp": pd.Timestamp("2024-01-05")
                             + pd.to_timedelta(np.tile([1, 5], 30), unit="h"),
                             "price": 3.0})
    with pytest.raises(InvalidValueError, match="no customer has a repeat purchase"):
        ProfileBuilder([PredictiveBuilder()]).build(Dataset.from_frames(same_day), "2024-02-01")
    # no price anywhere: the spend model cannot be fitted, and the error says why
    buys, _ = simulate_btyd(300, r=0.6, alpha=25.0, a=0.8, b=2.5, random_state=1)
    no_price = buys[["user_id", "timestamp"]].assign(item_id=1)
    with pytest.raises(InvalidValueError, match="repeat buyer.* with a missing price"):
        ProfileBuilder([PredictiveBuilder()]).build(Dataset.from_frames(no_price), "2024-10-01")
    # a degenerate log (every customer exactly 2 repeat days): no interior optimum, typed error
    rng = np.random.default_rng(0)
    flat = pd.DataFrame({"user_id": np.repeat(np.arange(30), 3), "item_id": 1, "price": 1.0,
                         "timestamp": pd.Timestamp("2024-01-01")
                         + pd.to_timedelta(rng.integers(0, 30, 90), unit="D")})
    with pytest.raises(InvalidValueError, match="did not converge"):
        ProfileBuilder([PredictiveBuilder()]).build(Dataset.from_frames(flat), "2024-02-01")
    one = same_day[same_day["user_id"] == 0]
    with pytest.raises(InvalidValueError, match="min_customers=10"):
        ProfileBuilder([PredictiveBuilder()]).build(Dataset.from_frames(one), "2024-02-01")


def test_rfm_summary_counts_days_not_orders() -> None:
    inter = pd.DataFrame({
        "user_id": ["a"] * 4 + ["b"],
        "item_id": [1, 2, 1, 3, 1],
        "timestamp": pd.to_datetime(["2024-01-01 08:00", "2024-01-01 20:00", "2024-01-04 00:00",
                                     "2024-01-09 12:00", "2024-01-08 00:00"]),
        "price": [2.0, 3.0, 4.0, 6.0, 1.0],
    })
    s = rfm_summary(Dataset.from_frames(inter), as_of="2024-01-10")
    assert s.loc["a"].tolist() == [2.0, 8.0, 9.0, 5.0, 5.0]
    assert s.loc["b"].tolist() == [0.0, 0.0, 2.0, 0.0, 1.0]
    assert rfm_summary(Dataset.from_frames(inter), as_of="2024-01-02").index.tolist() == ["a"]


def test_predictive_tags(planted: tuple) -> None:
    from persona_rec.tags import Tagger, Taxonomy

    buys, truth, ds = planted
    as_of = pd.Timestamp("2024-10-01")
    prof = ProfileBuilder(ProfileBuilder.default().builders + [PredictiveBuilder()]).build(
        ds, as_of)
    tax = Taxonomy.default(prof)
    assert tax["lifecycle/likely_churned"].rule == "p_alive < 0.3"
    assert tax["value/high_potential_clv"].rule == "quantile(clv) >= 0.8"
    ut = Tagger(tax).assign(prof)
    churned = ut.users_with("lifecycle/likely_churned")
    high = ut.users_with("value/high_potential_clv")
    buyers = prof.frame.index[prof.frame["frequency"].notna()]
    assert 0 < len(churned) < len(buyers) and len(high) == pytest.approx(0.2 * len(buyers), rel=0.05)
    # planted truth: tagged "likely churned" users have mostly dropped out already
    dead = truth["dropout"].notna() & (truth["dropout"] < as_of)
    assert dead.reindex(churned).mean() > 0.8 > dead.reindex(buyers).mean()
    # without predictive columns the default taxonomy is unchanged
    plain = Taxonomy.default(ProfileBuilder.default().build(ds, as_of))
    assert "lifecycle/likely_churned" not in plain and "value/high_potential_clv" not in plain
    with pytest.raises(InvalidParameterError, match="likely_churned_threshold"):
        Taxonomy.default(prof, likely_churned_threshold=0)


def test_bgnbd_no_dropout_limit_is_reported() -> None:
    # NBD data (nobody drops out): the likelihood is maximised as a -> 0
    rng = np.random.default_rng(11)
    n = 4000
    lam = rng.gamma(0.7, 1 / 30.0, size=n)
    T = rng.uniform(100, 300, size=n)
    x = rng.poisson(lam * T).astype(float)
    tx = np.where(x > 0, T * rng.beta(np.maximum(x, 1), 1.0), 0.0)  # max of x uniforms
    m = BGNBD().fit(x, tx, T)
    assert m.no_dropout_ and "no drop-out identified" in m.fit_message_
    assert m.params_["a"] < 1e-6
    assert m.params_["r"] == pytest.approx(0.7, rel=0.1)
    assert m.params_["alpha"] == pytest.approx(30.0, rel=0.15)
    np.testing.assert_allclose(m.p_alive(x, tx, T), 1.0, atol=1e-5)
    # the NBD conditional expectation (r + x) / (alpha + T) * t
    want = (m.params_["r"] + x) / (m.params_["alpha"] + T) * 90.0
    np.testing.assert_allclose(m.expected_purchases(90.0, x, tx, T), want, rtol=1e-3)
    assert BGNBD().fit(x, tx, T).params_ == m.params_
    # planted drop-out is not mistaken for the limit
    x2, tx2, T2 = sample_bgnbd(4000, r=0.7, alpha=30.0, a=0.8, b=2.5, T=T, random_state=2)
    assert not BGNBD().fit(x2, tx2, T2).no_dropout_


# --------------------------------------------------------------- properties
def test_time_unit_invariance() -> None:
    # days vs weeks: r, a, b unchanged, alpha scales by 7, predictions identical
    x, tx, T = sample_bgnbd(3000, r=0.5, alpha=20.0, a=0.8, b=2.5, T=np.linspace(50, 300, 3000),
                            random_state=5)
    days = BGNBD().fit(x, tx, T)
    weeks = BGNBD().fit(x, tx / 7, T / 7)
    for k in ("r", "a", "b"):
        assert weeks.params_[k] == pytest.approx(days.params_[k], rel=1e-4)
    assert weeks.params_["alpha"] * 7 == pytest.approx(days.params_["alpha"], rel=1e-4)
    np.testing.assert_allclose(weeks.expected_purchases(10, x, tx / 7, T / 7),
                               days.expected_purchases(70, x, tx, T), rtol=1e-3)


@settings(max_examples=60, deadline=None)
@example(r=1.0, alpha=1.0, a=1.0, b=1.0, x=0, frac=0.0, T=1.0, t=1.0)  # the 0/0 point a = 1
@example(r=1.0, alpha=1.0, a=0.5, b=0.5, x=0, frac=0.0, T=1.0, t=1.0)  # a + b = 1, no repeats
@example(r=0.05, alpha=0.1, a=0.05, b=6.92, x=0, frac=0.0, T=0.5, t=376.8)  # r = a, z near 1
@given(
    r=st.floats(0.05, 5), alpha=st.floats(0.1, 200), a=st.floats(0.05, 5), b=st.floats(0.05, 10),
    x=st.integers(0, 60), frac=st.floats(0, 1), T=st.floats(0.5, 500), t=st.floats(0.1, 400),
)
def test_prediction_properties(r, alpha, a, b, x, frac, T, t) -> None:
    m = BGNBD()
    m.params_ = {"r": r, "alpha": alpha, "a": a, "b": b}
    tx = frac * T if x > 0 else 0.0
    pa = m.p_alive([x], [tx], [T])[0]
    assert 0 < pa <= 1
    e1 = m.expected_purchases(t, [x], [tx], [T])[0]
    e2 = m.expected_purchases(2 * t, [x], [tx], [T])[0]
    assert np.isfinite(e1) and 0 <= e1 <= e2 * (1 + 1e-9) + 1e-12
    # an alive customer buys at most at the posterior-mean rate: E <= P(alive) (r+x)/(alpha+T) t
    assert e1 <= pa * (r + x) / (alpha + T) * t * (1 + 1e-6) + 1e-9
    n1, n2 = m.expected_purchases_new([t, 2 * t])
    assert np.isfinite(n1) and 0 <= n1 <= n2 * (1 + 1e-9) + 1e-12


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning",
                            "ignore:The 'mode.chained_assignment' option")
def test_agrees_with_lifetimes_on_cdnow(cdnow: pd.DataFrame, cdnow_bg: BGNBD) -> None:
    import lifetimes  # test extra: an ImportError fails the test, it does not skip
    x, tx, T = (cdnow[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    lt = lifetimes.BetaGeoFitter().fit(x, tx, T)
    for k in ("r", "alpha", "a", "b"):
        assert cdnow_bg.params_[k] == pytest.approx(float(lt.params_[k]), rel=1e-4)
    np.testing.assert_allclose(cdnow_bg.expected_purchases(39, x, tx, T),
                               lt.conditional_expected_number_of_purchases_up_to_time(39, x, tx, T),
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(cdnow_bg.p_alive(x, tx, T),
                               lt.conditional_probability_alive(x, tx, T), rtol=1e-4)


def test_profiles_with_predictive_columns_round_trip(planted: tuple, tmp_path) -> None:
    from persona_rec.profiles import Profiles

    _, _, ds = planted
    prof = ProfileBuilder([RFMBuilder(), PredictiveBuilder()]).build(ds, "2024-10-01")
    back = Profiles.load(prof.save(tmp_path / "p.npz"))
    pd.testing.assert_frame_equal(back.frame, prof.frame)
    assert back.column_docs["clv"] == prof.column_docs["clv"]
