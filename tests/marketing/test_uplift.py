"""Tests for persona_rec.marketing.uplift (hand-checked cases and properties)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from persona_rec.exceptions import InvalidParameterError, InvalidValueError
from persona_rec.marketing.uplift import (
    perfect_qini_curve,
    qini_auc,
    qini_curve,
    uplift_at_k,
    uplift_auc,
    uplift_curve,
)


def test_hand_checked_curves():
    y, t, s = [1, 0, 1, 0], [1, 0, 0, 1], [0.9, 0.8, 0.7, 0.6]
    x, q = qini_curve(y, t, s)
    # n=3: Y_t=1, N_t=1, Y_c=1, N_c=2 -> 1 - 1 * 1/2
    assert q.tolist() == [0.0, 1.0, 1.0, 0.5, 0.0]
    x, u = uplift_curve(y, t, s)
    # n=3: (1/1 - 1/2) * 3
    assert u.tolist() == [0.0, 1.0, 2.0, 1.5, 0.0]


def test_ties_enter_together():
    y, t = [1, 0, 0, 1], [1, 0, 1, 0]
    x, q = qini_curve(y, t, [1.0, 1.0, 0.5, 0.5])
    assert x.tolist() == [0.0, 2.0, 4.0]
    assert q.tolist() == [0.0, 1.0, 0.0]
    # permuting rows inside a tie does not change the curve
    x2, q2 = qini_curve([0, 1, 1, 0], [0, 1, 0, 1], [1.0, 1.0, 0.5, 0.5])
    assert q2.tolist() == q.tolist()


def test_planted_uplift_is_ranked(rng):
    n = 20_000
    t = rng.integers(0, 2, n)
    persuadable = rng.random(n) < 0.3
    base = 0.05
    p = base + 0.25 * persuadable * t
    y = (rng.random(n) < p).astype(int)
    good = persuadable + rng.normal(0, 0.3, n)
    rand = rng.random(n)
    assert qini_auc(y, t, good) > 0.2
    assert abs(qini_auc(y, t, rand)) < 0.15
    assert qini_auc(y, t, -good) < 0
    assert uplift_auc(y, t, good) > uplift_auc(y, t, rand)
    top = uplift_at_k(y, t, good, 0.3)
    assert top == pytest.approx(0.25, abs=0.04)
    assert uplift_at_k(y, t, rand, 0.3) == pytest.approx(0.25 * 0.3, abs=0.04)
    # the perfect ranking has Qini coefficient 1
    yp = np.asarray(y) * t - np.asarray(y) * (1 - t)
    assert qini_auc(y, t, yp) == pytest.approx(1.0)
    xp, qp = perfect_qini_curve(y, t)
    x, q = qini_curve(y, t, good)
    assert q[-1] == pytest.approx(qp[-1])  # every curve ends at the same point


def test_uplift_at_k_group_strategies():
    y, t = [1, 1, 0, 0, 1, 0], [1, 0, 1, 0, 1, 0]
    s = [6, 1, 5, 2, 4, 3]
    assert uplift_at_k(y, t, s, 4) == pytest.approx(2 / 3)
    assert uplift_at_k(y, t, s, 0.5, strategy="by_group") == pytest.approx(0.5)
    assert np.isnan(uplift_at_k(y, t, s, 1))  # the top user is treated; no control in the cut


def test_uplift_errors():
    with pytest.raises(InvalidValueError, match=r"'y' must hold only 0/1 \(or bool\) values, got e.g. \[2.0\]"):
        qini_curve([0, 2], [0, 1], [1, 2])
    with pytest.raises(InvalidValueError, match=r"same length, got 2, 3 and 2"):
        qini_curve([0, 1], [0, 1, 1], [1, 2])
    with pytest.raises(InvalidValueError, match=r"'treatment' must contain both treated \(1\) and control \(0\) users, got 2 treated of 2"):
        qini_auc([0, 1], [1, 1], [1, 2])
    with pytest.raises(InvalidParameterError, match=r"'k' parameter must be an int >= 1 or a float in \(0, 1\], got 0"):
        uplift_at_k([0, 1], [0, 1], [1, 2], 0)
    with pytest.raises(InvalidParameterError, match=r"got 1.5"):
        uplift_at_k([0, 1], [0, 1], [1, 2], 1.5)
    with pytest.raises(InvalidValueError, match=r"'score' must hold finite numbers"):
        uplift_at_k([0, 1], [0, 1], [1, np.nan], 1)


@st.composite
def uplift_data(draw):
    n = draw(st.integers(4, 60))
    y = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    t = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n).filter(lambda v: 0 < sum(v) < len(v)))
    s = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    return np.array(y), np.array(t), np.array(s, dtype=float)


@settings(max_examples=150, deadline=None)
@given(uplift_data(), st.floats(0.05, 1.0))
def test_swapping_arms_flips_uplift(data, k):
    y, t, s = data
    a = uplift_at_k(y, t, s, k)
    b = uplift_at_k(y, 1 - t, s, k)
    if np.isnan(a):
        assert np.isnan(b)
    else:
        assert b == pytest.approx(-a, abs=1e-12)
    xa, ua = uplift_curve(y, t, s)
    xb, ub = uplift_curve(y, 1 - t, s)
    assert ub == pytest.approx(-ua, abs=1e-9)
    assert uplift_auc(y, 1 - t, s) == pytest.approx(-uplift_auc(y, t, s), abs=1e-9)
