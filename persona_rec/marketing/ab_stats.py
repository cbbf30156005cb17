"""A/B-test statistics: significance tests, confidence intervals, power and SRM.

Every two-group function takes the **treatment** group first and the
**control** group second and reports ``effect = treatment - control``, so
swapping the groups flips the sign of the effect and mirrors its confidence
interval.

The formulas follow the conventions of ``statsmodels`` (``proportions_ztest``
with pooled variance, ``confint_proportions_2indep`` with Wald or Newcombe
intervals, ``NormalIndPower`` / ``TTestIndPower`` for power), but only scipy
is needed at run time.

This module is one cohesive unit, the statistics of a two-group experiment
sharing their argument checks and power formulas, hence its length.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .._lazy import lazy_module
from .._text import fill_doc
from .._validation import check_choice, check_number
from ..exceptions import InvalidParameterError, InvalidValueError

# scipy.stats costs ~0.3 s to import: load it on first use
optimize = lazy_module("scipy.optimize")
stats = lazy_module("scipy.stats")

__all__ = [
    "TestResult",
    "SampleSize",
    "SRMResult",
    "two_proportion_ztest",
    "proportion_diff_ci",
    "proportion_ratio_ci",
    "welch_ttest",
    "mean_diff_ci",
    "power_proportions",
    "power_means",
    "sample_size_proportions",
    "sample_size_means",
    "sample_ratio_mismatch",
    "ALTERNATIVES",
]

#: Allowed values of ``alternative`` (statsmodels naming: ``"larger"`` means
#: treatment > control).
ALTERNATIVES = ("two-sided", "larger", "smaller")


@dataclass(frozen=True)
class TestResult:
    """Outcome of a two-group comparison (treatment minus control).

    Attributes
    ----------
    test : str
        ``"two-proportion z-test"`` or ``"Welch t-test"``.
    effect : float
        Treatment estimate minus control estimate (absolute difference).
    ci_low, ci_high : float
        Two-sided ``1 - alpha`` confidence interval of ``effect``.
    statistic : float
        z or t statistic (sign follows ``effect``).
    p_value : float
        p-value for ``alternative``, in ``[0, 1]``.
    estimate_treatment, estimate_control : float
        Group rates (proportions) or means.
    n_treatment, n_control : int
        Group sizes.
    alpha : float
        Significance level used for the interval and :attr:`significant`.
    alternative : str
        ``"two-sided"``, ``"larger"`` (treatment > control) or ``"smaller"``.
    relative_effect : float
        ``effect / estimate_control`` (NaN when the control estimate is 0).
    df : float
        Degrees of freedom (Welch test only; ``inf`` for the z-test).
    """

    __test__ = False  # not a pytest test class despite the name

    test: str
    effect: float
    ci_low: float
    ci_high: float
    statistic: float
    p_value: float
    estimate_treatment: float
    estimate_control: float
    n_treatment: int
    n_control: int
    alpha: float
    alternative: str
    relative_effect: float = field(default=float("nan"))
    df: float = field(default=float("inf"))

    @property
    def significant(self) -> bool:
        """Whether ``p_value < alpha``."""
        return bool(self.p_value < self.alpha)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields (and ``significant``) as a plain dict."""
        out = asdict(self)
        out["significant"] = self.significant
        return out


@dataclass(frozen=True)
class SampleSize:
    """Required group sizes for a two-group test.

    Attributes
    ----------
    n_control, n_treatment, n_total : int
        Rounded-up group sizes (``n_treatment = ceil(ratio * n_control_exact)``).
    n_control_exact : float
        Unrounded control size solving the power equation.
    effect_size : float
        Standardised effect (Cohen's h for proportions, Cohen's d for means).
    power : float
        Power achieved with the rounded sizes (>= the requested power).
    """

    n_control: int
    n_treatment: int
    n_total: int
    n_control_exact: float
    effect_size: float
    power: float


@dataclass(frozen=True)
class SRMResult:
    """Sample-ratio-mismatch check (chi-square goodness of fit).

    Attributes
    ----------
    statistic, p_value : float
        Chi-square statistic and p-value.
    mismatch : bool
        ``p_value < alpha``: the split differs from the planned ratios.
    observed, expected : dict
        Observed and expected counts per group.
    alpha : float
        Threshold used for :attr:`mismatch` (0.001 by convention).
    """

    statistic: float
    p_value: float
    mismatch: bool
    observed: dict[Any, float]
    expected: dict[Any, float]
    alpha: float


