"""Bad input raises typed errors; Profiles save/load round-trips safely."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec.exceptions import (
    CorruptFileError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
)
from persona_rec.profiles import (
    ActivityBuilder,
    AffinityBuilder,
    LifecycleBuilder,
    NoveltyBuilder,
    PriceSensitivityBuilder,
    ProfileBuilder,
    Profiles,
    RepurchaseBuilder,
    RFMBuilder,
)

from .conftest import AS_OF


def test_dataset_must_be_a_dataset():
    with pytest.raises(InvalidDtypeError, match="dataset must be a persona_rec.Dataset, got "
                                                "DataFrame"):
        ProfileBuilder.default().build(pd.DataFrame({"user_id": [1]}))


@pytest.mark.parametrize("bad", ["not a date", "2024-13-45", True, [1, 2]])
def test_unparseable_as_of(tiny_dataset, bad):
    with pytest.raises(InvalidValueError, match="as_of must be a date/time"):
        ProfileBuilder.default().build(tiny_dataset, as_of=bad)


def test_nat_as_of(tiny_dataset):
    with pytest.raises(InvalidValueError, match="as_of must be a date/time, got a missing"):
        ProfileBuilder.default().build(tiny_dataset, as_of=pd.NaT)


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: AffinityBuilder(half_life_days=0), "'half_life_days' parameter of "
                                                    "AffinityBuilder must be a number > 0, got 0"),
        (lambda: AffinityBuilder(half_life_days=float("nan")), "'half_life_days'.*got nan"),
        (lambda: AffinityBuilder(half_life_days="90"), "'half_life_days'.*got '90'"),
        (lambda: ProfileBuilder.default(half_life_days=-3), "'half_life_days'.*got -3"),
        (lambda: NoveltyBuilder(window_days=-1), "'window_days' parameter of NoveltyBuilder"),
        (lambda: ActivityBuilder(session_gap_minutes=0), "'session_gap_minutes'"),
        (lambda: PriceSensitivityBuilder(min_item_sales=0), "'min_item_sales'.*>= 1, got 0"),
        (lambda: LifecycleBuilder(churn_factor=1.0, at_risk_factor=1.5),
         "'churn_factor'.*must be > at_risk_factor=1.5, got 1.0"),
        (lambda: LifecycleBuilder(prior_weight=-1), "'prior_weight'.*>= 0, got -1"),
        (lambda: RepurchaseBuilder(category_level=0), "'category_level'.*>= 1, got 0"),
        (lambda: ProfileBuilder([]), "builders must hold at least one builder"),
    ],
)
def test_bad_parameters(factory, match):
    with pytest.raises(InvalidParameterError, match=match):
        factory()


def test_builders_must_be_builders():
    with pytest.raises(InvalidDtypeError, match="builders must hold objects with a build"):
        ProfileBuilder([RFMBuilder(), "rfm"])
    with pytest.raises(InvalidDtypeError, match="builders must be a list.*got str"):
        ProfileBuilder("rfm")


def test_duplicate_columns_from_two_builders(tiny_dataset):
    with pytest.raises(InvalidParameterError, match=r"RFMBuilder produces column\(s\) "
                                                    r"\['avg_order_value'"):
        ProfileBuilder([RFMBuilder(), RFMBuilder()]).build(tiny_dataset)


def test_get_params_and_repr():
    b = AffinityBuilder(half_life_days=30)
    assert b.get_params() == {"half_life_days": 30.0, "min_brand_events": 3,
                              "price_band_min_items": 20, "n_levels": 3}
    assert repr(b).startswith("AffinityBuilder(half_life_days=30.0")


def test_save_load_round_trip(tiny_dataset, tmp_path):
    prof = ProfileBuilder.default().build(tiny_dataset, as_of=AS_OF)
    path = prof.save(tmp_path / "profiles.npz")
    back = Profiles.load(path)
    pd.testing.assert_frame_equal(back.frame, prof.frame)
    pd.testing.assert_frame_equal(back.category_cycles, prof.category_cycles,
                                  check_dtype=False)
    assert back.as_of == prof.as_of
    assert back.sensitive_columns == prof.sensitive_columns
    assert back.column_docs == prof.column_docs
    for kind, (m, names) in prof.affinities.items():
        m2, names2 = back.affinities[kind]
        assert names2 == names and (m2 != m).nnz == 0
    X1, n1 = prof.features()
    X2, n2 = back.features()
    assert n1 == n2 and np.allclose(X1.toarray(), X2.toarray())


def test_round_trip_with_int_ids_and_no_attributes(tmp_path):
    from persona_rec import Dataset
    inter = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [5, 6, 5],
                          "timestamp": pd.to_datetime(["2024-01-01", "2024-01-09", "2024-01-05"])})
    prof = ProfileBuilder.default().build(Dataset.from_frames(inter))
    back = Profiles.load(prof.save(tmp_path / "p.npz"))
    assert back.frame.index.tolist() == [1, 2]
    pd.testing.assert_frame_equal(back.frame, prof.frame)


def test_corrupt_files_raise(tiny_dataset, tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not a zip file at all")
    with pytest.raises(CorruptFileError, match="garbage.npz is not a readable persona_rec"):
        Profiles.load(garbage)
    prof = ProfileBuilder.default().build(tiny_dataset, as_of=AS_OF)
    good = prof.save(tmp_path / "good.npz")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(CorruptFileError):
        Profiles.load(truncated)
    other = tiny_dataset.save(tmp_path / "other.npz")
    with pytest.raises(CorruptFileError, match="holds a 'dataset' file, not a Profiles"):
        Profiles.load(other)
    old = tmp_path / "old.npz"
    np.savez(old, __meta__=np.frombuffer(b'{"kind": "something.else"}', dtype=np.uint8))
    with pytest.raises(CorruptFileError, match="written by persona_rec 0.1"):
        Profiles.load(old)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, __meta__=np.array([{"kind": "x"}], dtype=object))
    with pytest.raises(CorruptFileError):
        Profiles.load(pickled)
    with pytest.raises(FileNotFoundError):
        Profiles.load(tmp_path / "missing.npz")
