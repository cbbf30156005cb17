"""plot_comparison / comparison_frame: every evaluation result shape, axes, files, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec.evaluation import comparison_frame, plot_comparison
from persona_rec.exceptions import EmptyInputError, InvalidDtypeError, MissingColumnError, UnknownIdError

pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402


def _evaluate_result(ndcg: float, recall: float) -> pd.DataFrame:
    """The shape evaluate(..., by="state", ci=0.95) returns."""
    return pd.DataFrame({
        "group": ["all", "all", "hot", "hot"],
        "metric": ["NDCG@10", "Recall@10", "NDCG@10", "Recall@10"],
        "value": [ndcg, recall, ndcg + 0.05, recall + 0.05],
        "n_users": [100, 100, 80, 80],
        "ci_low": [ndcg - 0.02, recall - 0.02, np.nan, np.nan],
        "ci_high": [ndcg + 0.02, recall + 0.03, np.nan, np.nan],
    })


def test_comparison_frame_shapes():
    table = pd.DataFrame({"NDCG@10": [0.3, 0.1], "Recall@10": [0.2, np.nan], "fit_time_s": [1.0, 2.0],
                          "n_users_without_reco": [0, 3]}, index=pd.Index(["a", "b"], name="model"))
    long = comparison_frame(table)
    assert long[["model", "metric"]].values.tolist() == [
        ["a", "NDCG@10"], ["a", "Recall@10"], ["b", "NDCG@10"], ["b", "Recall@10"]]
    assert np.isnan(long["value"].iloc[3]) and (long["group"] == "all").all()
    mapped = comparison_frame({"x": _evaluate_result(0.3, 0.2), "y": _evaluate_result(0.1, 0.1)})
    assert len(mapped) == 8 and mapped["ci_low"].notna().sum() == 4
    single = comparison_frame(_evaluate_result(0.3, 0.2))
    assert set(single["model"]) == {"model"}


def test_plot_comparison_bars_and_error_bars(tmp_path):
    ev = {"x": _evaluate_result(0.3, 0.2), "y": _evaluate_result(0.1, 0.15)}
    fig = plot_comparison(ev, path=tmp_path / "cmp.svg")
    ax = fig.axes[0]
    assert [round(float(p.get_height()), 2) for p in ax.patches] == [0.3, 0.2, 0.1, 0.15]
    assert len(ax.containers) == 4  # 2 bar containers + 2 error-bar containers
    assert (tmp_path / "cmp.svg").stat().st_size > 1000
    hot = plot_comparison(ev, ["Recall@10"], group="hot")
    assert [round(float(p.get_height()), 2) for p in hot.axes[0].patches] == [0.25, 0.2]
    assert hot.axes[0].get_title() == "Model comparison (hot)"
    host = Figure()
    ax = host.subplots()
    assert plot_comparison(ev, ax=ax) is host


def test_plot_comparison_errors():
    with pytest.raises(InvalidDtypeError, match="evaluation must be a compare"):
        plot_comparison([1, 2])
    with pytest.raises(InvalidDtypeError, match=r"evaluation\['m'\] must be a pandas.DataFrame"):
        comparison_frame({"m": "no"})
    with pytest.raises(MissingColumnError, match=r"evaluation\['m'\] is missing column\(s\) \['value'\]"):
        comparison_frame({"m": pd.DataFrame({"metric": ["NDCG@10"]})})
    with pytest.raises(EmptyInputError, match="no metric value"):
        comparison_frame({})
    with pytest.raises(UnknownIdError, match=r"names \['MAP@5'\], not in the results"):
        plot_comparison(_evaluate_result(0.3, 0.2), ["MAP@5"])
    with pytest.raises(UnknownIdError, match=r"'group' parameter of plot_comparison must be one of \['all', 'hot'\], got 'cold'"):
        plot_comparison(_evaluate_result(0.3, 0.2), group="cold")
