"""The Online Retail sample shipped inside the package."""

from __future__ import annotations

import pandas as pd
import pytest

from persona_rec.sample_data import CLEANING_RULES, load_online_retail, load_sample, sample_path


@pytest.fixture(scope="module")
def sample():
    return load_sample(return_report=True)


def test_sample_file_is_small_and_shipped():
    path = sample_path()
    assert path.is_file()
    assert path.stat().st_size < 2_000_000
    assert path.parent.name == "data" and (path.parent / "ATTRIBUTION.md").is_file()


def test_sample_counts_and_report(sample):
    ds, report = sample
    assert ds.n_users == 1000 and ds.n_users <= 3000
    assert int(ds.hot_user_mask().sum()) == 993
    assert (report.n_input, report.n_output) == (120_223, 86_710)
    assert list(report.removed) == list(CLEANING_RULES)
    for reason in ("missing_customer", "cancellation", "non_product", "duplicate"):
        assert report.removed[reason] > 0, reason
    assert ds.cleaning_reports[0] == report
    assert report.n_output == ds.n_interactions


def test_sample_is_same_pipeline_as_full_loader(sample):
    ds, report = sample
    again = load_online_retail(sample_path())
    assert again.n_interactions == ds.n_interactions
    assert again.cleaning_reports[0].removed == report.removed
    items = ds.items
    assert {"description", "price", "category"} <= set(items.columns)
    assert items["category"].notna().all()
    assert set(ds.users.columns) == {"user_id", "country"}


def test_sample_supports_time_split_demo(sample):
    ds, _ = sample
    cut = pd.Timestamp("2011-11-09")
    train, test = ds.filter_time(end=cut), ds.filter_time(start=cut)
    assert train.n_interactions + test.n_interactions == ds.n_interactions
    both = train.hot_user_mask() & test.hot_user_mask()
    assert both.sum() >= 300  # enough returning customers to evaluate recommenders
    assert train.hot_item_mask().sum() >= 2500
    per_user = ds.internal_interactions.groupby("user_idx")["order_id"].nunique()
    assert per_user.median() >= 2 and (per_user >= 3).sum() >= 400  # repeat customers


def test_make_sample_is_deterministic(online_retail_csv, tmp_path):
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "make_sample.py"
    spec = importlib.util.spec_from_file_location("make_sample", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.make_sample(online_retail_csv, tmp_path / "s.csv.gz")
    assert out.read_bytes() == sample_path().read_bytes()
