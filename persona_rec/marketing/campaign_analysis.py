"""Campaign analysis: what a sent campaign did (per-user outcomes, group metrics, A/B reports, plots).

A *campaign frame* lists who was contacted (or held out) and when:

=============  ===============================================================
column         meaning
=============  ===============================================================
``user_id``    external user id (unique per campaign frame)
``group``      arm label, e.g. ``"treatment"`` / ``"control"``
``sent_at``    contact time (or pass ``sent_at=`` for one send time for all)
``clicked``    optional bool: the user clicked the message (gives CTR)
``opened``     optional bool: the user opened the message (gives open rate)
=============  ===============================================================

Outcomes are read from the :class:`~persona_rec.dataset.Dataset`'s
interactions after each user's send time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import warnings

import numpy as np
import pandas as pd

from .._plotting import (
    axes_or_new_figure,
    check_axes,
    check_path,
    figure_of,
    finish_figure,
    new_figure,
    save_figure,
)
from .._validation import (
    as_timestamp,
    as_timestamps,
    check_frame,
    check_number,
    example_values,
)
from ..columns import Columns, PURCHASE_EVENTS
from ..exceptions import (
    DuplicateIdError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    UnknownIdError,
)
from .ab_stats import (
    SRMResult,
    TestResult,
    sample_ratio_mismatch,
    two_proportion_ztest,
    welch_ttest,
)
from .uplift import perfect_qini_curve, qini_auc, qini_curve

__all__ = [
    "PURCHASE_EVENTS",
    "ABReport",
    "campaign_outcomes",
    "campaign_metrics",
    "analyze_ab",
    "plot_qini",
    "plot_ab_result",
]


_BINARY_METRICS = ("clicked", "opened", "converted", "retained")


def _user_key(values: pd.Series) -> pd.Series:
    return values.astype(object)


def campaign_outcomes(
    campaign: pd.DataFrame,
    dataset: Any,
    *,
    window_days: float = 14.0,
    retention_days: float = 30.0,
    sent_at: Any = None,
    group_col: str = "group",
    purchase_events: Sequence[str] = PURCHASE_EVENTS,
) -> pd.DataFrame:
    """Per-user outcomes of a campaign, measured from the behaviour log.

    Parameters
    ----------
    campaign : pandas.DataFrame
        One row per contacted or held-out user: ``user_id``, ``group_col``,
        ``sent_at`` (unless given as the argument) and optional ``clicked`` /
        ``opened`` bool columns.
    dataset : Dataset
        Behaviour log; its interactions after each user's send time are the
        outcome. Users unknown to the dataset get zero outcomes.
    window_days : float, default 14
        Conversion window: events in ``[sent_at, sent_at + window_days)``.
    retention_days : float, default 30
        Retention window after the conversion window: a user is *retained*
        when they have any event in
        ``[sent_at + window_days, sent_at + window_days + retention_days)``.
    sent_at : timestamp-like, optional
        Send time for every user when ``campaign`` has no ``sent_at`` column.
        Send times (argument or column) are read as the Dataset reads times:
        epoch numbers get their unit (s, ms, us, ns) from the magnitude,
        time-zone-aware times are converted to naive UTC, and times outside
        1677-09-22 .. 2262-04-11 are refused.
    group_col : str, default "group"
        Column holding the arm label.
    purchase_events : sequence of str, default ("purchase", "order")
        Event values that count as a purchase.

    Returns
    -------
    pandas.DataFrame
        ``user_id, group, sent_at, [clicked, opened,] converted (bool),
        n_orders, revenue, n_events, active_days, retained (bool)`` in the
        order of ``campaign``. ``revenue`` sums ``quantity * price`` of
        purchases in the window (quantity 1 when absent; item list price when
        the events carry no price; NaN when no price is known at all).
        Users unknown to the dataset get zero outcomes and a ``UserWarning``
        naming them (``attrs["n_unknown_users"]`` holds the count).
        ``n_orders`` counts distinct ``order_id`` values (purchase events when
        there is no ``order_id``).

    Raises
    ------
    MissingColumnError
        ``campaign`` lacks ``user_id``, ``group_col`` or ``sent_at``.
    DuplicateIdError
        A user appears twice in ``campaign``.
    InvalidValueError
        A send time is missing or unparseable.

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec.dataset import Dataset
    >>> inter = pd.DataFrame({
    ...     "user_id": ["a", "a", "b", "c"], "item_id": [1, 2, 1, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-02", "2024-01-20", "2024-01-03", "2023-12-01"]),
    ...     "event": ["purchase", "view", "view", "purchase"], "price": [10.0, 5.0, 10.0, 5.0]})
    >>> ds = Dataset.from_frames(inter)
    >>> camp = pd.DataFrame({"user_id": ["a", "b", "c"], "group": ["treatment", "treatment", "control"]})
    >>> out = campaign_outcomes(camp, ds, sent_at="2024-01-01", window_days=7)
    >>> print(out[["user_id", "converted", "revenue", "n_events", "retained"]].to_string(index=False))
    user_id  converted  revenue  n_events  retained
          a       True     10.0         1      True
          b      False      0.0         1     False
          c      False      0.0         0     False
    """
    window_days = check_number(window_days, "window_days", low=0.0, low_inclusive=False)
    retention_days = check_number(retention_days, "retention_days", low=0.0)
    required = [Columns.USER, group_col] + ([] if sent_at is not None else ["sent_at"])
    camp = check_frame(campaign, "campaign", required)
    dup = camp[Columns.USER].duplicated()
    if dup.any():
        raise DuplicateIdError(
            f"campaign['user_id'] must be unique (one row per user), got duplicates "
            f"{example_values(camp.loc[dup, Columns.USER])}."
        )
    out = pd.DataFrame({Columns.USER: camp[Columns.USER].to_numpy(), "group": camp[group_col].to_numpy()})
    # the Dataset's parser: epoch numbers by magnitude, naive times are UTC, aware ones converted
    if sent_at is None:
        sent = as_timestamps(camp["sent_at"], "campaign['sent_at']")
    else:
        sent = np.full(len(camp), as_timestamp(sent_at, "sent_at").to_datetime64(),
                       dtype="datetime64[ns]")
    out["sent_at"] = sent
    for col in ("clicked", "opened"):
        if col in camp.columns:
            vals = camp[col]
            if vals.dtype.kind != "b" and not vals.isin([0, 1, True, False]).all():
                raise InvalidDtypeError(
                    f"campaign['{col}'] must be bool (or 0/1), got {example_values(vals[~vals.isin([0, 1])])}."
                )
            out[col] = vals.astype(bool).to_numpy()

    known = dataset.user_state(out[Columns.USER].to_numpy()) != "cold"
    n_unknown = int((~known).sum())
    if n_unknown:
        warnings.warn(
            f"campaign has {n_unknown} of {len(out)} user(s) unknown to the dataset, e.g. "
            f"{example_values(out.loc[~known, Columns.USER])}; they get zero outcomes "
            "(check that the id types match).",
            UserWarning,
            stacklevel=2,
        )
    inter = dataset.interactions
    pos = pd.Series(np.arange(len(out)), index=pd.Index(_user_key(out[Columns.USER])))
    row = pos.reindex(_user_key(inter[Columns.USER])).to_numpy()
    keep = ~np.isnan(row)
    inter = inter.loc[keep]
    row = row[keep].astype(np.int64)
    ts = inter[Columns.TIMESTAMP].to_numpy()
    start = out["sent_at"].to_numpy()[row]
    win = np.timedelta64(int(window_days * 86400e9), "ns")
    ret = np.timedelta64(int(retention_days * 86400e9), "ns")
    in_win = (ts >= start) & (ts < start + win)
    in_ret = (ts >= start + win) & (ts < start + win + ret)

    n = len(out)
    if Columns.EVENT in inter.columns:
        is_buy = inter[Columns.EVENT].astype(str).isin(list(purchase_events)).to_numpy()
    else:
        is_buy = np.ones(len(inter), dtype=bool)
    buy = in_win & is_buy
    qty = inter[Columns.QUANTITY].to_numpy(dtype=np.float64) if Columns.QUANTITY in inter.columns else np.ones(len(inter))
    if Columns.PRICE in inter.columns:
        price = inter[Columns.PRICE].to_numpy(dtype=np.float64)
    else:
        items = dataset.item_attributes()
        if Columns.PRICE in items.columns:
            price = items[Columns.PRICE].reindex(inter[Columns.ITEM].to_numpy()).to_numpy(dtype=np.float64)
        else:
            price = np.full(len(inter), np.nan)
    line = np.where(buy, np.nan_to_num(qty, nan=1.0) * price, 0.0)
    revenue = np.bincount(row, weights=np.nan_to_num(line), minlength=n)
    if np.all(np.isnan(price)):
        revenue = np.full(n, np.nan)
    out["converted"] = np.bincount(row, weights=buy, minlength=n) > 0
    if "order_id" in inter.columns:
        orders = pd.DataFrame({"r": row[buy], "o": inter["order_id"].to_numpy()[buy]}).drop_duplicates()
        out["n_orders"] = np.bincount(orders["r"].to_numpy(), minlength=n).astype(np.int64)
    else:
        out["n_orders"] = np.bincount(row, weights=buy, minlength=n).astype(np.int64)
    out["revenue"] = revenue
    out["n_events"] = np.bincount(row, weights=in_win, minlength=n).astype(np.int64)
    days = pd.DataFrame(
        {"r": row[in_win], "d": ts[in_win].astype("datetime64[D]")}
    ).drop_duplicates()
    out["active_days"] = np.bincount(days["r"].to_numpy(), minlength=n).astype(np.int64)
    out["retained"] = np.bincount(row, weights=in_ret, minlength=n) > 0
    out.attrs["n_unknown_users"] = n_unknown
    return out


def campaign_metrics(outcomes: pd.DataFrame, *, group_col: str = "group") -> pd.DataFrame:
    """Summarise campaign outcomes per group.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        Output of :func:`campaign_outcomes` (or any frame with the same columns).
    group_col : str, default "group"
        Arm column.

    Returns
    -------
    pandas.DataFrame
        Indexed by group: ``n_users``, ``ctr`` (clicks / contacted; only with a
        ``clicked`` column), ``open_rate`` (with ``opened``),
        ``conversion_rate``, ``revenue_per_user``, ``orders_per_user``,
        ``events_per_user``, ``active_days_per_user``, ``retention_rate``,
        ``revenue_per_converter``.

    Examples
    --------
    >>> import pandas as pd
    >>> o = pd.DataFrame({"group": ["t", "t", "c", "c"], "converted": [True, False, False, False],
    ...     "revenue": [20.0, 0, 0, 0], "clicked": [True, True, False, True]})
    >>> campaign_metrics(o)[["n_users", "ctr", "conversion_rate", "revenue_per_user"]]
           n_users  ctr  conversion_rate  revenue_per_user
    group
    c            2  0.5              0.0               0.0
    t            2  1.0              0.5              10.0
    """
    check_frame(outcomes, "outcomes", [group_col, "converted"])
    g = outcomes.groupby(group_col, sort=True)
    res = pd.DataFrame({"n_users": g.size()})
    if "clicked" in outcomes.columns:
        res["ctr"] = g["clicked"].mean()
    if "opened" in outcomes.columns:
        res["open_rate"] = g["opened"].mean()
    res["conversion_rate"] = g["converted"].mean()
    spec = [
        ("revenue", "revenue_per_user"),
        ("n_orders", "orders_per_user"),
        ("n_events", "events_per_user"),
        ("active_days", "active_days_per_user"),
        ("retained", "retention_rate"),
    ]
    for col, name in spec:
        if col in outcomes.columns:
            res[name] = g[col].mean()
    if "revenue" in outcomes.columns:
        conv = outcomes[outcomes["converted"].astype(bool)].groupby(group_col)["revenue"].mean()
        res["revenue_per_converter"] = conv.reindex(res.index)
    res.index.name = "group"
    return res


@dataclass(frozen=True)
class ABReport:
    """Result of :func:`analyze_ab`.

    Attributes
    ----------
    metrics : pandas.DataFrame
        :func:`campaign_metrics` per group.
    results : pandas.DataFrame
        One row per tested metric: ``test, effect, ci_low, ci_high,
        statistic, p_value, significant, estimate_treatment, estimate_control,
        relative_effect, n_treatment, n_control, n_missing_treatment,
        n_missing_control`` (``n_*`` count the users tested; ``n_missing_*``
        the users left out because the value was missing, with
        ``analyze_ab(..., dropna=True)``).
    tests : dict of str -> TestResult
        The same results as objects.
    srm : SRMResult
        Sample-ratio-mismatch check of the two arms.
    treatment, control : str
        Arm labels.
    """

    metrics: pd.DataFrame
    results: pd.DataFrame
    tests: dict[str, TestResult]
    srm: SRMResult
    treatment: Any
    control: Any

    def _missing_note(self, metric: str) -> str:
        cols = ("n_missing_treatment", "n_missing_control")
        if not set(cols) <= set(self.results.columns) or metric not in self.results.index:
            return ""
        mt, mc = (int(self.results.loc[metric, c]) for c in cols)
        return f" ({mt} treatment / {mc} control value(s) missing, left out)" if mt or mc else ""

    def summary(self) -> str:
        """Return a short plain-text report."""
        lines = [
            f"A/B test: {self.treatment!r} (n={self.srm.observed[self.treatment]:.0f}) vs "
            f"{self.control!r} (n={self.srm.observed[self.control]:.0f})",
            f"sample-ratio check: chi2={self.srm.statistic:.2f}, p={self.srm.p_value:.3g}"
            + (" -> MISMATCH, do not trust the results" if self.srm.mismatch else " -> ok"),
        ]
        for name, r in self.tests.items():
            lines.append(
                f"{name:>16}: control {r.estimate_control:.4g}, treatment {r.estimate_treatment:.4g}, "
                f"diff {r.effect:+.4g} [{r.ci_low:+.4g}, {r.ci_high:+.4g}] "
                f"({'n/a' if np.isnan(r.relative_effect) else format(r.relative_effect, '+.1%')}), "
                f"{r.test} p={r.p_value:.3g}"
                + (" *" if r.significant else "")
                + self._missing_note(name)
            )
        return "\n".join(lines)


def analyze_ab(
    outcomes: pd.DataFrame,
    *,
    treatment: Any = "treatment",
    control: Any = "control",
    group_col: str = "group",
    metrics: Sequence[str] | None = None,
    expected_ratio: float | Mapping[Any, float] | None = None,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    dropna: bool = False,
) -> ABReport:
    """A/B analysis of campaign outcomes.

    Binary metrics (``clicked``, ``opened``, ``converted``, ``retained``, or
    any bool column) get a two-proportion z-test; numeric metrics
    (``revenue``, ``n_orders``, ``n_events``, ``active_days``, ...) get
    Welch's t-test. Effects are treatment minus control.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        Output of :func:`campaign_outcomes`.
    treatment, control : label, default "treatment", "control"
        Arm labels in ``group_col``.
    group_col : str, default "group"
        Arm column.
    metrics : sequence of str, optional
        Columns to test; default: every known outcome column present.
    expected_ratio : float or mapping, optional
        Planned ``n_treatment / n_control`` (float) or ``{arm: share}`` (with
        a positive share for both arms); equal split when omitted. Used by the
        sample-ratio-mismatch check.
    alpha : float, default 0.05
        Significance level.
    alternative : {"two-sided", "larger", "smaller"}, default "two-sided"
        Direction of every test.
    dropna : bool, default False
        What to do with missing (NaN/None) outcome values. ``False`` raises
        :class:`~persona_rec.exceptions.InvalidValueError` naming the metric
        and the number of missing values per arm: a missing outcome is
        neither a conversion nor a non-conversion, so guessing would bias the
        estimate. ``True`` tests each metric on the users whose value is
        known and reports how many were left out per arm in the result
        columns ``n_missing_treatment`` / ``n_missing_control``. A numeric
        metric missing for every user (e.g. ``revenue`` of data without
        prices) is skipped in both modes.

    Returns
    -------
    ABReport

    Raises
    ------
    UnknownIdError
        ``treatment`` or ``control`` is not a value of ``group_col``.
    MissingColumnError
        A requested metric column is absent.
    InvalidValueError
        A metric has missing values and ``dropna`` is False, or infinite values;
        an ``expected_ratio`` mapping lacks an arm.
    InvalidParameterError
        An ``expected_ratio`` that is not a positive number.
    InvalidDtypeError
        A binary metric holds values other than bool or 0/1.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> out = pd.DataFrame({
    ...     "group": ["treatment"] * 4 + ["control"] * 4,
    ...     "converted": [1, 1, 0, np.nan, 1, 0, 0, 0],
    ... })
    >>> analyze_ab(out)
    Traceback (most recent call last):
    ...
    persona_rec.exceptions.InvalidValueError: outcomes['converted'] has 1 missing value(s) (treatment: 1, control: 0), e.g. [nan]; ...
    >>> rep = analyze_ab(out, dropna=True)
    >>> rep.results.loc["converted", ["n_treatment", "n_missing_treatment", "n_control"]].tolist()
    [3, 1, 4]
    """
    check_frame(outcomes, "outcomes", [group_col])
    labels = set(outcomes[group_col].unique().tolist())
    for name, label in (("treatment", treatment), ("control", control)):
        if label not in labels:
            raise UnknownIdError(
                f"The '{name}' arm {label!r} is not a value of outcomes['{group_col}'], "
                f"which holds {sorted(map(str, labels))}."
            )
    if metrics is None:
        known = ["clicked", "opened", "converted", "revenue", "n_orders", "n_events", "active_days", "retained"]
        metrics = [m for m in known if m in outcomes.columns]
    check_frame(outcomes, "outcomes", list(metrics))
    sub = outcomes[outcomes[group_col].isin([treatment, control])]
    t_rows = sub[group_col] == treatment
    if not isinstance(dropna, (bool, np.bool_)):
        raise InvalidParameterError(f"The 'dropna' parameter of analyze_ab must be a bool, got {dropna!r}.")
    tests: dict[str, TestResult] = {}
    missing: dict[str, tuple[int, int]] = {}
    t_np = t_rows.to_numpy()
    for m in metrics:
        col = sub[m]
        binary = col.dtype.kind == "b" or m in _BINARY_METRICS
        na = col.isna().to_numpy()
        if not binary and col.dtype.kind not in "biuf" and not na.all():
            num = pd.to_numeric(col, errors="coerce")
            bad = col[num.isna().to_numpy() & ~na]
            if len(bad):
                raise InvalidDtypeError(
                    f"outcomes[{m!r}] must be numeric (or bool), got {example_values(bad)}."
                )
            col = num
        if na.all() and not binary:
            continue  # e.g. revenue without any price: nothing to test
        if na.any():
            n_t, n_c = int((na & t_np).sum()), int((na & ~t_np).sum())
            if not dropna:
                raise InvalidValueError(
                    f"outcomes[{m!r}] has {int(na.sum())} missing value(s) (treatment: {n_t}, "
                    f"control: {n_c}), e.g. {col[na].head(3).tolist()}; a missing outcome is not a "
                    "(non-)conversion. Fill them or pass dropna=True to test the known values "
                    "(the left-out counts are reported)."
                )
            missing[m] = (n_t, n_c)
        known = ~na
        if binary:
            vals = col[known]
            if vals.dtype.kind != "b":
                ok = vals.isin([0, 1, True, False]).to_numpy()
                if not ok.all():
                    raise InvalidDtypeError(
                        f"outcomes[{m!r}] is a binary metric and must hold bool or 0/1 values, got "
                        f"{example_values(vals[~ok])}."
                    )
            v = vals.astype(bool).to_numpy()
            tk = t_np[known]
            tests[m] = two_proportion_ztest(
                int(v[tk].sum()),
                int(tk.sum()),
                int(v[~tk].sum()),
                int((~tk).sum()),
                alpha=alpha,
                alternative=alternative,
            )
        else:
            v = col.to_numpy(dtype=np.float64)
            if np.isinf(v).any():
                raise InvalidValueError(
                    f"outcomes[{m!r}] must hold finite numbers, got {example_values(col[np.isinf(v)])}."
                )
            tests[m] = welch_ttest(
                v[known & t_np], v[known & ~t_np], alpha=alpha, alternative=alternative
            )
    results = pd.DataFrame([t.to_dict() for t in tests.values()], index=pd.Index(list(tests), name="metric"))
    results = results[
        [
            "test", "effect", "ci_low", "ci_high", "statistic", "p_value", "significant",
            "estimate_treatment", "estimate_control", "relative_effect", "n_treatment", "n_control",
        ]
    ]
    results["n_missing_treatment"] = [missing.get(m, (0, 0))[0] for m in results.index]
    results["n_missing_control"] = [missing.get(m, (0, 0))[1] for m in results.index]
    counts = {treatment: int(t_rows.sum()), control: int((~t_rows).sum())}
    if expected_ratio is None:
        ratios: Mapping[Any, float] | None = None
    elif isinstance(expected_ratio, Mapping):
        lacking = [arm for arm in (treatment, control) if arm not in expected_ratio]
        if lacking:
            raise InvalidValueError(
                f"The 'expected_ratio' mapping of analyze_ab must give a share for both arms "
                f"{[treatment, control]}; it lacks {lacking} (got keys {list(expected_ratio)})."
            )
        ratios = {arm: check_number(expected_ratio[arm], f"expected_ratio[{arm!r}]", low=0.0,
                                    low_inclusive=False, owner="analyze_ab")
                  for arm in (treatment, control)}
    else:
        r = check_number(expected_ratio, "expected_ratio", low=0.0, low_inclusive=False)
        ratios = {treatment: r, control: 1.0}
    srm = sample_ratio_mismatch(counts, ratios)
    return ABReport(
        metrics=campaign_metrics(sub, group_col=group_col),
        results=results,
        tests=tests,
        srm=srm,
        treatment=treatment,
        control=control,
    )


# ----------------------------------------------------------------------- plots
def plot_qini(
    y: Any,
    treatment: Any,
    scores: Mapping[str, Any] | Any,
    path: str | Path | None = None,
    *,
    ax: Any = None,
    title: str = "Qini curve",
    dpi: int = 100,
) -> Any:
    """Draw the Qini curves of one or more uplift scores; optionally save them.

    Draws each model's curve (legend shows its normalised Qini AUC, or
    "undefined" when :func:`~persona_rec.marketing.qini_auc` refuses the
    outcomes, e.g. without any conversion), the perfect ranking and the
    random-targeting diagonal.

    Parameters
    ----------
    y, treatment : array-like of {0, 1}
        Outcome and treatment indicator.
    scores : array-like or mapping name -> array-like
        Uplift scores to compare.
    path : str or Path, optional
        Also write the figure (``.png``, ``.svg`` or ``.pdf``).
    ax : matplotlib Axes, optional
        Draw here instead of on a new figure.
    title : str, default "Qini curve"
        Axes title.
    dpi : int, default 100
        Resolution of a written PNG.

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the curves: a new one, or the one ``ax`` belongs to.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed (``pip install 'persona-rec[plot]'``).
    """
    check_path(path, "plot_qini")
    if not isinstance(scores, Mapping):
        scores = {"model": scores}
    fig, ax, owned = axes_or_new_figure(ax, "plot_qini", 7, 5)
    xp, qp = perfect_qini_curve(y, treatment)
    ax.plot(xp, qp, color="0.4", lw=1, ls="--", label="perfect")
    ax.plot([0, xp[-1]], [0, qp[-1]], color="0.6", lw=1, ls=":", label="random")
    for name, s in scores.items():
        x, q = qini_curve(y, treatment, s)
        try:
            coef = f"{qini_auc(y, treatment, s):.3f}"
        except InvalidValueError:  # no conversions to rank: the coefficient does not exist
            coef = "undefined"
        ax.plot(x, q, lw=2, label=f"{name} (Qini coef. {coef})")
    ax.set_xlabel("users targeted (ranked by score)")
    ax.set_ylabel("extra conversions (Qini)")
    ax.set_title(title)
    ax.axhline(0, color="black", lw=0.5)
    ax.legend(loc="best", fontsize=9)
    return finish_figure(fig, owned, path, "plot_qini", dpi)


def plot_ab_result(
    report: ABReport,
    path: str | Path | None = None,
    *,
    ax: Any = None,
    title: str | None = None,
    dpi: int = 100,
) -> Any:
    """Draw an A/B report: per metric, both arms and the effect with its CI.

    Parameters
    ----------
    report : ABReport
        Output of :func:`analyze_ab`.
    path : str or Path, optional
        Also write the figure (``.png``, ``.svg`` or ``.pdf``).
    ax : array of matplotlib Axes, optional
        Draw here instead of on a new figure: two axes per tested metric
        (arms, effect), row by row, e.g. ``fig.subplots(n_metrics, 2)``.
    title : str, optional
        Figure title (default names the arms and the SRM verdict); set only
        on a figure this function creates.
    dpi : int, default 100
        Resolution of a written PNG.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the two axes of every tested metric.

    Raises
    ------
    InvalidParameterError
        ``ax`` does not hold two axes per metric.
    MissingDependencyError
        matplotlib is not installed (``pip install 'persona-rec[plot]'``).
    """
    check_path(path, "plot_ab_result")
    names = list(report.tests)
    n = max(len(names), 1)
    if ax is None:
        fig = new_figure("plot_ab_result", 11, 1.4 + 1.3 * n)
        axes = [fig.add_subplot(n, 2, i + 1) for i in range(2 * len(names))]
        owned = True
    else:
        axes = list(np.asarray(ax, dtype=object).ravel())
        if len(axes) != 2 * len(names):
            from ..exceptions import InvalidParameterError

            raise InvalidParameterError(
                f"The 'ax' parameter of plot_ab_result must hold 2 axes per tested metric "
                f"({2 * len(names)} for {names}), got {len(axes)}."
            )
        axes = [check_axes(a, "ax", "plot_ab_result") for a in axes]
        fig = figure_of(axes[0]) if axes else new_figure("plot_ab_result", 11, 1.4)
        owned = False
    for i, name in enumerate(names):
        r = report.tests[name]
        ax_l = axes[2 * i]
        ax_l.barh([1, 0], [r.estimate_control, r.estimate_treatment], color=["0.6", "tab:blue"])
        ax_l.set_yticks([1, 0], [f"{report.control}", f"{report.treatment}"])
        ax_l.set_title(f"{name}: per-arm {'rate' if 'z-test' in r.test else 'mean'}", fontsize=9)
        ax_r = axes[2 * i + 1]
        color = "tab:green" if r.significant and r.effect > 0 else ("tab:red" if r.significant else "0.3")
        ax_r.errorbar(
            [r.effect], [0], xerr=[[r.effect - r.ci_low], [r.ci_high - r.effect]],
            fmt="o", color=color, capsize=6, lw=2,
        )
        ax_r.axvline(0, color="black", lw=0.8)
        span = max(abs(r.ci_low), abs(r.ci_high), 1e-12) * 1.3
        ax_r.set_xlim(-span, span)
        ax_r.set_yticks([])
        ax_r.set_title(
            f"{name}: treatment - control = {r.effect:+.4g} "
            f"[{r.ci_low:+.3g}, {r.ci_high:+.3g}], p={r.p_value:.3g}",
            fontsize=8,
        )
    if owned:
        verdict = "SRM mismatch!" if report.srm.mismatch else f"SRM ok (p={report.srm.p_value:.2g})"
        fig.suptitle(title or f"A/B: {report.treatment} vs {report.control} - {verdict}", fontsize=11)
        fig.tight_layout()
    save_figure(fig, path, "plot_ab_result", dpi=dpi)
    return fig
