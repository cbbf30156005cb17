"""Buy-till-you-die models: BG/NBD, Gamma-Gamma and customer lifetime value.

* :class:`BGNBD` - the beta-geometric / negative binomial distribution model
  of Fader, Hardie and Lee (2005), "Counting your customers the easy way",
  *Marketing Science* 24(2). Customers buy at a Poisson rate
  ``lambda ~ Gamma(r, alpha)`` while alive, and drop out after each repeat
  purchase with probability ``p ~ Beta(a, b)``. Fitted by maximum likelihood
  (scipy) on log-parameters; gives ``P(alive)`` and the expected number of
  purchases in the next ``t`` time units.
* :class:`GammaGamma` - spend per transaction (Fader, Hardie and Lee 2005,
  "RFM and CLV: using iso-value curves for customer base analysis", *Journal
  of Marketing Research* 42(4)): the shrunk expected spend of a customer.
* :func:`customer_lifetime_value` - expected, discounted spend over a horizon.
* :func:`rfm_summary` - the per-customer ``(frequency, t_x, T, monetary_value)``
  summary of a Dataset at a point in time, on which both models are fitted.
* :class:`PredictiveBuilder` - a profile builder adding ``p_alive``,
  ``expected_purchases``, ``expected_spend`` and ``clv`` columns.

Conventions (as in the papers): the customer's first purchase starts their
clock; ``frequency`` (x) counts *repeat* transactions; ``t_x`` is the time of
the last one since the first purchase (0 when x = 0); ``T`` the time from the
first purchase to the end of the observation period. In :func:`rfm_summary`
and :class:`PredictiveBuilder` a transaction is a calendar day (UTC) with at
least one purchase and times are in days.

This module is one cohesive unit, the two models, the value computed from them
and the summary they are fitted on, hence its length.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from .._params import ParamsMixin
from .._progress import get_logger
from .._validation import (
    as_of_or_after,
    as_timestamp,
    check_instance,
    check_int,
    check_number,
)
from ..columns import Columns
from ..dataset import Dataset
from ..exceptions import (
    EmptyInputError,
    InvalidDtypeError,
    InvalidValueError,
    NotFittedError,
)
from ._context import DAY_NS, ProfileContext
from .builders import Builder, ProfilePart

__all__ = [
    "BGNBD",
    "GammaGamma",
    "customer_lifetime_value",
    "rfm_summary",
    "sample_bgnbd",
    "simulate_btyd",
    "PredictiveBuilder",
    "PREDICTIVE_COLUMNS",
    "SUMMARY_COLUMNS",
]

_log = get_logger(__name__)

#: Columns added by :class:`PredictiveBuilder`.
PREDICTIVE_COLUMNS: tuple[str, ...] = ("p_alive", "expected_purchases", "expected_spend", "clv")
#: Columns of :func:`rfm_summary`.
SUMMARY_COLUMNS: tuple[str, ...] = ("frequency", "t_x", "T", "monetary_value", "first_spend")

_LOG_BOUND = 20.0  # log-parameters live in [-20, 20] during the search
_NO_DROPOUT = 1e-5  # mean drop-out probability a / (a + b) below which BG/NBD is the NBD limit


# ------------------------------------------------------------------ input checks
def _as_float_array(values: Any, name: str, owner: str) -> np.ndarray:
    if isinstance(values, (str, bytes)) or np.ndim(values) != 1:
        raise InvalidDtypeError(
            f"{name} of {owner} must be a 1-D array of numbers, got {type(values).__name__}"
            f" with {np.ndim(values)} dimension(s)."
        )
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidDtypeError(
            f"{name} of {owner} must hold numbers, got {type(values).__name__}."
        ) from exc
    bad = ~np.isfinite(arr)
    if bad.any():
        raise InvalidValueError(
            f"{name} of {owner} must be finite, got {arr[bad][:3].tolist()} at position(s) "
            f"{np.flatnonzero(bad)[:3].tolist()}."
        )
    return arr


def _check_summary(frequency: Any, t_x: Any, T: Any, owner: str) -> tuple[np.ndarray, ...]:
    """Validate ``(x, t_x, T)``: equal lengths, x integer >= 0, 0 <= t_x <= T, T > 0."""
    x = _as_float_array(frequency, "frequency", owner)
    tx = _as_float_array(t_x, "t_x", owner)
    tt = _as_float_array(T, "T", owner)
    if not (len(x) == len(tx) == len(tt)):
        raise InvalidValueError(
            f"frequency, t_x and T of {owner} must have the same length, got "
            f"{len(x)}, {len(tx)} and {len(tt)}."
        )
    checks = [
        ((x < 0) | (x != np.floor(x)), "frequency must be an integer >= 0", x),
        (tt <= 0, "T must be > 0", tt),
        (tx < 0, "t_x must be >= 0", tx),
        (tx > tt * (1 + 1e-12), "t_x must be <= T", tx),
        ((x == 0) & (tx != 0), "t_x must be 0 when frequency is 0", tx),
    ]
    for bad, rule, vals in checks:
        if bad.any():
            raise InvalidValueError(
                f"{owner}: {rule}; got {vals[bad][:3].tolist()} at position(s) "
                f"{np.flatnonzero(bad)[:3].tolist()}."
            )
    return x, tx, tt


def _check_fit_size(n: int, min_customers: int, owner: str) -> None:
    if n == 0:
        raise EmptyInputError(
            f"{owner}.fit got no customers (no purchases); at least min_customers="
            f"{min_customers} are needed."
        )
    if n < min_customers:
        raise InvalidValueError(
            f"{owner}.fit needs at least min_customers={min_customers} customers to estimate "
            f"its parameters, got {n}."
        )


def _minimize(fun: Any, x0: np.ndarray, owner: str,
              limit_ok: Any = None) -> tuple[np.ndarray, float, bool, str]:
    """L-BFGS-B on log-parameters, polished by Nelder-Mead.

    Returns ``(theta, f, at_limit, message)``. A log-parameter ending at the
    search bound raises :class:`InvalidValueError`, unless ``limit_ok(theta)``
    says the solution is a known limit of the model (``at_limit`` is then
    True and the caller pins and reports it). Failure of both optimisers
    also raises.
    """
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(x0)
    res = optimize.minimize(fun, x0, method="L-BFGS-B", bounds=bounds,
                            options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9})
    polish = optimize.minimize(fun, res.x, method="Nelder-Mead",
                               options={"xatol": 1e-8, "fatol": 1e-13, "maxiter": 8000,
                                        "maxfev": 16000})
    best = polish if polish.fun <= res.fun else res
    theta = np.clip(np.asarray(best.x), -_LOG_BOUND, _LOG_BOUND)
    at_limit = bool(limit_ok(theta)) if limit_ok is not None else False
    edge = [int(i) for i in np.flatnonzero(np.abs(theta) >= _LOG_BOUND - 1.0)]
    msg = f"L-BFGS-B: {res.message}; Nelder-Mead: {polish.message}"
    if at_limit:
        return theta, float(best.fun), True, msg
    if edge:
        msg += f"; log-parameter(s) {edge} reached the search bound +-{_LOG_BOUND:g}"
    if edge or not (polish.success or res.success) or not np.isfinite(best.fun):
        raise InvalidValueError(
            f"{owner}.fit: maximum likelihood did not converge ({msg}); the data may not "
            f"identify the model (too few repeat customers?); try penalizer > 0."
        )
    return theta, float(best.fun), False, msg


# ------------------------------------------------------------------------ BG/NBD
def _bgnbd_loglik(log_params: np.ndarray, x: np.ndarray, tx: np.ndarray,
                  T: np.ndarray) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood at ``exp(log_params) = (r, alpha, a, b)``."""
    r, alpha, a, b = np.exp(log_params)
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.betaln(a, b + x) - special.betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    rep = x > 0
    a4 = np.full(len(x), -np.inf)
    a4[rep] = (np.log(a) - np.log(b + x[rep] - 1) - (r + x[rep]) * np.log(alpha + tx[rep]))
    return a1 + a2 + np.logaddexp(a3, a4)


