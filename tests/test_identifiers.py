"""IdMap: round-trips for arbitrary ids, errors for bad ids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from persona_rec import IdMap
from persona_rec.exceptions import DuplicateIdError, InvalidValueError, UnknownIdError

ids_strategy = st.one_of(
    st.lists(st.text(min_size=1, max_size=8), max_size=40),
    st.lists(st.integers(min_value=-(2**62), max_value=2**62), max_size=40),
    st.lists(st.one_of(st.text(min_size=1, max_size=5), st.integers(-1000, 1000)), max_size=40),
)


@given(ids_strategy)
def test_round_trip_arbitrary_ids(values):
    m = IdMap.from_values(values)
    uniques = list(dict.fromkeys((type(v), v) for v in values))
    assert len(m) == len(uniques)
    if values:
        internal = m.to_internal(values)
        assert internal.min() >= 0 and internal.max() < len(m)
        back = m.to_external(internal)
        assert [type(b) if not isinstance(b, np.generic) else type(b.item()) for b in back] \
            == [type(v) for v in values]
        assert [b.item() if isinstance(b, np.generic) else b for b in back] == list(values)


@given(ids_strategy, ids_strategy)
def test_add_ids_keeps_existing_indices(first, second):
    m = IdMap.from_values(first)
    m2 = m.add_ids(second)
    if first:
        assert (m2.to_internal(first) == m.to_internal(first)).all()
    if second:
        assert (m2.to_external(m2.to_internal(second)) == np.asarray(second, dtype=object)).all()


def test_str_and_int_ids_are_distinct():
    m = IdMap.from_values([1, "1"])
    assert len(m) == 2
    assert m.to_internal(["1"]).tolist() == [1]


def test_unknown_id_raises_with_example():
    m = IdMap.from_values(["a", "b"])
    with pytest.raises(UnknownIdError, match=r"1 user_id\(s\) are not known, e.g. \['zz'\]"):
        m.to_internal(["a", "zz"], what="user_id")
    assert m.to_internal(["a", "zz"], strict=False).tolist() == [0, -1]


def test_duplicate_and_missing_ids_rejected():
    with pytest.raises(DuplicateIdError, match=r"duplicated: \['a'\]"):
        IdMap(["a", "b", "a"])
    with pytest.raises(InvalidValueError, match="missing"):
        IdMap.from_values(["a", None])


def test_out_of_range_internal_index():
    m = IdMap.from_values([10, 20])
    with pytest.raises(UnknownIdError, match=r"out of range \[0, 2\), got \[5\]"):
        m.to_external([0, 5])


def test_external_ids_read_only():
    m = IdMap.from_values([3, 4])
    with pytest.raises(ValueError):
        m.external_ids[0] = 9


# ---------------------------------------------------------- issue #10: request ids
junk = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True), st.tuples(st.integers()),
                 st.binary(max_size=3))
good = st.one_of(st.text(max_size=4), st.integers(-50, 50))


@given(st.lists(good, min_size=1, max_size=20), st.lists(st.one_of(good, junk), min_size=1,
                                                        max_size=10))
def test_requests_are_checked_element_wise(known, request):
    """Missing, bool, float, tuple and bytes ids are typed errors; str/int ids map exactly."""
    from persona_rec.exceptions import InvalidDtypeError

    m = IdMap.from_values(known)
    bad = [v for v in request if not (isinstance(v, str) or (isinstance(v, int)
                                                            and not isinstance(v, bool)))]
    try:
        idx = m.to_internal(request, strict=False)
    except (InvalidValueError, InvalidDtypeError) as err:
        if not bad:  # only the wrong-kind rule may refuse good ids
            assert isinstance(err, InvalidDtypeError) and "form is a known" in str(err)
        return
    assert not bad
    for v, i in zip(request, idx.tolist()):
        if i >= 0:
            back = m.to_external([i])[0]
            back = back.item() if isinstance(back, np.generic) else back
            assert type(back) is type(v) and back == v


@pytest.mark.skipif(
    int(np.__version__.split(".")[0]) < 2 or int(pd.__version__.split(".")[0]) < 3,
    reason="NUL-terminated ids and exact nullable-string round trips need numpy >= 2 and "
           "pandas >= 3 (docs/data-model.md, 'Ids'); older versions strip the trailing NULs")
def test_trailing_nul_request_is_not_stripped():
    m = IdMap.from_values(["a", "a\x00"])
    assert m.to_internal(["a\x00", "a"]).tolist() == [1, 0]
