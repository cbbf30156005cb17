"""Bootstrap confidence intervals and paired significance tests over users."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._lazy import lazy_module
from .._validation import check_choice, check_int, check_number
from ..exceptions import EmptyInputError, InvalidDtypeError

sstats = lazy_module("scipy.stats")  # imported on first use (slow to import)

__all__ = ["bootstrap_ci", "paired_test"]


def _as_frame(values: Any, name: str) -> pd.DataFrame:
    if isinstance(values, pd.Series):
        return values.to_frame(values.name if values.name is not None else "value")
    if isinstance(values, pd.DataFrame):
        return values
    raise InvalidDtypeError(
        f"{name} must be a per-user Series or DataFrame (e.g. from evaluate_per_user), "
        f"got {type(values).__name__}."
    )


def bootstrap_ci(
    per_user: pd.DataFrame | pd.Series,
    *,
    n_bootstrap: int = 1000,
    ci: float = 0.95,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Percentile bootstrap confidence intervals of per-user means.

    Users are resampled with replacement (the same resample for every
    column, so intervals of related metrics are consistent); NaN values are
    left out of each resampled mean. The work is done in blocks with
    ``bincount`` and one matrix product per block, not per resample.

    Parameters
    ----------
    per_user : DataFrame or Series
        Rows = users, columns = metrics.
    n_bootstrap : int, default 1000
        Resamples (>= 10).
    ci : float, default 0.95
        Confidence level (0 < ci < 1).
    random_state : int, optional
        Seed.

    Returns
    -------
    pandas.DataFrame
        Indexed by column name with ``mean``, ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.Series([0.0, 1.0] * 50, name="HitRate@10")
    >>> out = bootstrap_ci(s, random_state=0)
    >>> bool(out.loc["HitRate@10", "ci_low"] < 0.5 < out.loc["HitRate@10", "ci_high"])
    True
    """
    frame = _as_frame(per_user, "per_user")
    b = check_int(n_bootstrap, "n_bootstrap", minimum=10, owner="bootstrap_ci")
    level = check_number(ci, "ci", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False,
                         owner="bootstrap_ci")
    values = frame.to_numpy(dtype=np.float64)
    n, m = values.shape
    out = pd.DataFrame(index=pd.Index(frame.columns, name="metric"),
                       columns=["mean", "ci_low", "ci_high"], dtype=float)
    if n == 0:
        return out
    present = ~np.isnan(values)
    filled = np.where(present, values, 0.0)
    n_present = present.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["mean"] = np.where(n_present > 0, filled.sum(axis=0) / n_present, np.nan)
    rng = np.random.default_rng(random_state)
    block = max(1, min(b, 2_000_000 // max(n, 1)))
    means = np.empty((b, m))
    done = 0
    while done < b:
        c = min(block, b - done)
        idx = rng.integers(0, n, size=(c, n))
        idx += (np.arange(c) * n)[:, None]
        counts = np.bincount(idx.ravel(), minlength=c * n).reshape(c, n).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            means[done:done + c] = (counts @ filled) / (counts @ present)
        done += c
    alpha = (1.0 - level) / 2.0
    defined = np.isfinite(means).any(axis=0)  # a column that is NaN for every user stays NaN
    if defined.any():
        low, high = np.nanquantile(means[:, defined], [alpha, 1.0 - alpha], axis=0)
        out.loc[out.index[defined], "ci_low"] = low
        out.loc[out.index[defined], "ci_high"] = high
    return out


def paired_test(
    a: pd.DataFrame | pd.Series,
    b: pd.DataFrame | pd.Series,
    *,
    method: str = "both",
) -> pd.DataFrame:
    """Paired significance test of two models' per-user values on one split.

    Users are matched by ``user_id`` (index); a user counts for a metric when
    both values are defined. The paired t-test (``scipy.stats.ttest_rel``)
    tests a zero mean difference; the Wilcoxon signed-rank test
    (``scipy.stats.wilcoxon``, zero differences dropped with
    ``zero_method="wilcox"``) a zero median difference without assuming
    normality.

    Parameters
    ----------
    a, b : DataFrame or Series
        Per-user values (e.g. from :func:`~persona_rec.evaluation.evaluate_per_user`);
        columns are matched by name.
    method : {"both", "t", "wilcoxon"}, default "both"

    Returns
    -------
    pandas.DataFrame
        Indexed by metric: ``n_users``, ``mean_a``, ``mean_b``, ``mean_diff``
        (b - a) and ``t_stat``/``t_pvalue`` and/or ``wilcoxon_stat``/``wilcoxon_pvalue``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> a = pd.Series(rng.random(200), name="NDCG@10")
    >>> b = a + 0.05 + rng.normal(0, 0.05, 200)
    >>> res = paired_test(a, b)
    >>> bool(res.loc["NDCG@10", "t_pvalue"] < 0.001), round(float(res.loc["NDCG@10", "mean_diff"]), 2)
    (True, 0.05)
    """
    check_choice(method, "method", ("both", "t", "wilcoxon"), owner="paired_test")
    fa, fb = _as_frame(a, "a"), _as_frame(b, "b")
    common = [c for c in fa.columns if c in fb.columns]
    if not common:
        raise EmptyInputError(
            f"a and b share no metric column (a has {list(fa.columns)}, b has {list(fb.columns)})."
        )
    joined = fa[common].add_suffix("_a").join(fb[common].add_suffix("_b"), how="inner")
    rows = {}
    for col in common:
        x = joined[f"{col}_a"].to_numpy(dtype=float)
        y = joined[f"{col}_b"].to_numpy(dtype=float)
        ok = ~np.isnan(x) & ~np.isnan(y)
        x, y = x[ok], y[ok]
        row: dict[str, float] = {
            "n_users": int(ok.sum()),
            "mean_a": float(x.mean()) if x.size else np.nan,
            "mean_b": float(y.mean()) if y.size else np.nan,
            "mean_diff": float((y - x).mean()) if x.size else np.nan,
        }
        diff = y - x
        if method in ("both", "t"):
            if x.size >= 2 and np.any(diff != diff[0]):
                res = sstats.ttest_rel(y, x)
                row["t_stat"], row["t_pvalue"] = float(res.statistic), float(res.pvalue)
            else:
                row["t_stat"] = row["t_pvalue"] = np.nan
        if method in ("both", "wilcoxon"):
            if np.count_nonzero(diff) >= 1:
                res = sstats.wilcoxon(y, x, zero_method="wilcox")
                row["wilcoxon_stat"] = float(res.statistic)
                row["wilcoxon_pvalue"] = float(res.pvalue)
            else:
                row["wilcoxon_stat"] = row["wilcoxon_pvalue"] = np.nan
        rows[col] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "metric"
    return out