#: Half-width of the window around a removable singularity in which :func:`_removable` interpolates.
_SINGULAR_WINDOW = 1e-4


def _removable(fn: Any, value: float, at: float) -> np.ndarray:
    """``fn(value)`` for a BG/NBD expectation with a removable singularity at ``value = at``.

    The closed forms of the expected purchases are 0/0 at ``a = 1`` (they
    divide by ``a - 1``) and, for customers without repeat purchases, at
    ``a + b = 1`` (the hypergeometric function has a pole at ``c = 0`` that
    its factor ``c`` cancels): the limits exist, but close to them the
    closed form cancels digits. Within ``_SINGULAR_WINDOW`` of ``at`` the
    value is interpolated linearly between the two edges of the window,
    where the closed form is accurate to about 1e-11; the function is smooth
    in its parameters, so the interpolation adds an error of order
    ``_SINGULAR_WINDOW ** 2``.
    """
    eps = value - at
    if abs(eps) >= _SINGULAR_WINDOW:
        return fn(value)
    w = (eps + _SINGULAR_WINDOW) / (2 * _SINGULAR_WINDOW)
    return (1 - w) * fn(at - _SINGULAR_WINDOW) + w * fn(at + _SINGULAR_WINDOW)


def _expected_alive(r: float, alpha: float, a: float, b: float, x: np.ndarray,
                    T: np.ndarray, t: Any) -> np.ndarray:
    """Equation (10) of Fader, Hardie and Lee (2005) without its P(alive) factor.

    ``(a+b+x-1)/(a-1) * (1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z))`` with
    ``z = t / (alpha + T + t)`` (Euler's transformation of the paper's form),
    the removable singularities at ``a = 1`` and ``a + b + x = 1`` handled by
    :func:`_removable`.
    """
    z = t / (alpha + T + t)
    w = -np.asarray(t, dtype=np.float64) / (alpha + T)  # z / (z - 1)

    def head(a: float, b: float) -> np.ndarray:
        c = a + b + x - 1
        tail = np.exp((a - 1) * np.log1p(-z)) * special.hyp2f1(a + b - 1 - r, a - 1, c, z)
        bad = ~np.isfinite(tail)
        if bad.any():
            # scipy's 2F1 has degenerate cases near z = 1 (e.g. r = a makes c - A - B = 1);
            # Pfaff's transformation gives the same tail as 2F1(r, a-1; c; z / (z-1))
            c_b = np.broadcast_to(c, tail.shape)[bad]
            tail[bad] = special.hyp2f1(r, a - 1, c_b, np.broadcast_to(w, tail.shape)[bad])
        return c / (a - 1) * (1.0 - tail)

    return _removable(lambda a_: _removable(lambda b_: head(a_, b_), b, 1.0 - a_), a, 1.0)


