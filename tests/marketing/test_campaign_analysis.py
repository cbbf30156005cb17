"""Tests for persona_rec.marketing.campaign_analysis (campaign outcomes, A/B reports, plots)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec.dataset import Dataset
from persona_rec.exceptions import (
    DuplicateIdError,
    InvalidParameterError,
    InvalidValueError,
    MissingColumnError,
    UnknownIdError,
)
from persona_rec.marketing.campaign_analysis import (
    analyze_ab,
    campaign_metrics,
    campaign_outcomes,
    plot_ab_result,
    plot_qini,
)

SENT = pd.Timestamp("2024-03-01 09:00")


def _campaign_world(rng: np.random.Generator, n_users: int = 4000):
    """Users buy at 4% (control) or 7% (treatment) within 14 days of the send."""
    users = np.arange(n_users)
    group = np.where(rng.random(n_users) < 0.5, "treatment", "control")
    p_buy = np.where(group == "treatment", 0.07, 0.04)
    buys = rng.random(n_users) < p_buy
    rows = []
    # every user browses before the campaign (must not count)
    rows.append(pd.DataFrame({"user_id": users, "item_id": rng.integers(0, 50, n_users),
                              "timestamp": SENT - pd.to_timedelta(rng.integers(1, 30, n_users), "D"),
                              "event": "purchase", "price": 9.0, "quantity": 1, "order_id": -users - 1}))
    b = users[buys]
    rows.append(pd.DataFrame({"user_id": b, "item_id": rng.integers(0, 50, b.size),
                              "timestamp": SENT + pd.to_timedelta(rng.integers(0, 13 * 24, b.size), "h"),
                              "event": "purchase", "price": 20.0, "quantity": rng.integers(1, 4, b.size),
                              "order_id": b}))
    v = users[rng.random(n_users) < 0.3]
    rows.append(pd.DataFrame({"user_id": v, "item_id": 1, "timestamp": SENT + pd.Timedelta(days=20),
                              "event": "view", "price": 20.0, "quantity": 1, "order_id": -1}))
    inter = pd.concat(rows, ignore_index=True)
    ds = Dataset.from_frames(inter)
    clicked = rng.random(n_users) < np.where(group == "treatment", 0.12, 0.0)
    camp = pd.DataFrame({"user_id": users, "group": group, "sent_at": SENT, "clicked": clicked})
    return ds, camp, buys, v


def test_outcomes_read_only_the_window(rng):
    ds, camp, buys, v = _campaign_world(rng)
    out = campaign_outcomes(camp, ds, window_days=14, retention_days=30)
    assert out["user_id"].tolist() == camp["user_id"].tolist()
    np.testing.assert_array_equal(out["converted"].to_numpy(), buys)
    assert (out.loc[buys, "revenue"] >= 20).all() and (out.loc[~buys, "revenue"] == 0).all()
    assert (out.loc[buys, "n_orders"] == 1).all()
    np.testing.assert_array_equal(out["retained"].to_numpy(), np.isin(camp["user_id"], v))
    m = campaign_metrics(out)
    assert m.loc["control", "ctr"] == 0.0
    assert m.loc["treatment", "conversion_rate"] == pytest.approx(0.07, abs=0.015)
    assert m.loc["control", "conversion_rate"] == pytest.approx(0.04, abs=0.015)
    assert m.loc["treatment", "revenue_per_converter"] == pytest.approx(40.0, abs=6)


def test_ab_report_detects_planted_effect(rng):
    ds, camp, _, _ = _campaign_world(rng)
    rep = analyze_ab(campaign_outcomes(camp, ds))
    conv = rep.tests["converted"]
    assert conv.test == "two-proportion z-test"
    assert conv.significant and conv.ci_low < 0.03 < conv.ci_high
    assert rep.tests["revenue"].test == "Welch t-test" and rep.tests["revenue"].effect > 0
    assert not rep.srm.mismatch
    assert rep.results.loc["converted", "effect"] == pytest.approx(conv.effect)
    text = rep.summary()
    assert "converted" in text and "sample-ratio check" in text
    # swapping the arms flips every effect
    swapped = analyze_ab(campaign_outcomes(camp, ds), treatment="control", control="treatment")
    np.testing.assert_allclose(swapped.results["effect"], -rep.results["effect"], atol=1e-12)


def test_srm_flags_broken_split(rng):
    ds, camp, _, _ = _campaign_world(rng, 3000)
    camp = camp[~((camp["group"] == "control") & (camp["user_id"] % 4 == 0))]
    rep = analyze_ab(campaign_outcomes(camp, ds))
    assert rep.srm.mismatch
    assert "MISMATCH" in rep.summary()
    # the planned 60/40 split makes a 60/40 observation fine
    n_t = int((camp["group"] == "treatment").sum())
    n_c = int((camp["group"] == "control").sum())
    ok = analyze_ab(campaign_outcomes(camp, ds), expected_ratio=n_t / n_c)
    assert not ok.srm.mismatch


def test_outcome_errors(rng):
    ds, camp, _, _ = _campaign_world(rng, 200)
    with pytest.raises(MissingColumnError, match=r"campaign is missing column\(s\) \['sent_at'\]"):
        campaign_outcomes(camp.drop(columns="sent_at"), ds)
    with pytest.raises(DuplicateIdError, match=r"campaign\['user_id'\] must be unique.*\[0\]"):
        campaign_outcomes(pd.concat([camp, camp.iloc[:1]]), ds)
    bad = camp.assign(sent_at=camp["sent_at"].astype(object))
    bad.loc[3, "sent_at"] = "not a date"
    with pytest.raises(InvalidValueError, match=r"campaign\['sent_at'\] must hold valid times.*e.g. \['not a date'\]"):
        campaign_outcomes(bad, ds)
    out = campaign_outcomes(camp, ds)
    with pytest.raises(UnknownIdError, match=r"'treatment' arm 'B' is not a value of outcomes\['group'\]"):
        analyze_ab(out, treatment="B")


def test_unknown_users_have_zero_outcomes(rng):
    ds, camp, _, _ = _campaign_world(rng, 100)
    extra = pd.DataFrame({"user_id": [10_000], "group": ["treatment"], "sent_at": [SENT], "clicked": [False]})
    with pytest.warns(UserWarning, match=r"1 of 101 user\(s\) unknown to the dataset, e.g. \[10000\]"):
        out = campaign_outcomes(pd.concat([camp, extra], ignore_index=True), ds)
    assert out.attrs["n_unknown_users"] == 1
    last = out.iloc[-1]
    assert (last["converted"], last["revenue"], last["n_events"]) == (False, 0.0, 0)


def test_plots_write_png(tmp_path, rng):
    ds, camp, _, _ = _campaign_world(rng, 3000)
    out = campaign_outcomes(camp, ds)
    report = analyze_ab(out, metrics=["clicked", "converted", "revenue"])
    fig = plot_ab_result(report, tmp_path / "ab.png")
    assert len(fig.axes) == 6
    assert (tmp_path / "ab.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    t = (out["group"] == "treatment").to_numpy().astype(int)
    score = out["user_id"].to_numpy() % 7 + rng.random(len(out))
    y = out["converted"].to_numpy().astype(int)
    plot_qini(y, t, {"random": score}, tmp_path / "qini.png")
    assert (tmp_path / "qini.png").stat().st_size > 10_000


def test_plots_draw_on_given_axes_without_writing(tmp_path, rng):
    from matplotlib.figure import Figure

    from persona_rec.exceptions import InvalidParameterError

    ds, camp, _, _ = _campaign_world(rng, 1000)
    out = campaign_outcomes(camp, ds)
    report = analyze_ab(out, metrics=["clicked", "converted"])
    host = Figure(figsize=(10, 5))
    axes = host.subplots(2, 2)
    assert plot_ab_result(report, ax=axes) is host
    assert all(a.get_title() for a in axes.ravel())
    with pytest.raises(InvalidParameterError, match=r"2 axes per tested metric \(4 for \['clicked', 'converted'\]\), got 2"):
        plot_ab_result(report, ax=axes[0])
    t = (out["group"] == "treatment").to_numpy().astype(int)
    y = out["converted"].to_numpy().astype(int)
    ax = Figure().subplots()
    fig = plot_qini(y, t, {"a": rng.random(len(out)), "b": rng.random(len(out))}, ax=ax, title="mine")
    assert fig is ax.figure and ax.get_title() == "mine"
    assert len(ax.lines) == 5  # perfect, random, two models, zero line
    assert list(tmp_path.iterdir()) == []


def test_analyze_ab_expected_ratio_mapping_is_checked():
    out = pd.DataFrame({"group": ["treatment"] * 30 + ["control"] * 20,
                        "converted": [True, False] * 25})
    with pytest.raises(InvalidValueError, match=r"'expected_ratio' mapping of analyze_ab .* lacks \['control'\]"):
        analyze_ab(out, expected_ratio={"treatment": 0.6})
    with pytest.raises(InvalidParameterError, match=r"expected_ratio\['control'\]"):
        analyze_ab(out, expected_ratio={"treatment": 0.6, "control": -1})
    by_map = analyze_ab(out, expected_ratio={"treatment": 0.6, "control": 0.4})
    by_float = analyze_ab(out, expected_ratio=1.5)
    assert by_map.srm.p_value == pytest.approx(by_float.srm.p_value)