# --------------------------------------------------------------------- helpers
def _check_alpha(alpha: float, name: str = "alpha") -> float:
    return check_number(alpha, name, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)


def _check_count(x: Any, n: Any, xname: str, nname: str) -> tuple[float, float]:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidValueError(f"'{nname}' must be an int >= 1 (group size), got {n!r}.")
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or not 0 <= x <= n:
        raise InvalidValueError(
            f"'{xname}' must be an int count between 0 and {nname}={n}, got {x!r}."
        )
    return float(x), float(n)


def _p_from_z(z: float, alternative: str) -> float:
    if alternative == "two-sided":
        p = 2.0 * stats.norm.sf(abs(z))
    elif alternative == "larger":
        p = stats.norm.sf(z)
    else:
        p = stats.norm.cdf(z)
    return float(min(max(p, 0.0), 1.0))


def _wilson(x: float, n: float, z: float) -> tuple[float, float]:
    p = x / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


# ---------------------------------------------------------------- proportions
def proportion_diff_ci(
    x_treatment: int,
    n_treatment: int,
    x_control: int,
    n_control: int,
    *,
    alpha: float = 0.05,
    method: str = "newcombe",
) -> tuple[float, float]:
    """Confidence interval of ``p_treatment - p_control``.

    Parameters
    ----------
    x_treatment, n_treatment : int
        Successes and size of the treatment group.
    x_control, n_control : int
        Successes and size of the control group.
    alpha : float, default 0.05
        Two-sided interval level is ``1 - alpha``.
    method : {"newcombe", "wald"}, default "newcombe"
        ``"newcombe"``: hybrid Wilson-score interval (Newcombe 1998, method 10;
        statsmodels ``confint_proportions_2indep`` default), good coverage for
        small or extreme rates. ``"wald"``: ``diff +- z * unpooled SE``.

    Returns
    -------
    (float, float)
        Lower and upper bounds.

    Examples
    --------
    >>> lo, hi = proportion_diff_ci(60, 500, 40, 500, method="wald")
    >>> round(lo, 4), round(hi, 4)
    (0.0029, 0.0771)
    """
    xt, nt = _check_count(x_treatment, n_treatment, "x_treatment", "n_treatment")
    xc, nc = _check_count(x_control, n_control, "x_control", "n_control")
    alpha = _check_alpha(alpha)
    check_choice(method, "method", ("newcombe", "wald"))
    z = stats.norm.isf(alpha / 2)
    pt, pc = xt / nt, xc / nc
    diff = pt - pc
    if method == "wald":
        se = np.sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc)
        return float(diff - z * se), float(diff + z * se)
    lt, ut = _wilson(xt, nt, z)
    lc, uc = _wilson(xc, nc, z)
    low = diff - np.sqrt((pt - lt) ** 2 + (uc - pc) ** 2)
    high = diff + np.sqrt((ut - pt) ** 2 + (pc - lc) ** 2)
    return float(low), float(high)


def proportion_ratio_ci(
    x_treatment: int,
    n_treatment: int,
    x_control: int,
    n_control: int,
    *,
    alpha: float = 0.05,
) -> tuple[float, float, float]:
    """Ratio ``p_treatment / p_control`` (the *lift*) with a log-scale CI.

    Uses the Katz log method (statsmodels
    ``confint_proportions_2indep(compare="ratio", method="log")``):
    ``exp(log(r) +- z * sqrt(1/x_t - 1/n_t + 1/x_c - 1/n_c))``.

    Parameters
    ----------
    x_treatment, n_treatment : int
        Successes and size of the treatment (e.g. targeted) group.
    x_control, n_control : int
        Successes and size of the control (e.g. random) group.
    alpha : float, default 0.05
        Interval level ``1 - alpha``.

    Returns
    -------
    (float, float, float)
        Ratio, lower and upper bound. With zero successes in a group the
        bounds are not defined: ``(ratio, nan, nan)`` (ratio is ``inf`` or
        NaN when ``x_control`` is 0).

    Examples
    --------
    >>> r, lo, hi = proportion_ratio_ci(60, 500, 20, 500)
    >>> round(r, 2), round(lo, 2), round(hi, 2)
    (3.0, 1.84, 4.9)
    """
    xt, nt = _check_count(x_treatment, n_treatment, "x_treatment", "n_treatment")
    xc, nc = _check_count(x_control, n_control, "x_control", "n_control")
    alpha = _check_alpha(alpha)
    pt, pc = xt / nt, xc / nc
    ratio = pt / pc if pc > 0 else (float("inf") if pt > 0 else float("nan"))
    if xt == 0 or xc == 0:
        return float(ratio), float("nan"), float("nan")
    z = stats.norm.isf(alpha / 2)
    se = np.sqrt(1 / xt - 1 / nt + 1 / xc - 1 / nc)
    return float(ratio), float(ratio * np.exp(-z * se)), float(ratio * np.exp(z * se))


