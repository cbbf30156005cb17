"""MovieLens 100K loader (real data; runs when PERSONA_REC_DATA is set)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec.sample_data import ML100K_GENRES, load_movielens_100k, load_movielens_100k_split
from persona_rec.exceptions import InvalidParameterError


@pytest.fixture(scope="module")
def ml(ml100k_dir):
    return load_movielens_100k(ml100k_dir)


def test_published_counts(ml):
    assert (ml.n_interactions, ml.n_users, ml.n_items) == (100_000, 943, 1_682)
    assert ml.hot_user_mask().all() and ml.hot_item_mask().all()


def test_ratings_are_weights_and_histogram(ml):
    inter = ml.interactions
    assert (inter["event"] == "rating").all()
    np.testing.assert_array_equal(inter["weight"].to_numpy(), inter["rating"].to_numpy())
    assert inter["rating"].value_counts().sort_index().tolist() == [6110, 11370, 27145, 34174, 21201]
    assert ml.get_user_item_matrix().sum() == pytest.approx(inter["rating"].sum())
    first, last = ml.time_range
    assert first >= pd.Timestamp("1997-09-19") and last <= pd.Timestamp("1998-04-23")


def test_user_demographics_and_sensitive(ml):
    users = ml.users
    assert list(users.columns) == ["user_id", "age", "gender", "occupation", "zip_code"]
    assert set(users["gender"]) == {"M", "F"}
    assert users["occupation"].nunique() == 21
    assert "T8H1N" in set(users["zip_code"])  # non-numeric zips stay strings
    assert {"age", "gender", "zip_code"} <= ml.sensitive_columns
    assert "occupation" not in ml.sensitive_columns
    assert "age" not in ml.user_attributes().columns


def test_item_genres_year_category(ml):
    items = ml.items.set_index("item_id")
    assert items.loc[1, "title"] == "Toy Story (1995)"
    assert items.loc[1, "year"] == 1995
    assert items.loc[1, "genres"] == "Animation|Children's|Comedy"
    assert items.loc[1, "category"] == "Animation"
    assert items.loc[1, ["genre_animation", "genre_childrens", "genre_comedy"]].all()
    assert not items.loc[1, "genre_drama"]
    genre_cols = [c for c in items.columns if c.startswith("genre_")]
    assert len(genre_cols) == len(ML100K_GENRES) == 19
    # every category is the first flagged genre in u.genre order
    flags = items[genre_cols].to_numpy()
    first = np.asarray(ML100K_GENRES, dtype=object)[flags.argmax(axis=1)]
    expected = np.where(first == "unknown", "Unknown", first)
    np.testing.assert_array_equal(items["category"].to_numpy(), expected)
    assert items["title"].str.contains("Misérables").any()  # latin-1 decoded
    assert items["year"].isna().sum() == 1  # item 267, "unknown", has no date


def test_split_files(ml100k_dir):
    train, test = load_movielens_100k_split(ml100k_dir, "ua")
    assert (len(train), len(test)) == (90_570, 9_430)
    assert test.groupby("user_id").size().eq(10).all()
    train1, test1 = load_movielens_100k_split(ml100k_dir, "u1")
    assert (len(train1), len(test1)) == (80_000, 20_000)


def test_bad_arguments(tmp_path, ml100k_dir):
    with pytest.raises(FileNotFoundError, match="not a directory"):
        load_movielens_100k(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match=r"u\.data"):
        load_movielens_100k(tmp_path)
    with pytest.raises(InvalidParameterError, match="'split' parameter .* got 'u9'"):
        load_movielens_100k_split(ml100k_dir, "u9")