class BGNBD(ParamsMixin):
    """BG/NBD model of repeat purchasing and drop-out, fitted by maximum likelihood.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty ``penalizer * (r^2 + alpha^2 + a^2 + b^2)`` added to the mean
        negative log-likelihood (0: plain maximum likelihood). A small value
        (e.g. 0.001) stabilises fits on small or degenerate samples.
    min_customers : int, default 10
        ``fit`` refuses fewer customers (4 parameters are not identified by a
        handful of customers).

    Attributes
    ----------
    params_ : dict
        ``{"r", "alpha", "a", "b"}`` (``alpha`` in the time unit of the data).
    log_likelihood_ : float
        Total log-likelihood at ``params_`` (without the penalty).
    n_customers_ : int
    n_repeat_customers_ : int
        Customers with ``frequency > 0``.
    fit_message_ : str
        The optimisers' status messages.
    no_dropout_ : bool
        True when the likelihood is maximised in the limit ``a -> 0`` (the
        data show no drop-out: P(alive) ~ 1 for everyone and the model is the
        NBD), detected as a mean drop-out probability ``a / (a + b) < 1e-5``
        (``a -> 0`` or ``b -> inf``). ``a`` is then pinned to ``exp(-20)`` and
        ``b`` (not identified in this limit) to 1, and ``r, alpha`` are refitted; reported in
        ``fit_message_`` and logged as a warning. This happens on real data
        with strong seasonality or wholesale buyers (Online Retail, see
        ``docs/predictive.md``); ``lifetimes`` raises a ConvergenceError there.

    Examples
    --------
    >>> import numpy as np
    >>> x, t_x, T = sample_bgnbd(2000, r=0.5, alpha=10.0, a=0.7, b=2.5, T=60.0,
    ...                          random_state=0)
    >>> m = BGNBD().fit(x, t_x, T)
    >>> sorted(m.params_)
    ['a', 'alpha', 'b', 'r']
    >>> bool(m.p_alive([0, 3], [0.0, 10.0], [60.0, 60.0])[0] == 1.0)
    True
    """

    def __init__(self, penalizer: float = 0.0, min_customers: int = 10) -> None:
        self.penalizer = check_number(penalizer, "penalizer", low=0, owner="BGNBD")
        self.min_customers = check_int(min_customers, "min_customers", minimum=2, owner="BGNBD")

    def fit(self, frequency: Any, t_x: Any, T: Any) -> BGNBD:
        """Estimate ``r, alpha, a, b`` by maximum likelihood.

        Parameters
        ----------
        frequency : array-like of int
            Repeat transactions per customer (x >= 0).
        t_x : array-like of float
            Time of the last repeat transaction since the first purchase
            (0 when x = 0).
        T : array-like of float
            Time from the first purchase to the end of the observation (> 0).

        Returns
        -------
        BGNBD
            ``self``, fitted.

        Raises
        ------
        EmptyInputError
            No customers.
        InvalidValueError
            Fewer than ``min_customers`` customers, invalid values (negative,
            ``t_x > T`` ...), no customer with a repeat purchase (all
            purchases on the first day: the drop-out process is not
            identified), or the optimiser did not converge.
        """
        x, tx, tt = _check_summary(frequency, t_x, T, "BGNBD")
        _check_fit_size(len(x), self.min_customers, "BGNBD")
        if not (x > 0).any():
            raise InvalidValueError(
                f"BGNBD.fit: no customer has a repeat purchase (frequency is 0 for all {len(x)} "
                f"customers, e.g. every purchase on the customer's first day); the purchase and "
                f"drop-out rates cannot be estimated."
            )
        # compress identical customers (many share (x, t_x, T) in day-level data)
        keys = np.column_stack([x, tx, tt])
        uniq, counts = np.unique(keys, axis=0, return_counts=True)
        ux, utx, uT = uniq[:, 0], uniq[:, 1], uniq[:, 2]
        w = counts.astype(np.float64)
        n = float(w.sum())
        pen = self.penalizer

        def nll(theta: np.ndarray) -> float:
            ll = _bgnbd_loglik(theta, ux, utx, uT)
            val = -float(w @ ll) / n
            if pen:
                val += pen * float(np.sum(np.exp(2 * theta)))
            return val if np.isfinite(val) else 1e100

        mean_rate = max(float(x.mean()), 1e-3) / float(tt.mean())
        x0 = np.log([1.0, 1.0 / mean_rate, 1.0, 1.0])

        def no_dropout(th: np.ndarray) -> bool:
            return bool(special.expit(th[2] - th[3]) < _NO_DROPOUT)  # a / (a + b)

        theta, _, at_limit, msg = _minimize(nll, x0, "BGNBD", limit_ok=no_dropout)
        self.no_dropout_ = at_limit
        if at_limit:
            # the mean drop-out probability a / (a + b) vanishes: the NBD limit, where b is
            # not identified. Pin a = exp(-20), b = 1 and refit r, alpha (reproducible).
            pinned = np.array([-_LOG_BOUND, 0.0])
            rt, _, _, msg2 = _minimize(lambda th2: nll(np.concatenate([th2, pinned])),
                                       theta[:2], "BGNBD")
            theta = np.concatenate([rt, pinned])
            msg += f"; refit of r, alpha at the limit: {msg2}"
        r, alpha, a, b = np.exp(theta)
        self.params_ = {"r": float(r), "alpha": float(alpha), "a": float(a), "b": float(b)}
        if self.no_dropout_:
            msg += ("; a / (a + b) -> 0: no drop-out identified, the model reduces to the NBD "
                    "(P(alive) ~ 1)")
            _log.warning("BGNBD: the likelihood is maximised as a / (a + b) -> 0 (no drop-out "
                         "identified "
                         "in the data): P(alive) is ~1 for every customer and expected "
                         "purchases follow the NBD model")
        self.log_likelihood_ = float(w @ _bgnbd_loglik(theta, ux, utx, uT))
        self.n_customers_ = int(len(x))
        self.n_repeat_customers_ = int((x > 0).sum())
        self.fit_message_ = msg
        _log.info("BGNBD fitted on %d customers: %s (log-likelihood %.3f)", len(x),
                  self.params_, self.log_likelihood_)
        return self

    # ----------------------------------------------------------------- queries
    def _params(self) -> tuple[float, float, float, float]:
        if not hasattr(self, "params_"):
            raise NotFittedError("This BGNBD is not fitted yet; call fit(frequency, t_x, T) first.")
        p = self.params_
        return p["r"], p["alpha"], p["a"], p["b"]

    def log_likelihood(self, frequency: Any, t_x: Any, T: Any) -> np.ndarray:
        """Per-customer log-likelihood under the fitted parameters.

        Returns
        -------
        numpy.ndarray of float
        """
        x, tx, tt = _check_summary(frequency, t_x, T, "BGNBD")
        return _bgnbd_loglik(np.log(self._params()), x, tx, tt)

    def _log_dead_odds(self, x: np.ndarray, tx: np.ndarray, tt: np.ndarray) -> np.ndarray:
        """``log(P(dead) / P(alive))``; ``-inf`` for x = 0 (alive by assumption)."""
        r, alpha, a, b = self._params()
        out = np.full(len(x), -np.inf)
        rep = x > 0
        out[rep] = (np.log(a) - np.log(b + x[rep] - 1)
                    + (r + x[rep]) * (np.log(alpha + tt[rep]) - np.log(alpha + tx[rep])))
        return out

    def p_alive(self, frequency: Any, t_x: Any, T: Any) -> np.ndarray:
        """Probability that each customer is still active at the end of the observation.

        ``1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x))``
        for x > 0, and 1 for x = 0 (in BG/NBD drop-out happens only after a
        repeat purchase).

        Returns
        -------
        numpy.ndarray of float in (0, 1]
        """
        x, tx, tt = _check_summary(frequency, t_x, T, "BGNBD")
        return special.expit(-self._log_dead_odds(x, tx, tt))

    def expected_purchases(self, t: float, frequency: Any, t_x: Any, T: Any) -> np.ndarray:
        """Expected number of transactions in the next ``t`` time units, per customer.

        Equation (10) of Fader, Hardie and Lee (2005), with the Gauss
        hypergeometric function rewritten by Euler's transformation,
        ``(1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1)
        2F1(a+b-1-r, a-1; a+b+x-1; z)`` with ``z = t / (alpha + T + t)``,
        so that its parameters stay small for heavy buyers. At ``a = 1``, and
        at ``a + b = 1`` for customers without repeat purchases, the formula
        is 0/0 with a finite limit, which is returned (interpolated within
        1e-4 of those points, where the closed form loses digits).

        Parameters
        ----------
        t : float
            Horizon (> 0), in the time unit of the data.
        frequency, t_x, T : array-like
            As in :meth:`fit`.

        Returns
        -------
        numpy.ndarray of float (>= 0)
        """
        t = check_number(t, "t", low=0, low_inclusive=False, owner="BGNBD.expected_purchases")
        x, tx, tt = _check_summary(frequency, t_x, T, "BGNBD")
        r, alpha, a, b = self._params()
        out = _expected_alive(r, alpha, a, b, x, tt, t)
        out = out * special.expit(-self._log_dead_odds(x, tx, tt))
        if not np.isfinite(out).all():  # pragma: no cover - guarded by the parameter search
            raise InvalidValueError(
                "BGNBD.expected_purchases produced non-finite values for parameters "
                f"{self.params_}; refit with penalizer > 0."
            )
        return out

    def expected_purchases_new(self, t: Any) -> np.ndarray:
        """Expected transactions in ``(0, t]`` of a customer just acquired (population mean).

        ``(a+b-1)/(a-1) * (1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t)))``,
        evaluated as :meth:`expected_purchases` of a customer with ``x = 0``
        and ``T = 0`` (the same Euler-transformed form, which stays finite
        for horizons far beyond ``alpha``).

        Returns
        -------
        numpy.ndarray of float
        """
        tt = _as_float_array(np.atleast_1d(t), "t", "BGNBD.expected_purchases_new")
        if (tt < 0).any():
            raise InvalidValueError(
                f"t of BGNBD.expected_purchases_new must be >= 0, got {tt[tt < 0][:3].tolist()}."
            )
        r, alpha, a, b = self._params()
        # a customer observed for no time yet: equation (10) at x = 0, T = 0 (P(alive) = 1)
        return _expected_alive(r, alpha, a, b, np.zeros(len(tt)), np.zeros(len(tt)), tt)


