"""Safe npz persistence: round trips, tampering, mismatches."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from persona_rec import Dataset
from persona_rec.exceptions import CorruptFileError, NotFittedError
from persona_rec.models import (
    EASERecommender,
    ItemKNNRecommender,
    PopularRecommender,
    Recommender,
    read_header,
)
from persona_rec.models.persistence import FORMAT, decode_ids, encode_ids


@pytest.fixture
def mixed_ids() -> Dataset:
    inter = pd.DataFrame({"user_id": [1, "1", "b", 1], "item_id": [10, 11, "x", 11],
                          "timestamp": pd.date_range("2024-01-01", periods=4)},
                         dtype=object)
    inter["timestamp"] = pd.date_range("2024-01-01", periods=4)
    items = pd.DataFrame({"item_id": [10, 11, "x"],
                          "category": ["A > B", None, "A"],
                          "price": [1.0, np.nan, 3.0],
                          "in_stock": pd.array([True, None, False], dtype=object),
                          "since": pd.to_datetime(["2020-01-01", None, "2021-05-05"])},
                         ).astype({"item_id": object})
    return Dataset.from_frames(inter, items=items)


def test_ids_round_trip() -> None:
    for values in (np.array([3, 1, 2]), np.array(["a", "bb"]),
                   np.array([1, "1", "x"], dtype=object), np.array([5, 6], dtype=object),
                   np.array([], dtype=object)):
        arrays, meta = encode_ids(values)
        assert all(a.dtype.kind != "O" for a in arrays.values())
        out = decode_ids(arrays, meta)
        assert out.tolist() == values.tolist()
        assert [type(v) for v in out.tolist()] == [type(v) for v in values.tolist()]


def test_mixed_ids_and_attributes_round_trip(mixed_ids: Dataset, tmp_path) -> None:
    model = PopularRecommender().fit(mixed_ids)
    loaded = Recommender.load(model.save(tmp_path / "m.npz"))
    assert loaded.user_map_ == model.user_map_
    assert loaded.item_map_ == model.item_map_
    a, b = model.item_attributes_, loaded.item_attributes_
    assert a.index.tolist() == b.index.tolist()
    assert b["category"].isna().tolist() == [False, True, False]
    assert b["in_stock"].tolist()[0] is True and b["in_stock"].isna().tolist()[1]
    pd.testing.assert_series_equal(a["since"], b["since"])
    ids = [1, "1", "b", "new"]
    pd.testing.assert_frame_equal(
        model.recommend(ids, k=3, on_unknown="fallback", item_filter={"in_stock": True}),
        loaded.recommend(ids, k=3, on_unknown="fallback", item_filter={"in_stock": True}),
    )


def test_header_contents(block_dataset: Dataset, tmp_path) -> None:
    path = ItemKNNRecommender("cosine", k_neighbours=5).fit(block_dataset).save(tmp_path / "k")
    header = read_header(path)
    assert header["format"] == FORMAT and header["version"] == 2 and header["kind"] == "model"
    assert header["class"] == "ItemKNNRecommender"
    assert header["config"]["k_neighbours"] == 5
    assert "similarity_" in header["state"]
    with np.load(path, allow_pickle=False) as npz:
        assert all(npz[k].dtype.kind != "O" for k in npz.files)


def test_class_mismatch_and_unfitted(block_dataset: Dataset, tmp_path) -> None:
    path = PopularRecommender().fit(block_dataset).save(tmp_path / "pop")
    with pytest.raises(CorruptFileError, match="holds a PopularRecommender, not a EASERecommender"):
        EASERecommender.load(path)
    with pytest.raises(NotFittedError, match="must be fitted before save"):
        PopularRecommender().save(tmp_path / "x")
    with pytest.raises(FileNotFoundError):
        Recommender.load(tmp_path / "missing.npz")


def _rewrite(path, tmp_path, edit) -> object:
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(str(arrays["__header__"][()]))
    edit(header, arrays)
    arrays["__header__"] = np.asarray(json.dumps(header))
    out = tmp_path / "edited.npz"
    np.savez(out, **arrays)
    return out


def test_tampering_is_detected(block_dataset: Dataset, tmp_path) -> None:
    path = EASERecommender(10.0).fit(block_dataset).save(tmp_path / "ease")

    def flip(header, arrays):
        arrays["weights_"] = arrays["weights_"] * 2

    with pytest.raises(CorruptFileError, match="checksum mismatch for array 'weights_'"):
        Recommender.load(_rewrite(path, tmp_path, flip))

    def newer(header, arrays):
        header["version"] = 99

    with pytest.raises(CorruptFileError, match="format version 99"):
        Recommender.load(_rewrite(path, tmp_path, newer))

    def foreign(header, arrays):
        header["class"] = "os.system"
        header["module"] = "os"

    with pytest.raises(CorruptFileError, match="not a registered persona_rec model"):
        Recommender.load(_rewrite(path, tmp_path, foreign))

    def bad_config(header, arrays):
        header["config"]["regularization"] = -1

    with pytest.raises(CorruptFileError, match="stored config of EASERecommender is invalid"):
        Recommender.load(_rewrite(path, tmp_path, bad_config))

    def other_format(header, arrays):
        header["format"] = "something.else"

    with pytest.raises(CorruptFileError, match="expected 'persona_rec'"):
        Recommender.load(_rewrite(path, tmp_path, other_format))


def test_not_an_npz(tmp_path) -> None:
    p = tmp_path / "junk.npz"
    p.write_text("hello")
    with pytest.raises(CorruptFileError, match="not a readable persona_rec model file"):
        Recommender.load(p)
    z = tmp_path / "nohdr.npz"
    np.savez(z, a=np.arange(3))
    with pytest.raises(CorruptFileError):
        Recommender.load(z)
    with zipfile.ZipFile(z) as zf:
        assert zf.namelist() == ["a.npy"]
