"""Regression tests (issue 10): statistics never turn bad input into a silent number.

- ``analyze_ab`` used ``astype(bool)`` so a NaN outcome counted as a conversion;
- ``select_audience`` ranked ``+inf`` propensities first and failed inside pandas on strings;
- ``qini_auc`` returned NaN without a word when no user converted.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from persona_rec.exceptions import InvalidDtypeError, InvalidValueError
from persona_rec.marketing import analyze_ab, plot_qini, qini_auc, select_audience


def _outcomes(rng: np.random.Generator, n: int = 400) -> pd.DataFrame:
    group = np.where(np.arange(n) < n // 2, "treatment", "control")
    p = np.where(group == "treatment", 0.30, 0.20)
    return pd.DataFrame({
        "user_id": np.arange(n),
        "group": group,
        "converted": (rng.random(n) < p).astype(float),
        "revenue": rng.gamma(2.0, 10.0, n),
    })


# ------------------------------------------------------------------ analyze_ab
def test_nan_outcome_is_refused_not_counted_as_conversion(rng):
    out = _outcomes(rng)
    out.loc[[0, 1, 2, 250], "converted"] = np.nan
    with pytest.raises(InvalidValueError, match=r"outcomes\['converted'\] has 4 missing value\(s\) "
                                                r"\(treatment: 3, control: 1\).*dropna=True"):
        analyze_ab(out)


def test_dropna_tests_known_values_and_reports_counts(rng):
    out = _outcomes(rng)
    nan_rows = [0, 1, 2, 250]
    truth = out.drop(index=nan_rows)
    out.loc[nan_rows, "converted"] = np.nan
    rep = analyze_ab(out, metrics=["converted"], dropna=True)
    r = rep.results.loc["converted"]
    assert (r["n_treatment"], r["n_missing_treatment"]) == (197, 3)
    assert (r["n_control"], r["n_missing_control"]) == (199, 1)
    # the rates are those of the known values only (the bug counted NaN as 1)
    known_t = truth.loc[truth.group == "treatment", "converted"]
    known_c = truth.loc[truth.group == "control", "converted"]
    assert r["estimate_treatment"] == pytest.approx(known_t.mean())
    assert r["estimate_control"] == pytest.approx(known_c.mean())
    assert "3 treatment / 1 control value(s) missing, left out" in rep.summary()


def test_numeric_metric_with_some_nan_names_the_column(rng):
    out = _outcomes(rng)
    out.loc[5, "revenue"] = np.nan
    with pytest.raises(InvalidValueError, match=r"outcomes\['revenue'\] has 1 missing"):
        analyze_ab(out, metrics=["revenue"])
    rep = analyze_ab(out, metrics=["revenue"], dropna=True)
    assert rep.results.loc["revenue", "n_missing_treatment"] == 1
    out.loc[6, "revenue"] = np.inf
    with pytest.raises(InvalidValueError, match=r"outcomes\['revenue'\] must hold finite"):
        analyze_ab(out, metrics=["revenue"], dropna=True)


def test_binary_metric_with_other_values_is_refused(rng):
    out = _outcomes(rng)
    out["converted"] = out["converted"].astype(object)
    out.loc[3, "converted"] = "yes"
    with pytest.raises(InvalidDtypeError, match=r"outcomes\['converted'\] is a binary metric.*'yes'"):
        analyze_ab(out, metrics=["converted"])


def test_without_missing_values_results_are_unchanged(rng):
    out = _outcomes(rng)
    a = analyze_ab(out)
    b = analyze_ab(out, dropna=True)
    pd.testing.assert_frame_equal(a.results, b.results)
    assert (a.results[["n_missing_treatment", "n_missing_control"]] == 0).all().all()


# ------------------------------------------------------------- select_audience
@pytest.mark.parametrize("bad, n_nan", [(np.inf, 0), (-np.inf, 0), (np.nan, 1)])
def test_non_finite_propensity_is_refused(bad, n_nan):
    p = pd.Series([0.9, 0.2, bad, 0.7], index=pd.Index(["a", "b", "c", "d"], name="user_id"),
                  name="p_buy")
    with pytest.raises(InvalidValueError,
                       match=rf"propensity \(column 'p_buy'\) must hold finite scores; got 1 "
                             rf"non-finite value\(s\) \({n_nan} NaN.*'c'"):
        select_audience(propensity=p, min_audience_size=1)


def test_string_propensity_is_a_typed_error():
    p = pd.Series(["0.9", "high", 0.5], index=["a", "b", "c"])
    with pytest.raises(InvalidDtypeError, match=r"propensity must hold numeric scores.*'b': 'high'"):
        select_audience(propensity=p, min_audience_size=1)
    with pytest.raises(InvalidDtypeError, match="bool"):
        select_audience(propensity=pd.Series([True, False], index=["a", "b"]), min_audience_size=1)


def test_numeric_object_propensity_still_ranks():
    p = pd.Series([0.1, 0.9, 0.5], index=["a", "b", "c"], dtype=object)
    aud = select_audience(propensity=p, min_audience_size=1)
    assert aud["user_id"].tolist() == ["b", "c", "a"]


def test_users_missing_from_propensity_are_still_just_unscored():
    from persona_rec.marketing import select_audience as sa

    p = pd.Series([0.3, 0.8], index=["a", "b"])
    aud = sa(propensity=p, candidates=["a", "b", "z"], min_audience_size=1)
    assert aud["user_id"].tolist() == ["b", "a"]
    assert aud.attrs["funnel"]["scored"] == 2


# --------------------------------------------------------------------- qini_auc
@pytest.mark.parametrize("y", [[0] * 8, [1] * 8])
def test_qini_auc_without_variation_raises(y):
    t = [1, 1, 1, 1, 0, 0, 0, 0]
    s = np.arange(8.0)
    with pytest.raises(InvalidValueError, match=r"qini_auc\(normalize=True\) is undefined.*"
                                                r"among 4 treated.*normalize=False"):
        qini_auc(y, t, s)
    assert np.isfinite(qini_auc(y, t, s, normalize=False))


def test_plot_qini_labels_undefined_coefficient(tmp_path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot_qini([0] * 6, [1, 1, 1, 0, 0, 0], np.arange(6.0), tmp_path / "q.png")
    assert (tmp_path / "q.png").stat().st_size > 0
    assert fig is not None  # plot helpers return the Figure (the path is optional)
