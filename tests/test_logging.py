"""Progress messages of long operations reach the ``persona_rec`` logger (silent by default)."""

from __future__ import annotations

import logging

import pytest

from persona_rec import set_verbose
from persona_rec.sample_data import load_sample
from persona_rec.evaluation import NDCG, compare, next_period_split
from persona_rec.models import PopularRecommender
from persona_rec.profiles import ProfileBuilder
from persona_rec.tags import Tagger, Taxonomy


@pytest.fixture(scope="module")
def sample():  # type: ignore[no-untyped-def]
    return load_sample()


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("persona_rec")]


def test_stages_are_logged(sample, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO, logger="persona_rec"):
        profiles = ProfileBuilder.default().build(sample)
        Tagger(Taxonomy.default(profiles)).assign(profiles)
        split = next_period_split(sample, "2011-11-09", "30D")
        compare({"popular": PopularRecommender()}, split, [NDCG(5)])
    msgs = _messages(caplog)
    assert "building profiles of 1,000 users as of 2011-12-09 12:20:01 (8 builders)" in msgs
    assert any(m.startswith("profiles: AffinityBuilder done in") for m in msgs)
    assert any(m.startswith("built profiles: 1,000 users x") for m in msgs)
    assert any(m.startswith("tagging 1,000 users with") for m in msgs)
    assert any(m.startswith("tagged 1,000 users:") for m in msgs)
    assert "comparing 1 models on 293 test users" in msgs
    fit = [m for m in msgs if m.startswith("fitting PopularRecommender on")]
    assert fit == [f"fitting PopularRecommender on {split.train.n_users:,} users x "
                   f"{split.train.n_items:,} items ({split.train.get_user_item_matrix().nnz:,} "
                   f"user-item pairs)"]
    assert any(m.startswith("recommending 5 items to 293 test users") for m in msgs)


def test_silent_by_default(sample, capsys: pytest.CaptureFixture) -> None:  # type: ignore[no-untyped-def]
    PopularRecommender().fit(sample)
    ProfileBuilder.default().build(sample)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_verbose_shows_progress_bars(sample, capsys: pytest.CaptureFixture) -> None:  # type: ignore[no-untyped-def]
    ProfileBuilder.default().build(sample, verbose=True)
    assert "profiles" in capsys.readouterr().err  # the tqdm bar's label
    set_verbose(True)
    try:
        ProfileBuilder.default().build(sample)
    finally:
        set_verbose(False)
    assert "profiles" in capsys.readouterr().err
