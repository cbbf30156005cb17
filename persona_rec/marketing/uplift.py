"""Uplift metrics for treatment/control data: uplift@k, uplift and Qini curves.

Conventions follow scikit-uplift (``sklift.metrics``): users are ranked by
a model's uplift score (highest first), curves have one point per distinct
score threshold (ties enter together) plus the origin, and the Qini AUC is
normalised by the perfect model's curve, so a random ranking scores about 0
and the perfect ranking 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._text import fill_doc
from .._validation import check_choice
from ..exceptions import InvalidParameterError, InvalidValueError

__all__ = [
    "uplift_at_k",
    "uplift_curve",
    "qini_curve",
    "perfect_qini_curve",
    "qini_auc",
    "uplift_auc",
]

_trapz = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2 has only trapz

#: ``y``/``treatment``/``score`` of the two curves.
_CURVE_PARAMETERS = """
Parameters
----------
y : array-like of {0, 1}
    Observed outcome (e.g. converted within the window).
treatment : array-like of {0, 1}
    1 for users who received the campaign, 0 for the control group.
score : array-like of float
    Predicted uplift (or propensity); higher means target first.
"""

#: One example for both curves: the same users ranked the same way.
_CURVE_EXAMPLES = """
Examples
--------
>>> y, t, s = [1, 0, 1, 0], [1, 0, 0, 1], [0.9, 0.8, 0.7, 0.6]
>>> x, u = uplift_curve(y, t, s)
>>> x, q = qini_curve(y, t, s)
>>> x.tolist()
[0.0, 1.0, 2.0, 3.0, 4.0]
>>> u.tolist(), q.tolist()
([0.0, 1.0, 2.0, 1.5, 0.0], [0.0, 1.0, 1.0, 0.5, 0.0])
"""

#: ``y``/``treatment``/``score`` of the areas under the curves.
_AUC_PARAMETERS = """
Parameters
----------
y, treatment : array-like of {0, 1}
    Outcome and treatment indicator.
score : array-like of float
    Predicted uplift.