def two_proportion_ztest(
    x_treatment: int,
    n_treatment: int,
    x_control: int,
    n_control: int,
    *,
    alternative: str = "two-sided",
    alpha: float = 0.05,
    ci_method: str = "newcombe",
) -> TestResult:
    """Two-proportion z-test (pooled variance) with a CI of the difference.

    Parameters
    ----------
    x_treatment, n_treatment : int
        Conversions and size of the treatment group.
    x_control, n_control : int
        Conversions and size of the control group.
    alternative : {"two-sided", "larger", "smaller"}, default "two-sided"
        ``"larger"`` tests treatment rate > control rate.
    alpha : float, default 0.05
        Significance level and ``1 - alpha`` interval level.
    ci_method : {"newcombe", "wald"}, default "newcombe"
        See :func:`proportion_diff_ci`.

    Returns
    -------
    TestResult
        ``statistic`` is ``(p_t - p_c) / sqrt(p(1-p)(1/n_t + 1/n_c))`` with the
        pooled rate ``p``; equal to statsmodels ``proportions_ztest``. When both
        groups convert at 0% or 100% the statistic is 0 and the p-value 1.

    Examples
    --------
    >>> r = two_proportion_ztest(60, 500, 40, 500)
    >>> round(r.effect, 3), round(r.statistic, 4), round(r.p_value, 4)
    (0.04, 2.1082, 0.035)
    >>> r.significant
    True
    """
    xt, nt = _check_count(x_treatment, n_treatment, "x_treatment", "n_treatment")
    xc, nc = _check_count(x_control, n_control, "x_control", "n_control")
    check_choice(alternative, "alternative", ALTERNATIVES)
    alpha = _check_alpha(alpha)
    pt, pc = xt / nt, xc / nc
    diff = pt - pc
    pooled = (xt + xc) / (nt + nc)
    var = pooled * (1 - pooled) * (1 / nt + 1 / nc)
    z = 0.0 if var <= 0 else diff / np.sqrt(var)
    p_value = _p_from_z(z, alternative) if var > 0 else 1.0
    lo, hi = proportion_diff_ci(
        x_treatment, n_treatment, x_control, n_control, alpha=alpha, method=ci_method
    )
    return TestResult(
        test="two-proportion z-test",
        effect=float(diff),
        ci_low=lo,
        ci_high=hi,
        statistic=float(z),
        p_value=p_value,
        estimate_treatment=float(pt),
        estimate_control=float(pc),
        n_treatment=int(nt),
        n_control=int(nc),
        alpha=alpha,
        alternative=alternative,
        relative_effect=float(diff / pc) if pc > 0 else float("nan"),
    )


# ---------------------------------------------------------------------- means
def _as_sample(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size < 2:
        raise InvalidValueError(
            f"'{name}' must hold at least 2 observations for a t-test, got {arr.size}."
        )
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)][:3].tolist()
        raise InvalidValueError(f"'{name}' must hold finite numbers, got e.g. {bad}.")
    return arr


def _welch_parts(t: np.ndarray, c: np.ndarray) -> tuple[float, float, float]:
    vt, vc = t.var(ddof=1) / t.size, c.var(ddof=1) / c.size
    se = float(np.sqrt(vt + vc))
    if se == 0:
        return 0.0, 0.0, float(t.size + c.size - 2)
    wt, wc = vt / (vt + vc), vc / (vt + vc)  # scale-free: no under/overflow for tiny variances
    df = 1.0 / (wt**2 / (t.size - 1) + wc**2 / (c.size - 1))
    return float(t.mean() - c.mean()), se, float(df)


