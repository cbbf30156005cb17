"""Contract tests shared by every registered model (see _registry.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from persona_rec import Columns, Dataset
from persona_rec.exceptions import (
    CorruptFileError,
    InvalidParameterError,
    NotFittedError,
    UnknownIdError,
)
from persona_rec.models import FALLBACK_SOURCE, ItemFilter, Recommender

HOT = ["u0_0", "u1_3", "u2_7", "u3_11"]
WARM = ["w0_0", "w2_1"]
COLD = ["nobody", "ghost"]
RECO_COLUMNS = [Columns.USER, Columns.ITEM, Columns.SCORE, Columns.RANK, Columns.SOURCE]


def _fit(model_case: Any, dataset: Dataset, profiles_fixture: Any) -> Recommender:
    _, factory, options = model_case
    model = factory()
    profiles = profiles_fixture() if options.get("profiles") else None
    out = model.fit(dataset, profiles)
    assert out is model
    return model


@pytest.fixture
def fitted(model_case: Any, block_dataset: Dataset, request: pytest.FixtureRequest) -> Recommender:
    return _fit(model_case, block_dataset, lambda: request.getfixturevalue("block_profiles"))


def _served_ids(model: Recommender) -> list[Any]:
    ids: list[Any] = []
    if model.serves_hot:
        ids += HOT
    if model.serves_warm:
        ids += WARM
    if model.serves_cold:
        ids += COLD
    return ids


def _check_frame(rec: pd.DataFrame, k: int) -> None:
    assert list(rec.columns) == RECO_COLUMNS
    assert not rec.duplicated([Columns.USER, Columns.ITEM]).any()
    for _, g in rec.groupby(Columns.USER, sort=False):
        assert g[Columns.RANK].tolist() == list(range(1, len(g) + 1))
        assert len(g) <= k
    assert rec[Columns.RANK].dtype == np.int64
    assert np.isfinite(rec[Columns.SCORE].to_numpy()).all()


def test_not_fitted_raises(model_case: Any) -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        model_case[1]().recommend(HOT, k=3)


def test_config_round_trip(model_case: Any) -> None:
    model = model_case[1]()
    clone = type(model).from_config(model.get_config())
    assert type(clone) is type(model)
    assert clone._json_params() == model._json_params()
    assert not clone.is_fitted


def test_output_format_and_states(fitted: Recommender, block_dataset: Dataset) -> None:
    ids = HOT + WARM + COLD
    rec = fitted.recommend(ids, k=5, on_unknown="skip")
    _check_frame(rec, 5)
    served = set(_served_ids(fitted))
    got = set(rec[Columns.USER])
    assert got <= served
    assert set(rec.attrs["unserved"]) == set(ids) - served
    # every hot user gets at least one row from a hot-serving model
    if fitted.serves_hot:
        assert set(HOT) <= got
    # users in states the model does not serve: raise by default
    unserved = [u for u in ids if u not in served]
    if unserved:
        with pytest.raises(UnknownIdError, match="cannot serve|no link"):
            fitted.recommend(unserved, k=5)
        fb = fitted.recommend(unserved, k=5, on_unknown="fallback")
        assert set(fb[Columns.USER]) == set(unserved)
        assert (fb[Columns.SOURCE] == FALLBACK_SOURCE).all()
    else:
        assert len(fitted.recommend(ids, k=5)) > 0


def test_refit_same_output(model_case: Any, block_dataset: Dataset,
                           request: pytest.FixtureRequest) -> None:
    profiles = lambda: request.getfixturevalue("block_profiles")  # noqa: E731
    a = _fit(model_case, block_dataset, profiles)
    b = _fit(model_case, block_dataset, profiles)
    ids = _served_ids(a)
    pd.testing.assert_frame_equal(a.recommend(ids, k=7), b.recommend(ids, k=7))


def test_save_load_identical(fitted: Recommender, tmp_path: Any) -> None:
    path = fitted.save(tmp_path / "model")
    assert path.suffix == ".npz"
    loaded = Recommender.load(path)
    assert type(loaded) is type(fitted)
    assert loaded.get_config()["class"] == fitted.get_config()["class"]
    ids = HOT + WARM + COLD
    for filter_seen in (True, False):
        kw = dict(k=8, filter_seen=filter_seen, on_unknown="fallback")
        pd.testing.assert_frame_equal(fitted.recommend(ids, **kw), loaded.recommend(ids, **kw))
    assert type(fitted).load(path).is_fitted


def test_corrupt_file(fitted: Recommender, tmp_path: Any) -> None:
    path = fitted.save(tmp_path / "model.npz")
    data = path.read_bytes()
    bad = tmp_path / "truncated.npz"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError):
        Recommender.load(bad)


def test_filters_respected(fitted: Recommender, block_dataset: Dataset) -> None:
    ids = _served_ids(fitted)
    attrs = block_dataset.item_attributes()
    # blacklist the globally most frequent items
    top = block_dataset.interactions[Columns.ITEM].value_counts().index[:10].tolist()
    rec = fitted.recommend(ids, k=10, exclude=top)
    assert not rec[Columns.ITEM].isin(top).any()
    whitelist = [f"i{b}_{j}" for b in range(4) for j in range(0, 15, 2)]
    rec = fitted.recommend(ids, k=10, items=whitelist)
    assert rec[Columns.ITEM].isin(whitelist).all()
    rule = ItemFilter(categories=["Block1", "block2 > sub0"], max_price=30, in_stock=True)
    rec = fitted.recommend(ids, k=10, item_filter=rule)
    ok = rule.mask(attrs)
    allowed = set(attrs.index[ok])
    assert set(rec[Columns.ITEM]) <= allowed
    rec = fitted.recommend(ids, k=10, item_filter={"exclude_categories": "Block0"})
    assert not rec[Columns.ITEM].str.startswith("i0_").any()


def test_filter_seen(fitted: Recommender, block_dataset: Dataset) -> None:
    ids = [u for u in _served_ids(fitted) if u in HOT]
    if not ids:
        pytest.skip("model does not serve hot users")
    inter = block_dataset.interactions
    seen = set(zip(inter[Columns.USER], inter[Columns.ITEM]))
    rec = fitted.recommend(ids, k=60, filter_seen=True)
    pairs = set(zip(rec[Columns.USER], rec[Columns.ITEM]))
    assert not pairs & seen
    rec_all = fitted.recommend(ids, k=60, filter_seen=False)
    _check_frame(rec_all, 60)
    assert len(rec_all) >= len(rec)


def test_k_larger_than_catalogue(fitted: Recommender, block_dataset: Dataset) -> None:
    ids = _served_ids(fitted)
    rec = fitted.recommend(ids, k=10_000, filter_seen=False)
    _check_frame(rec, block_dataset.n_items)
    assert rec.groupby(Columns.USER).size().max() <= block_dataset.n_items


def test_empty_user_list(fitted: Recommender) -> None:
    rec = fitted.recommend([], k=5)
    assert list(rec.columns) == RECO_COLUMNS
    assert len(rec) == 0
    assert rec[Columns.RANK].dtype == np.int64
    assert rec[Columns.SCORE].dtype == np.float32


def test_duplicate_request_ids_served_once(fitted: Recommender) -> None:
    ids = _served_ids(fitted)[:2]
    rec = fitted.recommend(ids + ids[::-1], k=4)
    assert rec[Columns.USER].drop_duplicates().tolist() == ids


def test_recent_events_are_seen_and_never_crash(fitted: Recommender,
                                                block_dataset: Dataset) -> None:
    """recent_events (events after fit) join every model's seen filter; unknown users with
    recent events are served or skipped, never an error (other than a signature that lacks
    the argument)."""
    import inspect

    if "recent_events" not in inspect.signature(fitted.recommend).parameters:
        pytest.skip("this model's recommend does not take recent_events")
    items = block_dataset.item_map.external_ids
    ids = _served_ids(fitted) + ["nobody"]
    if not type(fitted).folds_recent_events:  # opt-in: the others refuse, typed
        ev = pd.DataFrame({Columns.USER: ids[:1], Columns.ITEM: items[:1]})
        with pytest.raises(InvalidParameterError, match="does not fold in recent_events"):
            fitted.recommend(ids[:1], recent_events=ev)
        return
    ev = pd.DataFrame({Columns.USER: ids, Columns.ITEM: [items[3]] * len(ids),
                       Columns.TIMESTAMP: block_dataset.time_range[1] + pd.Timedelta(hours=1),
                       "event": "purchase"})
    rec = fitted.recommend(ids, k=60, on_unknown="skip", recent_events=ev)
    _check_frame(rec, 60)
    assert items[3] not in set(rec[Columns.ITEM])
    before = fitted.recommend(_served_ids(fitted), k=5)
    again = fitted.recommend(_served_ids(fitted), k=5)
    pd.testing.assert_frame_equal(before, again)  # the model is unchanged