"""


def _binary(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InvalidValueError(f"'{name}' must be 1-dimensional, got shape {arr.shape}.")
    if arr.dtype.kind == "b":
        return arr.astype(np.float64)
    try:
        out = arr.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidValueError(f"'{name}' must hold 0/1 values, got dtype {arr.dtype}.") from err
    bad = ~np.isin(out, (0.0, 1.0))
    if bad.any():
        raise InvalidValueError(
            f"'{name}' must hold only 0/1 (or bool) values, got e.g. {np.unique(out[bad])[:3].tolist()}."
        )
    return out


def _prepare(y: Any, treatment: Any, score: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    yy = _binary(y, "y")
    tt = _binary(treatment, "treatment")
    ss = np.asarray(score, dtype=np.float64)
    if not (yy.size == tt.size == ss.size):
        raise InvalidValueError(
            f"'y', 'treatment' and 'score' must have the same length, got "
            f"{yy.size}, {tt.size} and {ss.size}."
        )
    if yy.size == 0:
        raise InvalidValueError("'y' must not be empty.")
    if not np.all(np.isfinite(ss)):
        raise InvalidValueError("'score' must hold finite numbers (no NaN/inf).")
    n_t = int(tt.sum())
    if n_t == 0 or n_t == tt.size:
        raise InvalidValueError(
            f"'treatment' must contain both treated (1) and control (0) users, got "
            f"{n_t} treated of {tt.size}."
        )
    return yy, tt, ss


def _cumulative(
    y: np.ndarray, t: np.ndarray, score: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(-score, kind="mergesort")
    s, y, t = score[order], y[order], t[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    n_all = (last + 1).astype(np.float64)
    n_t = np.cumsum(t)[last]
    y_t = np.cumsum(y * t)[last]
    y_c = np.cumsum(y * (1 - t))[last]
    n_c = n_all - n_t
    return n_all, n_t, n_c, y_t, y_c


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros_like(a), where=b != 0)


@fill_doc(curve_parameters=_CURVE_PARAMETERS, curve_examples=_CURVE_EXAMPLES)
def uplift_curve(y: Any, treatment: Any, score: Any) -> tuple[np.ndarray, np.ndarray]:
    """Uplift curve: ``(rate_t(n) - rate_c(n)) * n`` for the top ``n`` users.

    {curve_parameters}

    Returns
    -------
    (ndarray, ndarray)
        Number of targeted users (starting at 0) and the curve values. The
        rate of a group that is still empty at a cutoff counts as 0.

    {curve_examples}
    """
    n_all, n_t, n_c, y_t, y_c = _cumulative(*_prepare(y, treatment, score))
    values = (_safe_div(y_t, n_t) - _safe_div(y_c, n_c)) * n_all
    return np.r_[0.0, n_all], np.r_[0.0, values]


@fill_doc(curve_parameters=_CURVE_PARAMETERS, curve_examples=_CURVE_EXAMPLES)
def qini_curve(y: Any, treatment: Any, score: Any) -> tuple[np.ndarray, np.ndarray]:
    """Qini curve: ``Y_t(n) - Y_c(n) * N_t(n) / N_c(n)`` for the top ``n`` users.

    The value is the number of extra conversions among the treated top-``n``
    users compared with what the control group's rate predicts for them.

    {curve_parameters}

    Returns
    -------
    (ndarray, ndarray)
        Number of targeted users (starting at 0) and the Qini values.

    {curve_examples}
    """
    n_all, n_t, n_c, y_t, y_c = _cumulative(*_prepare(y, treatment, score))
    values = y_t - y_c * _safe_div(n_t, n_c)
    return np.r_[0.0, n_all], np.r_[0.0, values]


def perfect_qini_curve(y: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """Qini curve of the best possible ranking.

    Treated converters first, control converters last (scikit-uplift's
    ``perfect_qini_curve(negative_effect=True)``).

    Parameters
    ----------
    y, treatment : array-like of {0, 1}
        Outcome and treatment indicator.

    Returns
    -------
    (ndarray, ndarray)
        Number of targeted users and the Qini values.
    """
    yy = _binary(y, "y")
    tt = _binary(treatment, "treatment")
    return qini_curve(yy, tt, yy * tt - yy * (1 - tt))


@fill_doc(auc_parameters=_AUC_PARAMETERS)
def qini_auc(y: Any, treatment: Any, score: Any, *, normalize: bool = True) -> float:
    """Area between the Qini curve and the random-targeting diagonal.

    {auc_parameters}
    normalize : bool, default True
        Divide by the same area of the perfect ranking (the Qini coefficient,
        scikit-uplift ``qini_auc_score``): 1 is perfect, about 0 is random,
        negative is worse than random. ``False`` returns the raw area in
        "users x extra conversions".

    Returns
    -------
    float

    Raises
    ------
    InvalidValueError
        ``normalize`` is True and the coefficient is undefined: ``y`` is
        constant (no conversion at all, or every user converted), so there
        is no uplift for any ranking to find and nothing to normalise by.
        The message gives the conversion counts per arm; ``normalize=False``
        still returns the raw area.

    Examples
    --------
    >>> y, t = [1, 0, 1, 0, 1, 0], [1, 1, 1, 0, 0, 0]
    >>> bool(qini_auc(y, t, [6, 5, 4, 3, 2, 1]) > qini_auc(y, t, [1, 2, 3, 4, 5, 6]))
    True
    """
    x, q = qini_curve(y, treatment, score)
    yy, tt = _binary(y, "y"), _binary(treatment, "treatment")
    xp, qp = perfect_qini_curve(yy, tt)
    baseline = 0.5 * xp[-1] * qp[-1]
    actual = float(_trapz(q, x)) - baseline
    if not normalize:
        return actual
    perfect = float(_trapz(qp, xp)) - baseline
    if yy.min() == yy.max() or not perfect > 0:
        raise InvalidValueError(
            "qini_auc(normalize=True) is undefined: 'y' has no variation to rank by "
            f"({int((yy * tt).sum())} conversion(s) among {int(tt.sum())} treated and "
            f"{int((yy * (1 - tt)).sum())} among {int((1 - tt).sum())} control users), so the "
            "perfect ranking gives nothing to normalise by. Pass normalize=False for the raw "
            "area, or evaluate on outcomes that vary."
        )
    return actual / perfect


@fill_doc(auc_parameters=_AUC_PARAMETERS)
def uplift_auc(y: Any, treatment: Any, score: Any) -> float:
    """Area between the uplift curve and the random-targeting diagonal.

    {auc_parameters}

    Returns
    -------
    float
        Raw area (users x extra conversions); > 0 means better than random.
    """
    x, u = uplift_curve(y, treatment, score)
    return float(_trapz(u, x)) - 0.5 * x[-1] * u[-1]


def uplift_at_k(
    y: Any,
    treatment: Any,
    score: Any,
    k: float,
    *,
    strategy: str = "overall",
) -> float:
    """Treatment minus control conversion rate among the top-``k`` users.

    Parameters
    ----------
    y, treatment : array-like of {0, 1}
        Outcome and treatment indicator.
    score : array-like of float
        Predicted uplift; the top scores are targeted.
    k : int or float
        Number of users (int >= 1) or fraction of users (float in (0, 1]).
    strategy : {"overall", "by_group"}, default "overall"
        ``"overall"``: take the top ``k`` of all users, then compare the two
        groups inside that cut. ``"by_group"``: take the top ``k`` share of
        each group separately (a fraction ``k`` is applied per group; an int
        ``k`` is split in proportion to the group sizes).

    Returns
    -------
    float
        ``rate_treatment - rate_control`` in the cut; NaN when one group has
        no user inside the cut.

    Examples
    --------
    >>> y, t = [1, 1, 0, 0, 1, 0], [1, 0, 1, 0, 1, 0]
    >>> round(uplift_at_k(y, t, [6, 1, 5, 2, 4, 3], k=4), 3)
    0.667
    >>> uplift_at_k(y, t, [6, 1, 5, 2, 4, 3], k=0.5, strategy="by_group")
    0.5
    """
    yy, tt, ss = _prepare(y, treatment, score)
    check_choice(strategy, "strategy", ("overall", "by_group"))
    n = yy.size
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, float, np.integer, np.floating)):
        raise InvalidParameterError(f"The 'k' parameter must be an int >= 1 or a float in (0, 1], got {k!r}.")
    if isinstance(k, (int, np.integer)):
        if k < 1:
            raise InvalidParameterError(f"The 'k' parameter must be an int >= 1 or a float in (0, 1], got {k!r}.")
        frac = min(int(k), n) / n
        n_top = min(int(k), n)
    else:
        if not 0 < k <= 1:
            raise InvalidParameterError(f"The 'k' parameter must be an int >= 1 or a float in (0, 1], got {k!r}.")
        frac = float(k)
        n_top = int(np.ceil(n * frac))
    order = np.argsort(-ss, kind="mergesort")
    if strategy == "overall":
        top = order[:n_top]
        t_top, y_top = tt[top], yy[top]
        n_t, n_c = t_top.sum(), (1 - t_top).sum()
        if n_t == 0 or n_c == 0:
            return float("nan")
        return float((y_top * t_top).sum() / n_t - (y_top * (1 - t_top)).sum() / n_c)
    rates = []
    for group in (1.0, 0.0):
        idx = order[tt[order] == group]
        m = int(np.ceil(idx.size * frac))
        if m == 0:
            return float("nan")
        rates.append(yy[idx[:m]].mean())
    return float(rates[0] - rates[1])