def mean_diff_ci(
    treatment: Sequence[float] | np.ndarray,
    control: Sequence[float] | np.ndarray,
    *,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """Welch confidence interval of ``mean(treatment) - mean(control)``.

    Uses the Welch-Satterthwaite degrees of freedom (statsmodels
    ``CompareMeans.tconfint_diff(usevar="unequal")``).

    Parameters
    ----------
    treatment, control : array-like of float
        Per-user outcomes (at least 2 each).
    alpha : float, default 0.05
        Interval level is ``1 - alpha``.

    Returns
    -------
    (float, float)
        Lower and upper bounds.

    Examples
    --------
    >>> lo, hi = mean_diff_ci([3.0, 4.0, 5.0, 6.0], [1.0, 2.0, 3.0])
    >>> round(lo, 3), round(hi, 3)
    (0.268, 4.732)
    """
    t = _as_sample(treatment, "treatment")
    c = _as_sample(control, "control")
    alpha = _check_alpha(alpha)
    diff = float(t.mean() - c.mean())
    _, se, df = _welch_parts(t, c)
    if se == 0:
        return diff, diff
    q = stats.t.isf(alpha / 2, df)
    return float(diff - q * se), float(diff + q * se)


def welch_ttest(
    treatment: Sequence[float] | np.ndarray,
    control: Sequence[float] | np.ndarray,
    *,
    alternative: str = "two-sided",
    alpha: float = 0.05,
) -> TestResult:
    """Welch's unequal-variance t-test (``scipy.stats.ttest_ind(equal_var=False)``).

    Parameters
    ----------
    treatment, control : array-like of float
        Per-user outcomes such as revenue per user (at least 2 each).
    alternative : {"two-sided", "larger", "smaller"}, default "two-sided"
        ``"larger"`` tests mean(treatment) > mean(control).
    alpha : float, default 0.05
        Significance level and ``1 - alpha`` interval level.

    Returns
    -------
    TestResult
        When both samples are constant the statistic is 0 (equal means,
        p-value 1) or +-inf (different means, p-value 0).

    Examples
    --------
    >>> r = welch_ttest([3.0, 4.0, 5.0, 6.0], [1.0, 2.0, 3.0])
    >>> round(r.statistic, 4), round(r.p_value, 4), round(r.df, 3)
    (2.8868, 0.0346, 4.959)
    """
    t = _as_sample(treatment, "treatment")
    c = _as_sample(control, "control")
    check_choice(alternative, "alternative", ALTERNATIVES)
    alpha = _check_alpha(alpha)
    diff, se, df = _welch_parts(t, c)
    diff = float(t.mean() - c.mean())
    if se == 0:
        if diff == 0:
            stat, p = 0.0, 1.0
        else:
            stat = float(np.copysign(np.inf, diff))
            favours = (diff > 0) if alternative == "larger" else (diff < 0)
            p = 0.0 if alternative == "two-sided" or favours else 1.0
        lo = hi = diff
    else:
        scipy_alt = {"two-sided": "two-sided", "larger": "greater", "smaller": "less"}[alternative]
        res = stats.ttest_ind(t, c, equal_var=False, alternative=scipy_alt)
        stat, p = float(res.statistic), float(res.pvalue)
        if not (np.isfinite(stat) and np.isfinite(p)):  # extreme scales: own Welch formula
            stat = diff / se
            p = {
                "two-sided": 2 * stats.t.sf(abs(stat), df),
                "larger": stats.t.sf(stat, df),
                "smaller": stats.t.cdf(stat, df),
            }[alternative]
        p = float(min(max(p, 0.0), 1.0))
        q = stats.t.isf(alpha / 2, df)
        lo, hi = diff - q * se, diff + q * se
    mc = float(c.mean())
    return TestResult(
        test="Welch t-test",
        effect=diff,
        ci_low=float(lo),
        ci_high=float(hi),
        statistic=stat,
        p_value=p,
        estimate_treatment=float(t.mean()),
        estimate_control=mc,
        n_treatment=int(t.size),
        n_control=int(c.size),
        alpha=alpha,
        alternative=alternative,
        relative_effect=diff / mc if mc != 0 else float("nan"),
        df=df,
    )


# ----------------------------------------------------------------------- power
# The options of the power and sample-size functions, each described once.
_POWER_DOC = """power : float, default 0.8
    Target power (1 - type II error)."""
_ALPHA_DOC = """alpha : float, default 0.05
    Significance level."""
_RATIO_DOC = """ratio : float, default 1.0
    ``n_treatment / n_control``."""
_ALTERNATIVE_DOC = """alternative : {"two-sided", "larger", "smaller"}, default "two-sided"
    Direction of the test."""
#: ``ratio, alpha, alternative`` of :func:`power_proportions` and :func:`power_means`.
_POWER_OPTIONS = f"{_RATIO_DOC}\n{_ALPHA_DOC}\n{_ALTERNATIVE_DOC}"
#: ``power, alpha, ratio, alternative`` of the two ``sample_size_*`` functions.
_SIZE_OPTIONS = f"{_POWER_DOC}\n{_ALPHA_DOC}\n{_RATIO_DOC}\n{_ALTERNATIVE_DOC}"


def _check_power_args(alpha: float, ratio: float, alternative: str) -> tuple[float, float]:
    alpha = _check_alpha(alpha)
    ratio = check_number(ratio, "ratio", low=0.0, low_inclusive=False)
    check_choice(alternative, "alternative", ALTERNATIVES)
    return alpha, ratio


def _normal_power(es: float, n_control: float, ratio: float, alpha: float, alternative: str) -> float:
    nobs = 1.0 / (1.0 / n_control + 1.0 / (n_control * ratio))
    shift = es * np.sqrt(nobs)
    if alternative == "two-sided":
        crit = stats.norm.isf(alpha / 2)
        return float(stats.norm.sf(crit - shift) + stats.norm.cdf(-crit - shift))
    crit = stats.norm.isf(alpha)
    return float(stats.norm.sf(crit - shift) if alternative == "larger" else stats.norm.cdf(-crit - shift))


def _t_power(es: float, n_control: float, ratio: float, alpha: float, alternative: str) -> float:
    n_treat = n_control * ratio
    df = n_control + n_treat - 2
    nc = es * np.sqrt(1.0 / (1.0 / n_control + 1.0 / n_treat))
    if alternative == "two-sided":
        crit = stats.t.isf(alpha / 2, df)
        return float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))
    crit = stats.t.isf(alpha, df)
    return float(stats.nct.sf(crit, df, nc) if alternative == "larger" else stats.nct.cdf(-crit, df, nc))


