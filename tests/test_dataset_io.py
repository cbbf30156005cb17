"""Dataset.save / Dataset.load: exact round trip, safe format, clear errors."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest

from persona_rec import Dataset
from persona_rec.sample_data import load_sample, synthetic
from persona_rec.exceptions import CorruptFileError
from persona_rec.models import PopularRecommender


def assert_same(a: Dataset, b: Dataset) -> None:
    assert (a.n_users, a.n_items, a.n_interactions) == (b.n_users, b.n_items, b.n_interactions)
    assert a.user_map == b.user_map and a.item_map == b.item_map
    pd.testing.assert_frame_equal(a.interactions, b.interactions, check_dtype=False,
                                  check_categorical=False)
    pd.testing.assert_frame_equal(a.users, b.users, check_dtype=False)
    pd.testing.assert_frame_equal(a.items, b.items, check_dtype=False)
    assert (a.get_user_item_matrix() != b.get_user_item_matrix()).nnz == 0
    assert a.sensitive_columns == b.sensitive_columns
    assert a.event_weights == b.event_weights
    assert [r.removed for r in a.cleaning_reports] == [r.removed for r in b.cleaning_reports]
    ids = a.user_map.external_ids
    assert (a.user_state(ids) == b.user_state(ids)).all()


def test_round_trip_sample(tmp_path):
    ds = load_sample()
    path = ds.save(tmp_path / "sample")
    assert path.suffix == ".npz"
    assert_same(ds, Dataset.load(path))


def test_round_trip_synthetic_with_attributes_and_filters(tmp_path):
    ds = synthetic(n_users=300, n_items=80, n_events=5_000, random_state=3).dataset
    part = ds.filter_time(end=ds.time_range[1] - pd.Timedelta(days=60))
    loaded = Dataset.load(part.save(tmp_path / "part.npz"))
    assert_same(part, loaded)
    assert loaded.sensitive_columns == frozenset({"age", "gender"})


def test_tampered_file_is_rejected(tmp_path):
    ds = load_sample()
    path = ds.save(tmp_path / "d.npz")
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    key = next(k for k in arrays if k.startswith("inter.") and arrays[k].dtype.kind in "if")
    arrays[key] = arrays[key].copy()
    arrays[key][0] += 1
    np.savez(path, **arrays)
    with pytest.raises(CorruptFileError, match="checksum mismatch"):
        Dataset.load(path)


def test_not_a_dataset_file(tmp_path):
    bad = tmp_path / "junk.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(CorruptFileError, match="not a readable persona_rec"):
        Dataset.load(bad)
    ds = load_sample()
    model_path = PopularRecommender().fit(ds).save(tmp_path / "model.npz")
    with pytest.raises(CorruptFileError, match="not a Dataset"):
        Dataset.load(model_path)
    assert zipfile.is_zipfile(model_path)
