"""End-to-end tests of the ``persona-rec`` command line on the shipped sample.

The sample is exported the way a shop's warehouse might hand it over: its own
column names (``customer``, ``sku``, ``ts``, ``action``) and event names
(``checkout``), so every run exercises the mapping options. Subprocess runs
cover the real entry point; in-process ``main([...])`` calls cover the error
paths cheaply.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import persona_rec
from persona_rec.cli import main
from persona_rec.sample_data import load_sample, sample_path
from persona_rec.models import PopularRecommender
from persona_rec.profiles import ProfileBuilder

MAPPING = ["--user-col", "customer", "--item-col", "sku", "--time-col", "ts",
           "--event-col", "action", "--event-map", "checkout=purchase"]


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The shipped sample as warehouse-style files (events gzip CSV, users CSV, items Parquet)."""
    root = tmp_path_factory.mktemp("shop")
    ds = load_sample()
    ev = ds.interactions.drop(columns=["weight"]).rename(
        columns={"user_id": "customer", "item_id": "sku", "timestamp": "ts"})
    ev = ev.rename(columns={"event": "action"}).assign(action="checkout")
    ev.to_csv(root / "events.csv.gz", index=False)
    ds.users.rename(columns={"user_id": "customer"}).to_csv(root / "users.csv", index=False)
    ds.items.rename(columns={"item_id": "sku"}).to_parquet(root / "items.parquet")
    return {"dir": root, "events": root / "events.csv.gz", "users": root / "users.csv",
            "items": root / "items.parquet"}


def data_args(export: dict[str, Path]) -> list[str]:
    return [str(export["events"]), "--users", str(export["users"]), "--items",
            str(export["items"]), *MAPPING]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "persona_rec", *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})


# ------------------------------------------------------------- subprocess runs
def test_version() -> None:
    res = run("--version")
    assert res.returncode == 0
    assert res.stdout.strip() == f"persona-rec {persona_rec.__version__}"