def _tested(es: float, alternative: str) -> float:
    """The effect size the power formulas take: its size for a two-sided test, else signed."""
    return abs(es) if alternative == "two-sided" else es


def _cohen_h(p_treatment: float, p_control: float) -> float:
    return float(2 * np.arcsin(np.sqrt(p_treatment)) - 2 * np.arcsin(np.sqrt(p_control)))


def _check_rate(p: float, name: str) -> float:
    return check_number(p, name, low=0.0, high=1.0)


@fill_doc(power_options=_POWER_OPTIONS)
def power_proportions(
    p_control: float,
    p_treatment: float,
    n_control: int,
    *,
    ratio: float = 1.0,
    alpha: float = 0.05,
    alternative: str = "two-sided",
) -> float:
    """Power of the two-proportion test for given rates and group sizes.

    Uses Cohen's effect size ``h = 2 asin sqrt(p_t) - 2 asin sqrt(p_c)`` and the
    normal approximation (statsmodels ``NormalIndPower`` with
    ``proportion_effectsize``).

    Parameters
    ----------
    p_control, p_treatment : float
        Baseline and expected treatment conversion rates in ``[0, 1]``.
    n_control : int
        Control group size; the treatment group has ``ratio * n_control`` users.
    {power_options}

    Returns
    -------
    float
        Probability of rejecting H0 when the rates are as given.

    Examples
    --------
    >>> round(power_proportions(0.10, 0.12, 3835), 3)
    0.8
    """
    alpha, ratio = _check_power_args(alpha, ratio, alternative)
    h = _cohen_h(_check_rate(p_treatment, "p_treatment"), _check_rate(p_control, "p_control"))
    n = check_number(n_control, "n_control", low=1.0)
    return _normal_power(_tested(h, alternative), n, ratio, alpha, alternative)


