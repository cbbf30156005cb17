"""features()/export(): sensitive columns left out by default; feature encoding."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from persona_rec import Dataset
from persona_rec.exceptions import InvalidDtypeError, InvalidParameterError
from persona_rec.profiles import ProfileBuilder

from .conftest import AS_OF, tiny_frames


@pytest.fixture
def prof(tiny_dataset):
    return ProfileBuilder.default().build(tiny_dataset, as_of=AS_OF)


def test_sensitive_columns_absent_by_default(prof):
    assert {"age", "gender", "age_band"} <= prof.sensitive_columns
    exported = prof.export()
    assert not ({"age", "gender", "age_band"} & set(exported.columns))
    assert "country" in exported.columns and "recency_days" in exported.columns
    X, names = prof.features()
    assert not [n for n in names if n.split(":")[0] in {"age_band", "gender", "attr"}]
    assert not [n for n in names if "age" == n.split(":")[-1]]


def test_sensitive_columns_present_when_asked(prof):
    exported = prof.export(include_sensitive=True)
    assert {"age", "gender", "age_band"} <= set(exported.columns)
    X, names = prof.features(include_sensitive=True)
    assert {"age_band:25-34", "gender:f", "gender:m", "attr:age"} <= set(names)
    row_a = dict(zip(names, X[prof.frame.index.get_loc("a")].toarray().ravel()))
    assert row_a["age_band:25-34"] == 1.0 and row_a["gender:f"] == 1.0
    assert row_a["gender:m"] == 0.0


def test_custom_sensitive_flags_are_respected():
    inter, users, items = tiny_frames()
    ds = Dataset.from_frames(inter, users=users, items=items, sensitive=["country"])
    prof = ProfileBuilder.default().build(ds, as_of=AS_OF)
    assert "country" in prof.sensitive_columns and "gender" not in prof.sensitive_columns
    assert "country" not in prof.export().columns
    assert "age_band" not in prof.sensitive_columns  # age is not flagged here
    names = prof.features()[1]
    assert not [n for n in names if n.startswith("country:")]
    assert "gender:f" in names


def test_feature_matrix_shape_names_and_scaling(prof):
    X, names = prof.features()
    assert sp.isspmatrix_csr(X) and X.dtype == np.float32
    assert X.shape == (prof.n_users, len(names)) and len(set(names)) == len(names)
    for expected in ["rfm:recency_days", "rfm:monetary", "lifecycle:active", "lifecycle:prospect",
                     "cat_l1:home", "cat_l2:home/kitchen", "cat_l3:home/kitchen/mugs",
                     "brand:acme", "brand:green_co", "price_band:low", "country:uk",
                     "activity:hour_sin"]:
        assert expected in names, expected
    assert not [n for n in names if n.startswith("registration_date")]
    dense = X.toarray()
    assert np.isfinite(dense).all()
    j = names.index("rfm:monetary")
    buyers = prof.frame["monetary"].notna().to_numpy()
    assert dense[buyers, j].mean() == pytest.approx(0.0, abs=1e-6)
    assert dense[buyers, j].std() == pytest.approx(1.0, abs=1e-5)
    assert np.all(dense[~buyers, j] == 0)  # missing -> the mean
    lc = [i for i, n in enumerate(names) if n.startswith("lifecycle:") and
          n != "lifecycle:expected_interval_days"]
    assert np.all(dense[:, lc].sum(axis=1) == 1)
    aff = [i for i, n in enumerate(names) if n.startswith("cat_l1:")]
    hot = prof.frame["n_events"].to_numpy() > 0
    assert np.allclose(dense[hot][:, aff].sum(axis=1), 1.0)


def test_feature_blocks_and_bad_arguments(prof):
    X, names = prof.features(blocks=["affinity"])
    assert all(n.split(":")[0] in {"cat_l1", "cat_l2", "cat_l3", "brand", "price_band"}
               for n in names)
    with pytest.raises(InvalidParameterError, match="'blocks'.*got \\['nope'\\]"):
        prof.features(blocks=["nope"])
    with pytest.raises(InvalidDtypeError, match="include_sensitive must be a bool, got 'yes'"):
        prof.features(include_sensitive="yes")
    with pytest.raises(InvalidDtypeError, match="include_sensitive must be a bool, got 1"):
        prof.export(include_sensitive=1)
    with pytest.raises(InvalidParameterError, match="'max_categories'.*>= 1, got 0"):
        prof.features(max_categories=0)


def test_max_categories_groups_rare_values(prof):
    X, names = prof.features(max_categories=1)
    assert "country:uk" in names and "country:other" in names and "country:france" not in names
    row_b = dict(zip(names, X[prof.frame.index.get_loc("b")].toarray().ravel()))
    assert row_b["country:other"] == 1.0
