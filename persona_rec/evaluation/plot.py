"""Model-comparison chart for :func:`compare` / :func:`evaluate` results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._plotting import axes_or_new_figure, check_path, finish_figure
from .._validation import check_instance
from ..exceptions import EmptyInputError, InvalidDtypeError, MissingColumnError, UnknownIdError
from ._reco import ALL_GROUP

__all__ = ["comparison_frame", "plot_comparison"]

#: Non-metric columns of a :func:`compare` table.
_COMPARE_EXTRA = ("fit_time_s", "recommend_time_s", "n_users_without_reco")
_LONG_COLUMNS = ["model", "group", "metric", "value", "ci_low", "ci_high", "n_users"]


def _long(res: pd.DataFrame, model: str, name: str) -> pd.DataFrame:
    missing = [c for c in ("metric", "value") if c not in res.columns]
    if missing:
        raise MissingColumnError(
            f"{name} is missing column(s) {missing}: expected an evaluate() result "
            f"(group, metric, value, ...) or a compare() table; it has {list(res.columns)}."
        )
    out = pd.DataFrame({
        "model": model,
        "group": res["group"].astype(str) if "group" in res.columns else ALL_GROUP,
        "metric": res["metric"].astype(str),
        "value": pd.to_numeric(res["value"], errors="raise").astype(float),
    })
    for col in ("ci_low", "ci_high", "n_users"):
        out[col] = res[col].astype(float) if col in res.columns else np.nan
    return out


def comparison_frame(evaluation: Any) -> pd.DataFrame:
    """Normalise evaluation results into one long table.

    Parameters
    ----------
    evaluation : pandas.DataFrame or mapping of str to pandas.DataFrame
        A :func:`~persona_rec.evaluation.compare` table (one row per model,
        one column per metric), one :func:`~persona_rec.evaluation.evaluate`
        result (``group, metric, value, ...``; model name ``"model"``), or a
        mapping model name -> ``evaluate`` result.

    Returns
    -------
    pandas.DataFrame
        ``model, group, metric, value, ci_low, ci_high, n_users`` (NaN where
        the input has no such information; ``group`` is ``"all"`` for
        ``compare`` tables).

    Raises
    ------
    InvalidDtypeError
        ``evaluation`` is neither a DataFrame nor a mapping of DataFrames.
    EmptyInputError
        There is no metric value.
    MissingColumnError
        An ``evaluate`` result lacks ``metric`` or ``value``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"NDCG@10": [0.31, 0.12], "fit_time_s": [2.0, 0.1]},
    ...                      index=pd.Index(["EASE", "popular"], name="model"))
    >>> comparison_frame(table)[["model", "metric", "value"]]
         model   metric  value
    0     EASE  NDCG@10   0.31
    1  popular  NDCG@10   0.12
    """
    if isinstance(evaluation, Mapping):
        parts = []
        for model, res in evaluation.items():
            check_instance(res, pd.DataFrame, f"evaluation[{model!r}] must be a "
                                              f"pandas.DataFrame (an evaluate() result)")
            parts.append(_long(res, str(model), f"evaluation[{model!r}]"))
        out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=_LONG_COLUMNS)
    elif isinstance(evaluation, pd.DataFrame):
        if "metric" in evaluation.columns and "value" in evaluation.columns:
            out = _long(evaluation, "model", "evaluation")
        else:
            metrics = [c for c in evaluation.columns if c not in _COMPARE_EXTRA
                       and pd.api.types.is_numeric_dtype(evaluation[c])]
            wide = evaluation[metrics].astype(float)
            wide.index = pd.Index(wide.index.astype(str), name="model")
            out = wide.reset_index().melt(id_vars="model", var_name="metric", value_name="value")
            order = {m: i for i, m in enumerate(wide.index)}
            out = out.iloc[np.lexsort((out.index.to_numpy(), out["model"].map(order).to_numpy()))]
            out.insert(1, "group", ALL_GROUP)
            for col in ("ci_low", "ci_high", "n_users"):
                out[col] = np.nan
    else:
        raise InvalidDtypeError(
            f"evaluation must be a compare()/evaluate() DataFrame or a mapping name -> evaluate() "
            f"result, got {type(evaluation).__name__}."
        )
    if out.empty:
        raise EmptyInputError("evaluation holds no metric value.")
    return out[_LONG_COLUMNS].reset_index(drop=True)


def plot_comparison(
    evaluation: Any,
    metrics: Sequence[str] | None = None,
    *,
    group: str = ALL_GROUP,
    ax: Any = None,
    path: str | Path | None = None,
    title: str = "Model comparison",
    dpi: int = 120,
) -> Any:
    """Grouped bar chart: one group of bars per metric, one bar per model.

    Bars carry their value; confidence intervals (``evaluate(..., ci=...)``)
    are drawn as error bars.

    Parameters
    ----------
    evaluation : pandas.DataFrame or mapping
        Anything :func:`comparison_frame` accepts.
    metrics : sequence of str, optional
        Metric labels to show, in order (default: all, in input order).
    group : str, default "all"
        Which ``evaluate(by=...)`` group to draw.
    ax : matplotlib Axes, optional
        Draw here instead of on a new figure.
    path : str or pathlib.Path, optional
        Also write the figure (``.png``, ``.svg`` or ``.pdf``).
    title : str, default "Model comparison"
        Axes title.
    dpi : int, default 120
        Resolution of a written PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    UnknownIdError
        A requested metric or the group is not in the results.
    MissingDependencyError
        matplotlib is not installed.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"NDCG@10": [0.31, 0.12], "Recall@10": [0.2, 0.1]},
    ...                      index=pd.Index(["EASE", "popular"], name="model"))
    >>> fig = plot_comparison(table)
    >>> [round(float(p.get_height()), 2) for p in fig.axes[0].patches]
    [0.31, 0.2, 0.12, 0.1]
    """
    path = check_path(path, "plot_comparison")
    long = comparison_frame(evaluation)
    groups = long["group"].unique().tolist()
    if group not in groups:
        raise UnknownIdError(
            f"The 'group' parameter of plot_comparison must be one of {groups}, got {group!r}."
        )
    long = long[long["group"] == group]
    known = long["metric"].unique().tolist()
    if metrics is None:
        metrics = known
    else:
        metrics = [str(m) for m in metrics]
        unknown = [m for m in metrics if m not in known]
        if unknown:
            raise UnknownIdError(
                f"The 'metrics' parameter of plot_comparison names {unknown}, not in the results {known}."
            )
    models = long["model"].unique().tolist()
    value = long.pivot_table(index="model", columns="metric", values="value", aggfunc="first", dropna=False)
    value = value.reindex(index=models, columns=metrics)
    low = long.pivot_table(index="model", columns="metric", values="ci_low", aggfunc="first", dropna=False)
    high = long.pivot_table(index="model", columns="metric", values="ci_high", aggfunc="first", dropna=False)
    low = low.reindex(index=models, columns=metrics)
    high = high.reindex(index=models, columns=metrics)

    fig, ax, owned = axes_or_new_figure(
        ax, "plot_comparison", max(6.0, 1.1 * len(metrics) * max(1, len(models)) ** 0.5 + 3), 4.2)
    x = np.arange(len(metrics))
    width = 0.8 / max(len(models), 1)
    for j, model in enumerate(models):
        v = value.loc[model].to_numpy(dtype=float)
        lo = low.loc[model].to_numpy(dtype=float)
        hi = high.loc[model].to_numpy(dtype=float)
        has_ci = np.isfinite(lo) & np.isfinite(hi)
        yerr = np.vstack([np.where(has_ci, v - lo, 0.0), np.where(has_ci, hi - v, 0.0)])
        bars = ax.bar(x + (j - (len(models) - 1) / 2) * width, np.nan_to_num(v), width, label=model,
                      yerr=yerr if has_ci.any() else None, capsize=3 if has_ci.any() else 0)
        for rect, val in zip(bars, v):
            if np.isfinite(val):
                ax.annotate(f"{val:.3f}", (rect.get_x() + rect.get_width() / 2, rect.get_height()),
                            xytext=(0, 2), textcoords="offset points", ha="center", va="bottom",
                            fontsize=7, rotation=90 if len(models) > 3 else 0)
    ax.set_xticks(x)
    ax.set_xticklabels(metrics, rotation=20 if len(metrics) > 3 else 0, ha="right" if len(metrics) > 3 else "center")
    ax.set_ylabel("value")
    ax.set_title(title if group == ALL_GROUP else f"{title} ({group})")
    tops = np.fmax(value.to_numpy(dtype=float), high.to_numpy(dtype=float))
    top = float(np.nanmax(tops)) if np.isfinite(tops).any() else 1.0
    ax.set_ylim(0, max(top, 1e-9) * 1.35)
    ax.legend(fontsize="small", ncols=min(len(models), 4), loc="upper right")
    ax.spines[["top", "right"]].set_visible(False)
    return finish_figure(fig, owned, path, "plot_comparison", dpi)