def test_profiles_match_the_library(export: dict[str, Path]) -> None:
    out = export["dir"] / "profiles.parquet"
    res = run("profiles", *data_args(export), "--as-of", "2011-12-01", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert f"wrote 1,000 user profiles to {out}" in res.stdout
    assert "loaded" in res.stderr and "profile" in res.stderr  # progress is on in the CLI
    got = pd.read_parquet(out).set_index("user_id")
    expected = ProfileBuilder.default().build(load_sample(), as_of="2011-12-01").frame
    # ids were read as text from CSV; the library sample has integer ids
    got.index = got.index.astype(np.int64)
    cols = ["recency_days", "frequency", "monetary", "lifecycle_stage", "top_category_l1"]
    cols = [c for c in cols if c in expected.columns]
    pd.testing.assert_frame_equal(got.loc[expected.index, cols], expected[cols],
                                  check_dtype=False, check_names=False)


def test_recommend_popular_with_users_file_and_unknown_user(export: dict[str, Path]) -> None:
    ids = export["dir"] / "users.txt"
    ids.write_text("12583\n12748\nnew-customer\n")
    out = export["dir"] / "reco.csv"
    res = run("recommend", *data_args(export), "--model", "popular", "--k", "3",
              "--users-file", str(ids), "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""  # --quiet
    got = pd.read_csv(out, dtype={"user_id": str, "item_id": str})
    assert list(got.columns) == ["user_id", "item_id", "score", "rank", "source"]
    expected = PopularRecommender().fit(load_sample()).recommend(
        [12583, 12748], k=3)
    for uid in ("12583", "12748"):
        mine = got[got.user_id == uid]
        theirs = expected[expected.user_id == int(uid)]
        assert mine.item_id.tolist() == theirs.item_id.tolist()
    assert got[got.user_id == "new-customer"]["rank"].tolist() == [1, 2, 3]


def test_recommend_als_parquet_every_hot_user(export: dict[str, Path]) -> None:
    out = export["dir"] / "reco_als.parquet"
    res = run("recommend", *data_args(export), "--model", "als", "--param", "factors=16",
              "--param", "iterations=5", "--k", "5", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "fitting ALSRecommender on 1,000 users x 3,274 items" in res.stderr
    reco = pd.read_parquet(out)
    assert reco.user_id.nunique() == 993  # users with purchases
    assert reco.groupby("user_id")["rank"].max().max() == 5
    assert (reco.source == "als").all()


def test_tags_segments_audience(export: dict[str, Path]) -> None:
    d = export["dir"]
    res = run("tags", *data_args(export), "--out", str(d / "tags.csv"), "-q")
    assert res.returncode == 0, res.stderr
    tags = pd.read_csv(d / "tags.csv")
    assert list(tags.columns) == ["user_id", "tag_id", "confidence"]
    assert tags.user_id.nunique() > 900 and not tags.tag_id.str.startswith("demographic").any()

    res = run("segments", *data_args(export), "--out", str(d / "seg.csv"), "-q")
    assert res.returncode == 0, res.stderr
    seg = pd.read_csv(d / "seg.csv")
    assert len(seg) == 1000 and {"champions", "lost"} <= set(seg.segment)
    assert "champions" in res.stdout  # the size table

    res = run("audience", *data_args(export), "--expression", "!churned", "--budget", "120",
              "--out", str(d / "aud.csv"), "-q")
    assert res.returncode == 0, res.stderr
    aud = pd.read_csv(d / "aud.csv")
    assert len(aud) == 120 and aud["rank"].tolist() == list(range(1, 121))
    churned = set(tags.user_id[tags.tag_id == "churned"])
    assert churned and not set(aud.user_id) & churned


def test_evaluate_next_period(export: dict[str, Path]) -> None:
    out = export["dir"] / "eval.csv"
    res = run("evaluate", *data_args(export), "--at", "2011-11-09", "--window", "30D",
              "--models", "popular,als", "--k", "10", "--out", str(out), "-q")
    assert res.returncode == 0, res.stderr
    assert "293 test users" in res.stdout
    table = pd.read_csv(out).set_index("model")
    assert list(table.index) == ["popular", "als"]
    assert {"NDCG@10", "Recall@10", "Precision@10", "HitRate@10"} <= set(table.columns)
    assert table.loc["als", "NDCG@10"] > table.loc["popular", "NDCG@10"]


def test_raw_sample_needs_clean_then_works(tmp_path: Path) -> None:
    raw = str(sample_path())
    cols = ["--user-col", "CustomerID", "--item-col", "StockCode", "--time-col", "InvoiceDate",
            "--rename", "UnitPrice=price,Quantity=quantity,InvoiceNo=order_id"]
    res = run("recommend", raw, *cols, "--model", "popular", "--out", str(tmp_path / "r.csv"))
    assert res.returncode == 2  # CustomerID is written 12583.0: refused, not a second id
    assert "column 'CustomerID' holds ids written as floats, e.g. '12583.0'" in res.stderr
    assert "pass --float-ids" in res.stderr
    cols.append("--float-ids")
    res = run("recommend", raw, *cols, "--model", "popular", "--out", str(tmp_path / "r.csv"))
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    # strict mode names every broken rule in one message
    assert lines[-1].startswith("persona-rec recommend: error: ")
    assert "interactions: 30154 row(s)" in lines[-1]
    assert "pass --clean" in lines[-1] and "Traceback" not in res.stderr
    res = run("recommend", raw, *cols, "--clean", "--model", "popular", "--k", "2",
              "--out", str(tmp_path / "r.csv"), "-q")
    assert res.returncode == 0, res.stderr
    assert "missing_user_id                 30,154" in res.stderr  # the cleaning report
    reco = pd.read_csv(tmp_path / "r.csv", dtype={"user_id": str})
    # 993 customers keep purchases after cleaning; --float-ids read "12583.0" as "12583"
    assert len(reco) == 2 * 993 and reco.user_id.str.fullmatch(r"\d+").all()


def test_debug_shows_traceback(tmp_path: Path) -> None:
    res = run("--debug", "profiles", str(tmp_path / "missing.csv"), "--out",
              str(tmp_path / "p.csv"))
    assert res.returncode == 1 and "Traceback" in res.stderr and "FileNotFoundError" in res.stderr


def test_missing_pyarrow_is_a_clear_error(export: dict[str, Path], tmp_path: Path) -> None:
    code = ("import sys; sys.modules['pyarrow'] = None; from persona_rec.cli import main; "
            f"sys.exit(main(['profiles', {str(export['events'])!r}, *{MAPPING!r}, "
            f"'--out', {str(tmp_path / 'p.parquet')!r}, '-q']))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 2
    assert res.stderr.strip() == (
        "persona-rec profiles: error: Writing Parquet files requires the optional dependency "
        "'pyarrow', which is not installed; install it with: pip install "
        "\"persona-rec[parquet]\"")


# ------------------------------------------------------------- in-process errors
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["profiles", "{events}", "--out", "{dir}/p.csv"],
         "has no column(s) ['user_id', 'item_id', 'timestamp'] (name yours with "
         "--item-col/--time-col/--user-col)"),
        (["profiles", "{events}", *MAPPING, "--out", "{dir}/p.xlsx"],
         "--out must be a CSV"),
        (["profiles", "{dir}/nope.csv", "--out", "{dir}/p.csv"], "EVENTS: no such file"),
        (["profiles", "{events}", *MAPPING[:-2], "--event-map", "checkout", "--out",
          "{dir}/p.csv"], "--event-map takes SOURCE=TARGET pairs, got 'checkout'"),
        (["profiles", "{events}", *MAPPING, "--as-of", "not a date", "--out", "{dir}/p.csv"],
         "as_of"),
        (["recommend", "{events}", *MAPPING, "--model", "als", "--param", "factors=0",
          "--out", "{dir}/r.csv"], "factors"),
        (["recommend", "{events}", *MAPPING, "--model", "popular", "--users-file",
          "{dir}/nope.txt", "--out", "{dir}/r.csv"], "--users-file: no such file"),
        (["segments", "{events}", *MAPPING, "--n-segments", "3", "--out", "{dir}/s.csv"],
         "--n-segments applies to --method kmeans only"),
        (["audience", "{events}", *MAPPING, "--expression", "champions &", "--out",
          "{dir}/a.csv"], "champions &"),
    ],
    ids=["unmapped-columns", "bad-out", "missing-file", "bad-event-map", "bad-as-of",
         "bad-param", "missing-users-file", "n-segments-rfm", "bad-expression"],
)
def test_bad_input_is_one_line_exit_2(export: dict[str, Path], capsys: pytest.CaptureFixture,
                                      argv: list[str], message: str) -> None:
    argv = [a.format(events=export["events"], dir=export["dir"]) for a in argv]
    assert main([*argv, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"persona-rec {argv[0]}: error: ")
    assert message in err


def test_unknown_option_is_argparse_exit_2(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["recommend", "x.csv", "--model", "nope", "--out", "r.csv"])
    assert exc.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err
