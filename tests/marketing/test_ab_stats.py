"""Tests for persona_rec.marketing.ab_stats.

Reference numbers were computed once with statsmodels 0.15.0 (installed only
to produce them, 2026-11-24) and scipy 1.17.1:
``proportions_ztest``, ``confint_proportions_2indep(method="newcomb"/"wald")``,
``CompareMeans(DescrStatsW(x), DescrStatsW(y)).tconfint_diff(usevar="unequal")``,
``NormalIndPower().solve_power(proportion_effectsize(p_t, p_c), ...)``,
``TTestIndPower().solve_power(d, ...)`` and ``scipy.stats.chisquare``.
statsmodels is not needed to run these tests.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from persona_rec.exceptions import InvalidParameterError, InvalidValueError
from persona_rec.marketing.ab_stats import (
    mean_diff_ci,
    power_means,
    power_proportions,
    proportion_diff_ci,
    proportion_ratio_ci,
    sample_ratio_mismatch,
    sample_size_means,
    sample_size_proportions,
    two_proportion_ztest,
    welch_ttest,
)

X = [16.68, 13.37, 11.46, 17.46, 11.09, 23.82, 18.06, 16.29, 4.64, 2.4, 5.07, 18.77, 16.05, 3.69,
     18.63, 8.25, 8.26, 30.89, 15.27, 17.5, 17.67, 3.61, 18.26, 58.13, 5.48, 25.28, 27.13, 26.85,
     9.38, 11.37, 5.56, 14.26, 36.25, 8.37, 1.91, 15.44, 27.25, 12.35, 45.09, 13.05]
Y = [12.12, 4.82, 9.26, 21.28, 21.5, 27.42, 20.31, 17.24, 1.42, 6.03, 52.55, 7.87, 19.1, 11.32,
     19.46, 12.53, 5.14, 6.29, 15.42, 8.11, 1.51, 17.44, 24.13, 22.78, 23.11, 2.93, 34.45, 10.7,
     5.58, 8.48, 6.7, 4.01, 11.8, 13.47, 10.24, 13.42, 10.47, 6.62, 7.53, 17.13, 3.25, 7.81, 22.46,
     14.08, 18.6, 11.91, 4.3, 8.75, 12.99, 8.75, 10.45, 13.56, 21.67, 8.32, 25.74]


def test_ztest_matches_statsmodels():
    r = two_proportion_ztest(60, 500, 40, 500)
    assert r.statistic == pytest.approx(2.1081851067789192, rel=1e-12)
    assert r.p_value == pytest.approx(0.03501498101966254, rel=1e-10)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.002698550404143081, 0.07762656805570067), rel=1e-9)
    assert r.effect == pytest.approx(0.04)
    assert r.relative_effect == pytest.approx(0.5)
    assert r.significant
    r = two_proportion_ztest(130, 1000, 95, 1200, alternative="larger")
    assert r.statistic == pytest.approx(3.9181020501735673, rel=1e-12)
    assert r.p_value == pytest.approx(4.4624461500408274e-05, rel=1e-8)


def test_proportion_ci_matches_statsmodels():
    assert proportion_diff_ci(60, 500, 40, 500, method="wald") == pytest.approx(
        (0.0028950294254694794, 0.0771049705745305), rel=1e-10
    )
    assert proportion_diff_ci(3, 50, 0, 40) == pytest.approx(
        (-0.03606625607875302, 0.16217091688838173), rel=1e-9
    )
    assert proportion_diff_ci(130, 1000, 95, 1200, method="wald", alpha=0.1) == pytest.approx(
        (0.029145614140516626, 0.07252105252615006), rel=1e-10
    )


def test_ratio_ci_matches_statsmodels():
    # confint_proportions_2indep(..., compare="ratio", method="log")
    r, lo, hi = proportion_ratio_ci(60, 500, 20, 500)
    assert r == pytest.approx(3.0)
    assert (lo, hi) == pytest.approx((1.836696185215442, 4.9001027347069455), rel=1e-10)
    r, lo, hi = proportion_ratio_ci(113, 480, 37, 500, alpha=0.1)
    assert (lo, hi) == pytest.approx((2.372640826896874, 4.265588663826937), rel=1e-10)
    r, lo, hi = proportion_ratio_ci(5, 100, 0, 100)
    assert r == np.inf and np.isnan(lo) and np.isnan(hi)


def test_welch_matches_statsmodels_and_scipy():
    r = welch_ttest([3.0, 4.0, 5.0, 6.0], [1.0, 2.0, 3.0])
    assert r.statistic == pytest.approx(2.886751345948129, rel=1e-12)
    assert r.p_value == pytest.approx(0.03464755328828573, rel=1e-9)
    assert r.df == pytest.approx(4.959183673469387, rel=1e-12)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.26828851866121184, 4.731711481338788), rel=1e-9)
    r = welch_ttest(X, Y, alpha=0.1)
    assert r.statistic == pytest.approx(1.3479543497959714, rel=1e-10)
    assert r.p_value == pytest.approx(0.18195115265595496, rel=1e-8)
    assert r.df == pytest.approx(71.11735541488363, rel=1e-10)
    assert (r.ci_low, r.ci_high) == pytest.approx((-0.7032389781253867, 6.653693523579938), rel=1e-9)
    assert mean_diff_ci(X, Y, alpha=0.1) == pytest.approx((r.ci_low, r.ci_high))
    one = welch_ttest(X, Y, alternative="larger")
    assert one.p_value == pytest.approx(r.p_value / 2, rel=1e-9)


@pytest.mark.parametrize(
    ("p_c", "p_t", "kw", "expected"),
    [
        (0.10, 0.12, {}, 3834.595739884031),
        (0.05, 0.06, {"power": 0.9}, 10900.647907837296),
        (0.20, 0.25, {"ratio": 2.0}, 818.9221190753055),
        (0.10, 0.13, {"alternative": "larger"}, 1392.7306793740722),
    ],
)
def test_sample_size_proportions_matches_statsmodels(p_c, p_t, kw, expected):
    s = sample_size_proportions(p_c, p_t, **kw)
    assert s.n_control_exact == pytest.approx(expected, rel=1e-7)
    assert s.n_control == int(np.ceil(expected))
    assert s.n_treatment == int(np.ceil(expected * kw.get("ratio", 1.0)))
    assert s.power >= kw.get("power", 0.8)


@pytest.mark.parametrize(
    ("mde", "sd", "kw", "expected"),
    [
        (0.5, 1.0, {}, 63.76561058891169),
        (2.0, 10.0, {"power": 0.9}, 526.3331885760532),
        (1.0, 3.0, {"ratio": 0.5, "alpha": 0.01}, 317.5507671767868),
        (0.3, 1.0, {"alternative": "larger"}, 138.0715508961811),
    ],
)
def test_sample_size_means_matches_statsmodels(mde, sd, kw, expected):
    s = sample_size_means(mde, sd, **kw)
    assert s.n_control_exact == pytest.approx(expected, rel=1e-7)
    assert s.n_control == int(np.ceil(expected))


def test_power_matches_statsmodels():
    assert power_proportions(0.10, 0.12, 3841) == pytest.approx(0.8006540434999158, rel=1e-10)
    assert power_proportions(0.10, 0.12, 2000, ratio=1.5) == pytest.approx(0.6012096739335964, rel=1e-10)
    # the non-central t of older scipy (the declared floor) agrees to ~1e-8 only
    assert power_means(0.5, 1.0, 64) == pytest.approx(0.8014595579222542, rel=1e-7)
    assert power_means(0.25, 1.0, 100, ratio=2.0) == pytest.approx(0.5298043621056179, rel=1e-7)
    # power grows with n and equals alpha-ish under no effect
    assert power_proportions(0.1, 0.1, 1000) == pytest.approx(0.05)


def test_srm_matches_scipy():
    r = sample_ratio_mismatch({"control": 5000, "treatment": 5200})
    assert r.statistic == pytest.approx(3.9215686274509802)
    assert r.p_value == pytest.approx(0.0476703806561615, rel=1e-9)
    assert not r.mismatch
    r = sample_ratio_mismatch({"a": 1000, "b": 2100, "c": 950}, {"a": 1, "b": 2, "c": 1})
    assert r.statistic == pytest.approx(6.790123456790123)
    assert r.p_value == pytest.approx(0.03353848383147017, rel=1e-9)
    assert r.expected == pytest.approx({"a": 1012.5, "b": 2025.0, "c": 1012.5})
    assert sample_ratio_mismatch([821, 1179]).mismatch


def test_degenerate_cases():
    r = two_proportion_ztest(0, 100, 0, 80)
    assert (r.statistic, r.p_value, r.effect) == (0.0, 1.0, 0.0)
    r = welch_ttest([2.0, 2.0, 2.0], [2.0, 2.0])
    assert (r.statistic, r.p_value) == (0.0, 1.0)
    r = welch_ttest([3.0, 3.0], [2.0, 2.0])
    assert r.statistic == np.inf and r.p_value == 0.0


def test_bad_input_errors():
    with pytest.raises(InvalidValueError, match=r"'x_treatment' must be an int count between 0 and n_treatment=10, got 11"):
        two_proportion_ztest(11, 10, 1, 10)
    with pytest.raises(InvalidValueError, match=r"'n_control' must be an int >= 1.*got 0"):
        two_proportion_ztest(1, 10, 0, 0)
    with pytest.raises(InvalidParameterError, match=r"'alternative' parameter must be one of .*got 'bigger'"):
        two_proportion_ztest(1, 10, 1, 10, alternative="bigger")
    with pytest.raises(InvalidParameterError, match=r"'alpha' parameter must be a number > 0.0 and < 1.0, got 1.5"):
        welch_ttest([1, 2], [3, 4], alpha=1.5)
    with pytest.raises(InvalidValueError, match=r"'control' must hold at least 2 observations.*got 1"):
        welch_ttest([1, 2], [3])
    with pytest.raises(InvalidValueError, match=r"'treatment' must hold finite numbers"):
        welch_ttest([1, np.nan], [3, 4])
    with pytest.raises(InvalidParameterError, match=r"'p_treatment' parameter must give an effect"):
        sample_size_proportions(0.1, 0.1)
    with pytest.raises(InvalidParameterError, match=r"'mde' parameter must give an effect in the tested direction \(alternative='larger'\)"):
        sample_size_means(-1.0, 2.0, alternative="larger")
    with pytest.raises(InvalidParameterError, match=r"'std' parameter must be a number > 0.0, got 0"):
        sample_size_means(1.0, 0)
    with pytest.raises(InvalidValueError, match=r"'expected_ratios' must hold 2 positive numbers, got \[1.0, -1.0\]"):
        sample_ratio_mismatch([10, 10], [1, -1])
    with pytest.raises(InvalidValueError, match=r"'counts' must hold at least 2 groups, got 1"):
        sample_ratio_mismatch([10])


counts = st.integers(min_value=1, max_value=5000)


@st.composite
def two_groups(draw):
    nt, nc = draw(counts), draw(counts)
    return draw(st.integers(0, nt)), nt, draw(st.integers(0, nc)), nc


@settings(max_examples=200, deadline=None)
@given(two_groups(), st.sampled_from(["newcombe", "wald"]))
def test_swap_flips_proportion_effect(g, method):
    xt, nt, xc, nc = g
    a = two_proportion_ztest(xt, nt, xc, nc, ci_method=method)
    b = two_proportion_ztest(xc, nc, xt, nt, ci_method=method)
    assert b.effect == pytest.approx(-a.effect, abs=1e-12)
    assert b.statistic == pytest.approx(-a.statistic, abs=1e-9)
    assert (b.ci_low, b.ci_high) == pytest.approx((-a.ci_high, -a.ci_low), abs=1e-12)
    assert b.p_value == pytest.approx(a.p_value, abs=1e-12)
    assert 0.0 <= a.p_value <= 1.0
    assert a.ci_low <= a.effect + 1e-12 and a.effect <= a.ci_high + 1e-12
    larger = two_proportion_ztest(xt, nt, xc, nc, alternative="larger")
    smaller = two_proportion_ztest(xt, nt, xc, nc, alternative="smaller")
    assert 0.0 <= larger.p_value <= 1.0 and 0.0 <= smaller.p_value <= 1.0


samples = st.lists(
    st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False), min_size=2, max_size=40
)


@pytest.mark.filterwarnings("ignore:Precision loss")
@settings(max_examples=200, deadline=None)
@given(samples, samples, st.sampled_from(["two-sided", "larger", "smaller"]))
def test_swap_flips_mean_effect(t, c, alternative):
    a = welch_ttest(t, c, alternative=alternative)
    b = welch_ttest(c, t)
    assert b.effect == pytest.approx(-a.effect, abs=1e-9)
    assert (b.ci_low, b.ci_high) == pytest.approx((-a.ci_high, -a.ci_low), abs=1e-6)
    assert 0.0 <= a.p_value <= 1.0 and 0.0 <= b.p_value <= 1.0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=2, max_size=5).filter(lambda v: sum(v) > 0))
def test_srm_p_value_in_unit_interval(v):
    r = sample_ratio_mismatch(v)
    assert 0.0 <= r.p_value <= 1.0


def test_power_reaches_target_at_solved_size():
    s = sample_size_proportions(0.03, 0.036, power=0.9, ratio=0.5)
    assert power_proportions(0.03, 0.036, s.n_control, ratio=0.5, alpha=0.05) >= 0.9 - 1e-6
    assert power_proportions(0.03, 0.036, s.n_control - 50, ratio=0.5) < 0.9