@fill_doc(power_options=_POWER_OPTIONS)
def power_means(
    mde: float,
    std: float,
    n_control: int,
    *,
    ratio: float = 1.0,
    alpha: float = 0.05,
    alternative: str = "two-sided",
) -> float:
    """Power of the two-sample t-test (noncentral t, statsmodels ``TTestIndPower``).

    Parameters
    ----------
    mde : float
        True difference of means (treatment - control).
    std : float
        Common standard deviation of the outcome (> 0).
    n_control : int
        Control group size; the treatment group has ``ratio * n_control`` users.
    {power_options}

    Returns
    -------
    float
        Power.

    Examples
    --------
    >>> round(power_means(0.5, 1.0, 64), 3)
    0.801
    """
    alpha, ratio = _check_power_args(alpha, ratio, alternative)
    mde = check_number(mde, "mde")
    std = check_number(std, "std", low=0.0, low_inclusive=False)
    n = check_number(n_control, "n_control", low=1.0)
    if n * (1 + ratio) <= 2:
        raise InvalidParameterError(
            f"The 'n_control' parameter must leave > 0 degrees of freedom "
            f"(n_control * (1 + ratio) > 2), got n_control={n_control!r}, ratio={ratio!r}."
        )
    es = mde / std
    return _t_power(_tested(es, alternative), n, ratio, alpha, alternative)


def _solve_n(power_fn: Any, target: float, lo: float) -> float:
    if power_fn(lo) >= target:
        return lo
    hi = max(lo * 2, 4.0)
    while power_fn(hi) < target:
        hi *= 2
        if hi > 1e13:
            raise InvalidParameterError(
                f"The requested power {target} cannot be reached with fewer than 1e13 users; "
                "the effect is too small."
            )
    return float(optimize.brentq(lambda n: power_fn(n) - target, lo, hi, xtol=1e-10, rtol=1e-12))


def _sample_size(power_fn: Any, es: float, power: float, ratio: float, lo: float) -> SampleSize:
    n_exact = _solve_n(power_fn, power, lo)
    n_c = int(np.ceil(n_exact - 1e-9))
    n_t = int(np.ceil(n_exact * ratio - 1e-9))
    achieved = power_fn(n_c) if n_t == int(np.ceil(n_c * ratio - 1e-9)) else power_fn(n_exact)
    return SampleSize(
        n_control=n_c,
        n_treatment=n_t,
        n_total=n_c + n_t,
        n_control_exact=n_exact,
        effect_size=es,
        power=float(max(achieved, power)),
    )


def _effect_direction_ok(es: float, alternative: str, name: str) -> None:
    if es == 0 or (alternative == "larger" and es < 0) or (alternative == "smaller" and es > 0):
        raise InvalidParameterError(
            f"The '{name}' parameter must give an effect in the tested direction "
            f"(alternative={alternative!r}), got effect size {es!r}."
        )


def _check_power(power: float, alpha: float) -> float:
    return check_number(power, "power", low=alpha, high=1.0, low_inclusive=False, high_inclusive=False)


def _sample_size_for(power_fn: Any, es: float, name: str, *, power: float, alpha: float,
                     ratio: float, alternative: str, lo: float) -> SampleSize:
    """Sizes reaching ``power`` for effect size ``es`` under ``power_fn(es, n, ratio, alpha, alt)``."""
    _effect_direction_ok(es, alternative, name)
    tested = _tested(es, alternative)
    return _sample_size(lambda n: power_fn(tested, n, ratio, alpha, alternative), es, power, ratio, lo)


@fill_doc(size_options=_SIZE_OPTIONS)
def sample_size_proportions(
    p_control: float,
    p_treatment: float,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    ratio: float = 1.0,
    alternative: str = "two-sided",
) -> SampleSize:
    """Users needed per group to detect a change of conversion rate.

    Parameters
    ----------
    p_control : float
        Baseline conversion rate.
    p_treatment : float
        Conversion rate under treatment that should be detected
        (e.g. ``p_control * 1.2`` for a +20 % relative lift).
    {size_options}

    Returns
    -------
    SampleSize
        Rounded-up sizes; ``n_control_exact`` equals statsmodels
        ``NormalIndPower().solve_power(proportion_effectsize(p_t, p_c), ...)``.

    Examples
    --------
    >>> s = sample_size_proportions(0.10, 0.12)
    >>> s.n_control, s.n_treatment, round(s.n_control_exact, 1)
    (3835, 3835, 3834.6)
    """
    alpha, ratio = _check_power_args(alpha, ratio, alternative)
    power = _check_power(power, alpha)
    h = _cohen_h(_check_rate(p_treatment, "p_treatment"), _check_rate(p_control, "p_control"))
    return _sample_size_for(_normal_power, h, "p_treatment", power=power, alpha=alpha, ratio=ratio,
                            alternative=alternative, lo=1e-6)