def sample_bgnbd(
    n: int, *, r: float, alpha: float, a: float, b: float, T: Any,
    random_state: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``(frequency, t_x, T)`` for ``n`` customers from the BG/NBD process.

    Each customer gets ``lambda ~ Gamma(r, rate=alpha)`` and
    ``p ~ Beta(a, b)``; after the first purchase at time 0, purchases arrive
    at rate ``lambda`` until ``T``, and after each repeat purchase the
    customer drops out with probability ``p``.

    Parameters
    ----------
    n : int
    r, alpha, a, b : float
        Model parameters (> 0).
    T : float or array-like
        Observation length per customer (> 0).
    random_state : int or numpy.random.Generator, optional

    Returns
    -------
    (frequency, t_x, T) : three numpy arrays of float

    Examples
    --------
    >>> x, t_x, T = sample_bgnbd(3, r=1.0, alpha=5.0, a=1.0, b=3.0, T=30.0, random_state=1)
    >>> len(x), bool((t_x <= T).all())
    (3, True)
    """
    n = check_int(n, "n", minimum=1, owner="sample_bgnbd")
    for name, v in (("r", r), ("alpha", alpha), ("a", a), ("b", b)):
        check_number(v, name, low=0, low_inclusive=False, owner="sample_bgnbd")
    tt = np.broadcast_to(_as_float_array(np.atleast_1d(T), "T", "sample_bgnbd"), (n,)).copy()
    if (tt <= 0).any():
        raise InvalidValueError(f"T of sample_bgnbd must be > 0, got {tt[tt <= 0][:3].tolist()}.")
    rng = np.random.default_rng(random_state)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    x = np.zeros(n)
    tx = np.zeros(n)
    clock = np.zeros(n)
    live = np.ones(n, dtype=bool)
    while live.any():  # one step per purchase number, vectorised over customers
        idx = np.flatnonzero(live)
        clock[idx] += rng.exponential(1.0, size=len(idx)) / lam[idx]
        bought = clock[idx] <= tt[idx]
        got = idx[bought]
        x[got] += 1
        tx[got] = clock[got]
        dies = rng.random(len(got)) < p[got]
        live[idx[~bought]] = False
        live[got[dies]] = False
    return x, tx, tt


def simulate_btyd(
    n: int,
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    p: float = 6.0,
    q: float = 4.0,
    gamma: float = 15.0,
    start: Any = "2024-01-01",
    acquisition_days: float = 180.0,
    end: Any = "2025-01-01",
    random_state: int | np.random.Generator | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate timestamped purchases from BG/NBD + Gamma-Gamma with known truth.

    Customer ``c`` makes a first purchase at a uniform time in
    ``[start, start + acquisition_days)``, then purchases at Poisson rate
    ``lambda_c ~ Gamma(r, rate=alpha)`` per day and drops out after each repeat
    purchase with probability ``p_c ~ Beta(a, b)``, until ``end``. Each
    purchase is worth a ``Gamma(p, rate=nu_c)`` amount with
    ``nu_c ~ Gamma(q, rate=gamma)``. Purchases are instantaneous (several can
    fall on one day; the day-level summary merges them, so keep ``lambda``
    well below 1 per day for a faithful day-level recovery).

    Parameters
    ----------
    n : int
    r, alpha, a, b : float
        BG/NBD parameters (``alpha`` in days).
    p, q, gamma : float
        Gamma-Gamma parameters (``q > 1``).
    start, end : datetime-like
    acquisition_days : float
        > 0 and less than ``end - start`` in days.
    random_state : int or numpy.random.Generator, optional

    Returns
    -------
    purchases : pandas.DataFrame
        ``user_id`` (int), ``timestamp``, ``amount``, sorted by time.
    truth : pandas.DataFrame
        Indexed by ``user_id``: ``lam`` (purchases per day), ``p_drop``,
        ``mean_spend`` (``p / nu``), ``first_purchase``, ``dropout`` (time of
        drop-out, NaT while still alive at ``end``).

    Examples
    --------
    >>> buys, truth = simulate_btyd(50, r=0.5, alpha=20.0, a=0.8, b=2.5, random_state=0)
    >>> list(buys.columns), len(truth)
    (['user_id', 'timestamp', 'amount'], 50)
    """
    own = "simulate_btyd"
    n = check_int(n, "n", minimum=1, owner=own)
    for name, v in (("r", r), ("alpha", alpha), ("a", a), ("b", b), ("p", p), ("gamma", gamma)):
        check_number(v, name, low=0, low_inclusive=False, owner=own)
    check_number(q, "q", low=1, low_inclusive=False, owner=own)
    t0 = as_timestamp(start, "start")
    t1 = as_timestamp(end, "end")
    span = (t1 - t0) / pd.Timedelta(days=1)
    acq = check_number(acquisition_days, "acquisition_days", low=0, low_inclusive=False,
                       high=span, high_inclusive=False, owner=own)
    rng = np.random.default_rng(random_state)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    pd_ = rng.beta(a, b, size=n)
    nu = rng.gamma(q, 1.0 / gamma, size=n)
    first = rng.uniform(0.0, acq, size=n)
    users = [np.arange(n)]
    times = [first]
    clock = first.copy()
    dropout = np.full(n, np.nan)
    live = np.ones(n, dtype=bool)
    while live.any():  # one step per purchase number, vectorised over customers
        idx = np.flatnonzero(live)
        clock[idx] += rng.exponential(1.0, size=len(idx)) / lam[idx]
        bought = clock[idx] < span
        got = idx[bought]
        users.append(got)
        times.append(clock[got].copy())
        dies = rng.random(len(got)) < pd_[got]
        dropout[got[dies]] = clock[got[dies]]
        live[idx[~bought]] = False
        live[got[dies]] = False
    u = np.concatenate(users)
    t = np.concatenate(times)
    amount = rng.gamma(p, 1.0 / nu[u])
    order = np.argsort(t, kind="stable")
    purchases = pd.DataFrame({
        Columns.USER: u[order],
        Columns.TIMESTAMP: t0 + pd.to_timedelta(t[order], unit="D").round("s"),
        "amount": np.round(amount[order], 2) + 0.01,
    })
    truth = pd.DataFrame({
        "lam": lam, "p_drop": pd_, "mean_spend": p / nu,
        "first_purchase": t0 + pd.to_timedelta(first, unit="D").round("s"),
        "dropout": t0 + pd.to_timedelta(dropout, unit="D").round("s"),
    }, index=pd.Index(np.arange(n), name=Columns.USER))
    return purchases, truth


# ------------------------------------------------------------------- Gamma-Gamma
def _gg_loglik(log_params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    p, q, g = np.exp(log_params)
    px = p * x
    return (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q)
            + q * np.log(g) + (px - 1) * np.log(m) + px * np.log(x)
            - (px + q) * np.log(g + x * m))


def _check_spend(frequency: Any, monetary_value: Any, owner: str) -> tuple[np.ndarray, np.ndarray]:
    x = _as_float_array(frequency, "frequency", owner)
    m = _as_float_array(monetary_value, "monetary_value", owner)
    if len(x) != len(m):
        raise InvalidValueError(
            f"frequency and monetary_value of {owner} must have the same length, got "
            f"{len(x)} and {len(m)}."
        )
    bad = (x < 0) | (x != np.floor(x))
    if bad.any():
        raise InvalidValueError(
            f"{owner}: frequency must be an integer >= 0; got {x[bad][:3].tolist()}."
        )
    if (m < 0).any():
        raise InvalidValueError(
            f"{owner}: monetary_value (mean spend per transaction) must be >= 0, got negative "
            f"value(s) {m[m < 0][:3].tolist()} at position(s) {np.flatnonzero(m < 0)[:3].tolist()}"
            f"; remove refunds/returns before modelling spend."
        )
    return x, m


class GammaGamma(ParamsMixin):
    """Gamma-Gamma model of the spend per transaction.

    A customer's transaction values are Gamma(p, nu) with ``nu ~ Gamma(q,
    gamma)`` across customers, independent of the purchase process. Fitted on
    customers with at least one repeat transaction and a positive mean spend
    of their repeat transactions.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on ``(p, q, gamma)`` added to the mean negative log-likelihood.
    min_customers : int, default 10

    Attributes
    ----------
    params_ : dict
        ``{"p", "q", "gamma"}``.
    log_likelihood_ : float
    n_customers_ : int
    population_mean_ : float
        Expected spend per transaction of a new customer, ``p * gamma / (q - 1)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> nu = rng.gamma(4.0, 1 / 20.0, size=500)          # q=4, gamma=20
    >>> x = rng.integers(1, 6, size=500).astype(float)
    >>> m = rng.gamma(6.0 * x, 1 / (nu * x))             # mean of x Gamma(6, nu) draws
    >>> gg = GammaGamma().fit(x, m)
    >>> sorted(gg.params_)
    ['gamma', 'p', 'q']
    >>> bool(gg.expected_spend([0], [0.0])[0] == gg.population_mean_)
    True
    """

    def __init__(self, penalizer: float = 0.0, min_customers: int = 10) -> None:
        self.penalizer = check_number(penalizer, "penalizer", low=0, owner="GammaGamma")
        self.min_customers = check_int(min_customers, "min_customers", minimum=2,
                                       owner="GammaGamma")

    def fit(self, frequency: Any, monetary_value: Any) -> GammaGamma:
        """Estimate ``p, q, gamma`` by maximum likelihood.

        Parameters
        ----------
        frequency : array-like of int
            Repeat transactions per customer; every value must be >= 1.
        monetary_value : array-like of float
            Mean spend of those transactions; every value must be > 0.

        Returns
        -------
        GammaGamma
            ``self``, fitted.

        Raises
        ------
        EmptyInputError, InvalidValueError
            No or too few customers, a frequency of 0, a negative or zero
            spend, ``q <= 1`` at the optimum (mean spend not finite), or no
            convergence.
        """
        x, m = _check_spend(frequency, monetary_value, "GammaGamma")
        _check_fit_size(len(x), self.min_customers, "GammaGamma")
        if (x < 1).any():
            raise InvalidValueError(
                f"GammaGamma.fit needs frequency >= 1 (customers with a repeat transaction), got "
                f"{int((x < 1).sum())} customer(s) with frequency 0; select frequency > 0 first."
            )
        if (m <= 0).any():
            raise InvalidValueError(
                f"GammaGamma.fit needs monetary_value > 0, got {int((m <= 0).sum())} zero "
                f"value(s) at position(s) {np.flatnonzero(m <= 0)[:3].tolist()}; select "
                f"monetary_value > 0 first."
            )
        pen = self.penalizer
        n = len(x)

        def nll(theta: np.ndarray) -> float:
            val = -float(_gg_loglik(theta, x, m).sum()) / n
            if pen:
                val += pen * float(np.sum(np.exp(2 * theta)))
            return val if np.isfinite(val) else 1e100

        x0 = np.log([1.0, 2.0, float(np.mean(m))])
        theta, _, _, msg = _minimize(nll, x0, "GammaGamma")
        p, q, g = np.exp(theta)
        if q <= 1:
            raise InvalidValueError(
                f"GammaGamma.fit: estimated q={q:.4g} <= 1, so the expected spend is not finite "
                f"(spend too heavy-tailed); try penalizer > 0 or cap outliers."
            )
        self.params_ = {"p": float(p), "q": float(q), "gamma": float(g)}
        self.log_likelihood_ = float(_gg_loglik(theta, x, m).sum())
        self.n_customers_ = int(n)
        self.population_mean_ = float(p * g / (q - 1))
        self.fit_message_ = msg
        _log.info("GammaGamma fitted on %d customers: %s", n, self.params_)
        return self

    def expected_spend(self, frequency: Any, monetary_value: Any) -> np.ndarray:
        """Expected spend per transaction: ``p (gamma + x m) / (p x + q - 1)``.

        A weighted mean of the population mean and the customer's own mean
        spend ``m`` (weight grows with x); customers with x = 0 get the
        population mean (their ``monetary_value`` is ignored).

        Returns
        -------
        numpy.ndarray of float
        """
        if not hasattr(self, "params_"):
            raise NotFittedError(
                "This GammaGamma is not fitted yet; call fit(frequency, monetary_value) first.")
        x, m = _check_spend(frequency, monetary_value, "GammaGamma")
        p, q, g = self.params_["p"], self.params_["q"], self.params_["gamma"]
        m = np.where(x > 0, m, 0.0)
        return p * (g + x * m) / (p * x + q - 1)


def customer_lifetime_value(
    bgnbd: BGNBD,
    spend: Any,
    frequency: Any,
    t_x: Any,
    T: Any,
    *,
    horizon: float,
    discount_rate: float = 0.0,
    step: float = 30.0,
    period: float = 365.0,
) -> np.ndarray:
    """Expected discounted spend of each customer over the next ``horizon`` time units.

    The horizon is cut into steps of ``step`` units (the last one shorter if
    needed); the expected transactions of step k are
    ``E[X(t_k)] - E[X(t_{k-1})]`` from the BG/NBD model, valued at ``spend``
    per transaction and discounted by ``(1 + discount_rate)^(-t_k / period)``
    (``discount_rate`` is the rate per ``period``, by default per year when
    times are in days).

    Parameters
    ----------
    bgnbd : BGNBD
        A fitted model.
    spend : array-like of float
        Expected spend per transaction (e.g. :meth:`GammaGamma.expected_spend`), >= 0.
    frequency, t_x, T : array-like
        Customer summaries as in :meth:`BGNBD.fit`.
    horizon : float
        > 0.
    discount_rate : float, default 0
        >= 0, per ``period``.
    step, period : float
        > 0.

    Returns
    -------
    numpy.ndarray of float

    Examples
    --------
    >>> m = BGNBD()
    >>> m.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    >>> v = customer_lifetime_value(m, [10.0], [2], [30.0], [38.0], horizon=52, step=4,
    ...                             period=52, discount_rate=0.1)
    >>> bool(0 < v[0] < 10 * m.expected_purchases(52, [2], [30.0], [38.0])[0])
    True
    """
    owner = "customer_lifetime_value"
    horizon = check_number(horizon, "horizon", low=0, low_inclusive=False, owner=owner)
    discount_rate = check_number(discount_rate, "discount_rate", low=0, owner=owner)
    step = check_number(step, "step", low=0, low_inclusive=False, owner=owner)
    period = check_number(period, "period", low=0, low_inclusive=False, owner=owner)
    check_instance(bgnbd, BGNBD, f"bgnbd of {owner} must be a fitted BGNBD")
    s = _as_float_array(spend, "spend", owner)
    if (s < 0).any():
        raise InvalidValueError(f"spend of {owner} must be >= 0, got {s[s < 0][:3].tolist()}.")
    x, tx, tt = _check_summary(frequency, t_x, T, owner)
    if len(s) != len(x):
        raise InvalidValueError(
            f"spend and frequency of {owner} must have the same length, got {len(s)} and {len(x)}."
        )
    ends = np.append(np.arange(step, horizon, step), horizon)
    total = np.zeros(len(x))
    prev = np.zeros(len(x))
    for end in ends:  # a few steps (horizon / step), each vectorised over customers
        cum = bgnbd.expected_purchases(float(end), x, tx, tt)
        total += (cum - prev) * (1.0 + discount_rate) ** (-end / period)
        prev = cum
    return total * s


# ---------------------------------------------------------------------- summary
def _summary_arrays(ctx: ProfileContext) -> dict[str, np.ndarray]:
    """Day-level (frequency, t_x, T, monetary_value, first_spend) per user (internal order)."""
    p = ctx.purchases
    n = ctx.n_users
    amount = p["amount"]
    day = p["t"] // DAY_NS
    if len(day):
        d0 = int(day.min())
        key = p["u"] * (int(day.max()) - d0 + 1) + (day - d0)
        codes, uniq = pd.factorize(key, sort=True)
        day_amount = np.bincount(codes, weights=np.nan_to_num(amount, nan=0.0))
        day_nan = np.bincount(codes, weights=np.isnan(amount)) > 0
        span = int(day.max()) - d0 + 1
        du = uniq // span
        dd = uniq % span + d0
    else:
        day_amount = np.zeros(0)
        day_nan = np.zeros(0, dtype=bool)
        du = np.zeros(0, dtype=np.int64)
        dd = np.zeros(0, dtype=np.int64)
    # uniq is sorted, so rows are grouped by user and sorted by day within a user
    n_days = np.bincount(du, minlength=n)
    buyer = n_days > 0
    first_row = np.cumsum(n_days) - n_days
    last_row = first_row + n_days - 1
    first_day = np.zeros(n)
    last_day = np.zeros(n)
    first_day[buyer] = dd[first_row[buyer]]
    last_day[buyer] = dd[last_row[buyer]]
    as_of_days = ctx.as_of_ns / DAY_NS
    total = np.bincount(du, weights=day_amount, minlength=n)
    any_nan = np.bincount(du, weights=day_nan, minlength=n) > 0
    first_spend = np.full(n, np.nan)
    first_spend[buyer] = day_amount[first_row[buyer]]
    x = np.where(buyer, n_days - 1, 0).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mv = np.where(x > 0, (total - np.nan_to_num(first_spend)) / x, 0.0)
    mv[any_nan] = np.nan
    first_spend[any_nan] = np.nan
    return {
        "buyer": buyer,
        "frequency": x,
        "t_x": np.where(buyer, last_day - first_day, 0.0),
        "T": np.where(buyer, as_of_days - first_day, np.nan),
        "monetary_value": mv,
        "first_spend": first_spend,
    }


def rfm_summary(dataset: Dataset, as_of: Any = None) -> pd.DataFrame:
    """Per-customer BG/NBD summary of a Dataset's purchases before ``as_of``.

    A transaction is a calendar day (UTC) with at least one purchase event
    (type ``purchase``/``order``, every event without an ``event`` column);
    its value is the sum of ``quantity * price`` of the day's lines.

    Parameters
    ----------
    dataset : Dataset
    as_of : datetime-like, optional
        End of the observation period (exclusive); default: last event + 1 second.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``user_id``, only users with a purchase before ``as_of``;
        columns ``frequency`` (repeat transaction days), ``t_x`` and ``T``
        (days, see the module docstring), ``monetary_value`` (mean value of the
        repeat transactions, 0 when frequency is 0, NaN when a price is
        missing) and ``first_spend`` (value of the first day).

    Raises
    ------
    InvalidDtypeError
        ``dataset`` is not a Dataset.
    InvalidValueError
        ``as_of`` cannot be parsed.

    Examples
    --------
    >>> inter = pd.DataFrame({"user_id": ["a", "a", "a", "b"], "item_id": [1, 2, 1, 1],
    ...     "timestamp": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 18:00",
    ...                                  "2024-01-11 00:00", "2024-01-05 00:00"]),
    ...     "price": [10.0, 5.0, 8.0, 3.0]})
    >>> rfm_summary(Dataset.from_frames(inter), as_of="2024-01-21")
             frequency   t_x     T  monetary_value  first_spend
    user_id
    a              1.0  10.0  20.0             8.0         15.0
    b              0.0   0.0  16.0             0.0          3.0
    """
    check_instance(dataset, Dataset, "dataset must be a persona_rec.Dataset")
    ts = as_of_or_after(as_of, dataset.time_range[1])
    s = _summary_arrays(ProfileContext(dataset, ts))
    buyer = s.pop("buyer")
    index = pd.Index(dataset.user_map.external_ids[buyer], name=Columns.USER)
    return pd.DataFrame({c: s[c][buyer] for c in SUMMARY_COLUMNS}, index=index)


# ---------------------------------------------------------------------- builder
class PredictiveBuilder(Builder):
    """Profile builder: BG/NBD + Gamma-Gamma predictions per customer.

    Fits :class:`BGNBD` on every user with a purchase before ``as_of`` and
    :class:`GammaGamma` on those with a repeat purchase day and a positive
    mean repeat spend (see :func:`rfm_summary` for the day-level summary);
    users with zero-value repeat days are left out of the spend fit and
    counted in the log and in the column documentation.

    Columns (NaN for users without a purchase, as for the RFM columns; also
    NaN for ``expected_spend``/``clv`` when a purchase price is missing):

    - ``p_alive``: probability the customer is still active (0-1);
    - ``expected_purchases``: expected purchase days in the next
      ``horizon_days`` days;
    - ``expected_spend``: expected value of one future purchase day
      (Gamma-Gamma, shrunk to the population mean);
    - ``clv``: expected spend over the next ``clv_horizon_days`` days,
      discounted at ``discount_rate`` per year (30-day steps).

    The fitted parameters are logged and written into the column
    documentation (``Profiles.column_docs``). Not part of
    ``ProfileBuilder.default()``: add it explicitly (it fits two models and
    needs enough repeat customers).

    Parameters
    ----------
    horizon_days : float, default 90
    clv_horizon_days : float, default 365
    discount_rate : float, default 0.1
        Annual discount rate of the CLV.
    penalizer : float, default 0.0
        Passed to both models.
    min_customers : int, default 10
        Passed to both models.

    Raises
    ------
    EmptyInputError, InvalidValueError
        From ``build``: no buyers, too few customers, no repeat purchase day,
        or a model that cannot be fitted (see :meth:`BGNBD.fit`,
        :meth:`GammaGamma.fit`). There is no silent fallback.

    Examples
    --------
    >>> PredictiveBuilder(horizon_days=30).horizon_days
    30.0
    """

    def __init__(
        self,
        horizon_days: float = 90.0,
        clv_horizon_days: float = 365.0,
        discount_rate: float = 0.1,
        penalizer: float = 0.0,
        min_customers: int = 10,
    ) -> None:
        own = "PredictiveBuilder"
        self.horizon_days = check_number(horizon_days, "horizon_days", low=0,
                                         low_inclusive=False, owner=own)
        self.clv_horizon_days = check_number(clv_horizon_days, "clv_horizon_days", low=0,
                                             low_inclusive=False, owner=own)
        self.discount_rate = check_number(discount_rate, "discount_rate", low=0, owner=own)
        self.penalizer = check_number(penalizer, "penalizer", low=0, owner=own)
        self.min_customers = check_int(min_customers, "min_customers", minimum=2, owner=own)

    def build(self, ctx: ProfileContext) -> ProfilePart:
        """Fit both models on the context's purchases and compute the columns."""
        s = _summary_arrays(ctx)
        buyer = s["buyer"]
        if not buyer.any():
            raise EmptyInputError(
                f"PredictiveBuilder: no purchase before as_of={ctx.as_of}; BG/NBD needs buyers."
            )
        x, tx, tt = s["frequency"][buyer], s["t_x"][buyer], s["T"][buyer]
        bg = BGNBD(penalizer=self.penalizer, min_customers=self.min_customers).fit(x, tx, tt)
        mv = s["monetary_value"][buyer]
        known = np.isfinite(mv)
        fit_rows = known & (x > 0) & (mv > 0)
        n_zero = int((known & (x > 0) & (mv <= 0)).sum())
        if n_zero:
            _log.warning("PredictiveBuilder: %d customer(s) with zero mean repeat spend left out "
                         "of the Gamma-Gamma fit", n_zero)
        if int(fit_rows.sum()) < self.min_customers:
            raise InvalidValueError(
                f"PredictiveBuilder: the Gamma-Gamma spend model needs at least min_customers="
                f"{self.min_customers} repeat buyers with a known, positive spend; got "
                f"{int(fit_rows.sum())} ({int(((x > 0) & ~known).sum())} repeat buyer(s) with a "
                f"missing price, {n_zero} with zero spend). Give purchases a 'price' (event or "
                f"item attribute)."
            )
        gg = GammaGamma(penalizer=self.penalizer, min_customers=self.min_customers).fit(
            x[fit_rows], mv[fit_rows])
        n = ctx.n_users
        p_alive = np.full(n, np.nan)
        p_alive[buyer] = bg.p_alive(x, tx, tt)
        expected = np.full(n, np.nan)
        expected[buyer] = bg.expected_purchases(self.horizon_days, x, tx, tt)
        spend = np.full(n, np.nan)
        sp_b = np.full(len(x), np.nan)
        sp_b[known] = gg.expected_spend(x[known], mv[known])
        spend[buyer] = sp_b
        clv = np.full(n, np.nan)
        clv_b = np.full(len(x), np.nan)
        clv_b[known] = customer_lifetime_value(
            bg, sp_b[known], x[known], tx[known], tt[known], horizon=self.clv_horizon_days,
            discount_rate=self.discount_rate, step=30.0, period=365.0)
        clv[buyer] = clv_b
        bgp = ", ".join(f"{k}={v:.4g}" for k, v in bg.params_.items())
        ggp = ", ".join(f"{k}={v:.4g}" for k, v in gg.params_.items())
        part = ProfilePart()
        part.columns.update({"p_alive": p_alive, "expected_purchases": expected,
                             "expected_spend": spend, "clv": clv})
        nodrop = ("; no drop-out identified (a / (a + b) -> 0, NBD limit), so p_alive ~ 1: "
                  "use expected_purchases"
                  if bg.no_dropout_ else "")
        part.docs.update({
            "p_alive": f"BG/NBD probability the customer is still active (0-1; fitted {bgp} on "
                       f"{bg.n_customers_} buyers, days{nodrop}; NaN: no purchase)",
            "expected_purchases": f"BG/NBD expected purchase days in the next "
                                  f"{self.horizon_days:g} days (count)",
            "expected_spend": f"Gamma-Gamma expected value of one purchase day (currency; "
                              f"fitted {ggp} on {gg.n_customers_} repeat buyers"
                              + (f", {n_zero} with zero repeat spend left out" if n_zero else "")
                              + ")",
            "clv": f"expected spend over the next {self.clv_horizon_days:g} days discounted at "
                   f"{self.discount_rate:g} per year (currency)",
        })
        return part