@fill_doc(size_options=_SIZE_OPTIONS)
def sample_size_means(
    mde: float,
    std: float,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    ratio: float = 1.0,
    alternative: str = "two-sided",
) -> SampleSize:
    """Users needed per group to detect a difference of means (t-test).

    Parameters
    ----------
    mde : float
        Minimum detectable difference of means (e.g. revenue per user, in
        currency units).
    std : float
        Standard deviation of the per-user outcome (from historical data).
    {size_options}

    Returns
    -------
    SampleSize
        ``n_control_exact`` equals statsmodels
        ``TTestIndPower().solve_power(mde / std, ...)``.

    Examples
    --------
    >>> s = sample_size_means(0.5, 1.0)
    >>> s.n_control, round(s.n_control_exact, 2)
    (64, 63.77)
    """
    alpha, ratio = _check_power_args(alpha, ratio, alternative)
    power = _check_power(power, alpha)
    mde = check_number(mde, "mde")
    std = check_number(std, "std", low=0.0, low_inclusive=False)
    return _sample_size_for(_t_power, mde / std, "mde", power=power, alpha=alpha, ratio=ratio,
                            alternative=alternative, lo=2.5 / (1.0 + ratio))  # lo: 0.5 degrees of freedom


# ------------------------------------------------------------------------- SRM
def sample_ratio_mismatch(
    counts: Mapping[Any, int] | Sequence[int],
    expected_ratios: Mapping[Any, float] | Sequence[float] | None = None,
    *,
    alpha: float = 0.001,
) -> SRMResult:
    """Check whether the observed group sizes match the planned split.

    A chi-square goodness-of-fit test (``scipy.stats.chisquare``) of the
    observed counts against ``total * ratios``. A mismatch (conventionally
    ``p < 0.001``) means the assignment or logging is broken and the test's
    results should not be trusted.

    Parameters
    ----------
    counts : mapping group -> int, or sequence of int
        Users observed per group (at least 2 groups).
    expected_ratios : mapping or sequence of float, optional
        Planned split (any positive scale, normalised internally); equal split
        when omitted. A mapping must have the same keys as ``counts``.
    alpha : float, default 0.001
        Threshold for :attr:`SRMResult.mismatch`.

    Returns
    -------
    SRMResult

    Examples
    --------
    >>> r = sample_ratio_mismatch({"control": 5000, "treatment": 5200})
    >>> round(r.p_value, 4), r.mismatch
    (0.0477, False)
    >>> sample_ratio_mismatch([821, 1179], [0.5, 0.5]).mismatch
    True
    """
    alpha = _check_alpha(alpha)
    if isinstance(counts, Mapping):
        keys = list(counts.keys())
        obs = np.asarray([counts[k] for k in keys], dtype=np.float64)
    else:
        obs = np.asarray(list(counts), dtype=np.float64)
        keys = list(range(obs.size))
    if obs.size < 2:
        raise InvalidValueError(f"'counts' must hold at least 2 groups, got {obs.size}.")
    if np.any(~np.isfinite(obs)) or np.any(obs < 0) or np.any(obs != np.round(obs)):
        raise InvalidValueError(f"'counts' must be non-negative integers, got {obs.tolist()}.")
    if obs.sum() == 0:
        raise InvalidValueError("'counts' must not all be 0.")
    if expected_ratios is None:
        ratios = np.ones(obs.size)
    elif isinstance(expected_ratios, Mapping):
        if set(expected_ratios) != set(keys):
            raise InvalidValueError(
                f"'expected_ratios' must have the same groups as 'counts' {keys}, "
                f"got {list(expected_ratios)}."
            )
        ratios = np.asarray([expected_ratios[k] for k in keys], dtype=np.float64)
    else:
        ratios = np.asarray(list(expected_ratios), dtype=np.float64)
    if ratios.size != obs.size or np.any(~np.isfinite(ratios)) or np.any(ratios <= 0):
        raise InvalidValueError(
            f"'expected_ratios' must hold {obs.size} positive numbers, got {ratios.tolist()}."
        )
    expected = obs.sum() * ratios / ratios.sum()
    res = stats.chisquare(obs, expected)
    p = float(min(max(res.pvalue, 0.0), 1.0))
    return SRMResult(
        statistic=float(res.statistic),
        p_value=p,
        mismatch=bool(p < alpha),
        observed=dict(zip(keys, obs.tolist())),
        expected=dict(zip(keys, expected.tolist())),
        alpha=alpha,
    )
