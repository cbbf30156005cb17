"""How the ``persona-rec`` command line reads messy real-world files.

Each test writes a small export the way shops and spreadsheets produce them
(typos in column names, trailing delimiters, ``NA`` as a value, ids written
as floats, a campaign list saved by Notepad ...) and checks that the command
either reads it exactly or stops with a one-line typed error (exit 2) naming
the option, the column and the value: never a silent change of the data.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from persona_rec import Dataset
from persona_rec.categories import get_category_sep
from persona_rec.cli import main
from persona_rec.cli._io import CSV_NA_VALUES, read_table, read_user_ids


def cli(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str]:
    """Run ``persona-rec argv --quiet`` in process; return (exit status, stderr)."""
    code = main([*argv, "--quiet"])
    return code, capsys.readouterr().err.strip()


def one_error(err: str, command: str) -> str:
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"persona-rec {command}: error: "), err
    return err


@pytest.fixture
def views(tmp_path: Path) -> Path:
    """A clickstream whose event column is called ``action``: 5 views, 1 purchase."""
    path = tmp_path / "ev.csv"
    pd.DataFrame({"user_id": ["u1"] * 5 + ["u2"], "item_id": ["a", "b", "c", "d", "a", "a"],
                  "timestamp": [f"2011-01-0{i}" for i in range(1, 7)],
                  "action": ["view", "view", "view", "view", "purchase", "view"]}
                 ).to_csv(path, index=False)
    return path


# ------------------------------------------------------------------ column options
def test_event_col_that_is_not_in_the_file_is_an_error(views: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "p.csv"
    code, err = cli(capsys, "profiles", str(views), "--event-col", "Action", "--out", str(out))
    assert code == 2 and not out.exists()
    msg = one_error(err, "profiles")
    assert "has no column(s) ['Action'] (name yours with --event-col)" in msg
    assert "its columns are ['user_id', 'item_id', 'timestamp', 'action']" in msg
    # the right name reads views as views (a typo used to turn all six rows into purchases)
    code, err = cli(capsys, "profiles", str(views), "--event-col", "action", "--out", str(out))
    assert code == 0, err
    got = pd.read_csv(out).set_index("user_id")
    assert got.loc["u1", "view_share"] == pytest.approx(0.8)
    assert got.loc["u1", "frequency"] == 1


def test_explicit_event_col_event_must_exist_too(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "ev.csv"
    path.write_text("user_id,item_id,timestamp\nu1,a,2011-01-01\n")
    code, err = cli(capsys, "profiles", str(path), "--event-col", "event",
                    "--out", str(tmp_path / "p.csv"))
    assert code == 2 and "has no column(s) ['event'] (name yours with --event-col)" in err
    # without the option, no event column means a purchase log
    assert cli(capsys, "profiles", str(path), "--out", str(tmp_path / "p.csv"))[0] == 0


def test_rename_source_that_is_not_in_the_file_is_an_error(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "ev.csv"
    pd.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["a", "b", "a"],
                  "timestamp": ["2011-01-01", "2011-01-02", "2011-01-03"],
                  "Qty": [1, 2, 1], "Unit Price": [2.5, 3.0, 2.5]}).to_csv(path, index=False)
    out = tmp_path / "p.csv"
    code, err = cli(capsys, "profiles", str(path), "--rename", "Qty=quantity,UnitPrice=price",
                    "--out", str(out))
    assert code == 2 and not out.exists()
    msg = one_error(err, "profiles")
    assert "has no column(s) ['UnitPrice'] (name yours with --rename)" in msg
    assert "'Unit Price'" in msg
    code, err = cli(capsys, "profiles", str(path), "--rename", "Qty=quantity,Unit Price=price",
                    "--out", str(out))
    assert code == 0, err
    assert pd.read_csv(out).set_index("user_id").loc["u1", "monetary"] == pytest.approx(8.5)


# --------------------------------------------------------------------- --users-file
@pytest.fixture
def big_ids(tmp_path: Path) -> Path:
    """Two customers whose int64 ids differ by one above 2**53, and customer 12."""
    path = tmp_path / "ev.parquet"
    pd.DataFrame({"user_id": [2**53, 2**53, 2**53 + 1, 2**53 + 1, 12],
                  "item_id": ["A", "B", "C", "D", "E"],
                  "timestamp": pd.date_range("2024-01-01", periods=5)}).to_parquet(path)
    return path


def test_users_file_ids_above_2_53_are_exact(big_ids: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    ids = tmp_path / "users.txt"
    # a float-looking line used to send every id through float64: 2**53 + 1 -> 2**53
    ids.write_text(f"{2**53 + 1}\n12.0\n")
    out = tmp_path / "r.csv"
    code, err = cli(capsys, "recommend", str(big_ids), "--model", "knn", "--k", "1",
                    "--keep-seen", "--users-file", str(ids), "--out", str(out))
    assert code == 0, err
    assert ("1 id(s) in --users-file are not integer ids like the Dataset's user ids (int64) "
            "and are served as unknown users, e.g. '12.0'") in err
    got = pd.read_csv(out, dtype=str)
    assert got.user_id.tolist() == [str(2**53 + 1), "12.0"]
    assert got.source.tolist() == ["item_knn", "fallback_popular"]
    assert got.item_id[0] in {"C", "D"}  # their own history, not customer 2**53's (A, B)


def test_read_user_ids_converts_exactly_or_keeps_the_text(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    ev = pd.DataFrame({"user_id": np.array([2**63 + 1, 2**63 + 3], dtype=np.uint64),
                       "item_id": ["A", "B"], "timestamp": ["2024-01-01", "2024-01-02"]})
    ds = Dataset.from_frames(ev)
    ids = tmp_path / "users.txt"
    ids.write_text(f"{2**63 + 1}\n {2**63 + 3} \n\n")
    got = read_user_ids(ids, "user_id", ds)
    assert got.dtype == np.uint64 and got.tolist() == [2**63 + 1, 2**63 + 3]
    assert capsys.readouterr().err == ""
    # beyond uint64, negative or not an integer: unknown users under their own text
    ids.write_text(f"{2**64}\n-1\nnew-visitor-1\n{2**63 + 1}\n")
    got = read_user_ids(ids, "user_id", ds)
    assert got.tolist() == [str(2**64), "-1", "new-visitor-1", 2**63 + 1]
    assert "3 id(s) in --users-file are not integer ids" in capsys.readouterr().err
    ds64 = Dataset.from_frames(ev.assign(user_id=[5, 6]))
    ids.write_text("99999999999999999999\n6\n")  # used to wrap to -2**63
    assert read_user_ids(ids, "user_id", ds64).tolist() == ["99999999999999999999", 6]


def test_users_file_is_one_id_per_line_with_bom(tmp_path: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    ev = tmp_path / "ev.csv"
    pd.DataFrame({"user_id": ["guest 42", "guest 42", "17850", "17850", "13047"],
                  "item_id": ["A", "B", "A", "C", "C"],
                  "timestamp": pd.date_range("2011-01-01", periods=5).astype(str)}
                 ).to_csv(ev, index=False)
    ids = tmp_path / "users.txt"
    ids.write_text("17850\r\n  guest 42  \r\n\r\n", encoding="utf-8-sig")  # Notepad
    out = tmp_path / "r.csv"
    code, err = cli(capsys, "recommend", str(ev), "--model", "popular", "--k", "1",
                    "--keep-seen", "--users-file", str(ids), "--out", str(out))
    assert code == 0, err
    got = pd.read_csv(out, dtype=str)
    assert got.user_id.tolist() == ["17850", "guest 42"]
    assert (got.source == "popular").all()  # both known: no BOM, no split on the space


def test_users_file_unknown_text_ids_with_int_ids_get_the_fallback(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ev = tmp_path / "ev.parquet"
    pd.DataFrame({"user_id": [12583, 12583, 12748], "item_id": ["A", "B", "A"],
                  "timestamp": pd.to_datetime(["2011-01-01", "2011-01-02", "2011-01-03"])}
                 ).to_parquet(ev)
    ids = tmp_path / "campaign.csv"
    ids.write_text("user_id\n12583\n12748\nnew-visitor-1\n")
    out = tmp_path / "r.parquet"
    code, err = cli(capsys, "recommend", str(ev), "--model", "popular", "--k", "1",
                    "--keep-seen", "--users-file", str(ids), "--out", str(out))
    assert code == 0, err
    assert "--out column 'user_id' mixes kinds of values" in err
    got = pd.read_parquet(out)
    assert got.user_id.tolist() == ["12583", "12748", "new-visitor-1"]
    assert got.item_id.tolist() == ["A", "A", "A"]


# ------------------------------------------------------------------- CSV reading
def test_trailing_delimiter_does_not_shift_columns(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "ev.csv"
    path.write_text("customer,sku,created_at,updated_at\n"
                    "c1,MUG,2011-01-01 10:00,2011-01-05 10:00,\n"
                    "c1,TEA,2011-01-02 10:00,2011-01-06 10:00,\n"
                    "c2,MUG,2011-01-03 10:00,2011-01-07 10:00,\n")
    out = tmp_path / "p.csv"
    code, err = cli(capsys, "profiles", str(path), "--user-col", "customer", "--item-col", "sku",
                    "--time-col", "created_at", "--out", str(out))
    assert code == 0, err
    got = pd.read_csv(out).set_index("user_id")
    assert sorted(got.index) == ["c1", "c2"]
    assert got.loc["c1", "n_events"] == 2
    assert got.loc["c1", "first_seen"] == "2011-01-01 10:00:00"


def test_na_and_none_are_values_not_missing(tmp_path: Path,
                                            capsys: pytest.CaptureFixture) -> None:
    ev = tmp_path / "ev.csv"
    ev.write_text("user_id,item_id,timestamp\nu1,NA,2011-01-01\nu1,B1,2011-01-02\n"
                  "u2,None,2011-01-03\nu2,B1,2011-01-04\n")
    users = tmp_path / "users.csv"
    users.write_text("user_id,country\nu1,NA\nu2,FR\nu3,\n")
    out = tmp_path / "p.csv"
    code, err = cli(capsys, "profiles", str(ev), "--users", str(users), "--out", str(out))
    assert code == 0, err
    got = pd.read_csv(out, keep_default_na=False).set_index("user_id")
    assert got.loc["u1", "country"] == "NA"  # Namibia
    assert got.loc["u3", "country"] == ""  # an empty cell is still missing
    assert got.loc["u2", "n_events"] == 2
    frame = read_table(ev, "EVENTS", str_columns=["item_id"])
    assert frame.item_id.tolist() == ["NA", "B1", "None", "B1"]
    assert set(CSV_NA_VALUES) == {"", "#N/A", "N/A", "NULL", "NaN", "n/a", "nan", "null"}


@pytest.fixture
def float_users(tmp_path: Path) -> dict[str, Path]:
    ev = tmp_path / "events.csv"
    pd.DataFrame({"CustomerID": ["17850", "17850", "13047"], "StockCode": ["A", "B", "A"],
                  "InvoiceDate": ["2011-01-01 10:00", "2011-01-02 10:00", "2011-01-03 10:00"]}
                 ).to_csv(ev, index=False)
    users = tmp_path / "users.csv"
    # the CRM export wrote the ids as floats (pandas' default for an id column with gaps)
    pd.DataFrame({"CustomerID": [17850.0, 13047.0, None], "Country": ["UK", "France", "Spain"]}
                 ).to_csv(users, index=False)
    return {"events": ev, "users": users}


def test_float_written_ids_are_refused(float_users: dict[str, Path], tmp_path: Path,
                                       capsys: pytest.CaptureFixture) -> None:
    args = ["profiles", str(float_users["events"]), "--users", str(float_users["users"]),
            "--user-col", "CustomerID", "--item-col", "StockCode", "--time-col", "InvoiceDate",
            "--out", str(tmp_path / "p.csv")]
    code, err = cli(capsys, *args)
    assert code == 2
    msg = one_error(err, "profiles")
    assert f"--users ({float_users['users']}): column 'CustomerID' holds ids written as " \
           f"floats, e.g. '17850.0'" in msg
    assert "pass --float-ids" in msg
    code, err = cli(capsys, *args, "--float-ids", "--clean")
    assert code == 0, err
    got = pd.read_csv(tmp_path / "p.csv", dtype={"user_id": str}).set_index("user_id")
    assert sorted(got.index) == ["13047", "17850"]  # one user each, joined with the events
    assert got.loc["17850", "Country"] == "UK"


# ---------------------------------------------------------------------- privacy
def test_profiles_leave_sensitive_columns_out_by_default(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    ev = tmp_path / "ev.csv"
    ev.write_text("user_id,item_id,timestamp\nu1,a,2011-01-01\nu1,b,2011-01-02\nu2,a,2011-01-03\n")
    users = tmp_path / "users.csv"
    users.write_text("user_id,Gender,zip_code,country\nu1,F,02134,US\nu2,M,94105,US\n")
    out = tmp_path / "p.csv"
    code, err = cli(capsys, "profiles", str(ev), "--users", str(users), "--out", str(out))
    assert code == 0, err
    assert "sensitive column(s) ['Gender', 'zip_code'] left out" in err
    cols = pd.read_csv(out).columns
    assert "Gender" not in cols and "zip_code" not in cols and "country" in cols
    code, err = cli(capsys, "profiles", str(ev), "--users", str(users), "--include-sensitive",
                    "--out", str(out))
    assert code == 0, err
    assert {"Gender", "zip_code"} <= set(pd.read_csv(out).columns)


# ------------------------------------------------------------ time and categories
def test_category_sep_options(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ev = tmp_path / "ev.csv"
    pd.DataFrame({"user_id": ["a", "a", "b", "c"], "item_id": ["dvd", "dvd2", "vinyl", "blouse"],
                  "timestamp": pd.date_range("2024-01-01", periods=4).astype(str)}
                 ).to_csv(ev, index=False)
    items = tmp_path / "items.csv"
    pd.DataFrame({"item_id": ["dvd", "dvd2", "vinyl", "blouse"],
                  "category": ["CDs/DVDs", "CDs/DVDs", "CDs/Vinyl > Jazz", "Tops/Blouses"]}
                 ).to_csv(items, index=False)
    out = tmp_path / "p.csv"
    before = get_category_sep()

    def top(*extra: str) -> dict[str, str]:
        code, err = cli(capsys, "profiles", str(ev), "--items", str(items), *extra,
                        "--out", str(out))
        assert code == 0, err
        assert get_category_sep() == before  # the package default is restored
        return pd.read_csv(out).set_index("user_id")["top_category"].to_dict()

    assert top() == {"a": "cds", "b": "cds", "c": "tops"}
    assert top("--flat-categories") == {"a": "cds_dvds", "b": "cds_vinyl_jazz",
                                        "c": "tops_blouses"}
    assert top("--category-sep", ">") == {"a": "cds_dvds", "b": "cds_vinyl", "c": "tops_blouses"}
    with pytest.raises(SystemExit):
        main(["profiles", str(ev), "--flat-categories", "--category-sep", ">", "--out", str(out)])
    capsys.readouterr()


def test_time_options(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ev = tmp_path / "ev.csv"
    pd.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["a", "b", "a"],
                  "timestamp": ["03/04/2011 10:00", "25/04/2011 11:00", "05/04/2011 09:00"]}
                 ).to_csv(ev, index=False)
    out = tmp_path / "p.csv"
    code, err = cli(capsys, "profiles", str(ev), "--out", str(out))
    assert code == 2
    msg = one_error(err, "profiles")
    assert "pass --dayfirst (day/month/year), --monthfirst (month/day/year) or --time-format" \
        in msg and "dayfirst=True" not in msg
    for extra in (["--dayfirst"], ["--time-format", "%d/%m/%Y %H:%M"]):
        code, err = cli(capsys, "profiles", str(ev), *extra, "--out", str(out))
        assert code == 0, err
        assert pd.read_csv(out).set_index("user_id").loc["u1", "first_seen"] == \
            "2011-04-03 10:00:00"
    # --as-of is read the same way
    code, err = cli(capsys, "profiles", str(ev), "--dayfirst", "--as-of", "04/04/2011",
                    "--out", str(out))
    assert code == 0, err
    assert pd.read_csv(out).set_index("user_id").loc["u1", "n_events"] == 1
    epoch = tmp_path / "epoch.csv"
    pd.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["a", "b", "a"],
                  "timestamp": [1301824800000, 1303729200000, 1301994000]}
                 ).to_csv(epoch, index=False)
    code, err = cli(capsys, "profiles", str(epoch), "--out", str(out))
    assert code == 2 and "pass --epoch-unit s, ms, us or ns" in err
    code, err = cli(capsys, "profiles", str(epoch), "--epoch-unit", "ms", "--clean",
                    "--out", str(out))
    assert code == 0, err


# ---------------------------------------------------------------- broken files
BROKEN = {
    "semicolon.csv": b"user_id;item_id;timestamp;price\nu1;a;2011-04-03 10:00;3\n"
                     b"u1;b;2011-04-25 11:00;2,55\n",
    "empty.csv": b"",
    "latin1.csv": "user_id,item_id,timestamp,title\nu1,a,2011-01-01,Café £5\n".encode("latin-1"),
    "notgzip.csv.gz": b"user_id,item_id,timestamp\nu1,a,2011-01-01\n",
    "corrupt.parquet": b"PAR1 not really parquet",
    "quote.csv": b'user_id,item_id,timestamp\nu1,"a,2011-01-01\nu2,b,2011-01-02\n',
}


@pytest.mark.parametrize("name", list(BROKEN))
@pytest.mark.parametrize("role", ["EVENTS", "--users", "--items"])
def test_unreadable_files_are_input_errors(name: str, role: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture) -> None:
    if name.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    bad = tmp_path / name
    bad.write_bytes(BROKEN[name])
    ok = tmp_path / "ok.csv"
    ok.write_text("user_id,item_id,timestamp\nu1,a,2011-01-01\n")
    argv = ["profiles", str(bad)] if role == "EVENTS" else ["profiles", str(ok), role, str(bad)]
    code, err = cli(capsys, *argv, "--out", str(tmp_path / "p.csv"))
    assert code == 2
    msg = one_error(err, "profiles")
    assert f"{role} ({bad}) cannot be read as" in msg or f"{role} ({bad}) has no column" in msg


def test_a_good_gzip_csv_still_reads(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "ev.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("user_id,item_id,timestamp\nu1,a,2011-01-01\n")
    assert cli(capsys, "profiles", str(path), "--out", str(tmp_path / "p.csv"))[0] == 0


def test_outputs_and_inputs_are_checked_before_any_work(views: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    code = main(["profiles", str(views), "--out", str(tmp_path / "no" / "dir" / "p.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "--out: folder" in err and "does not exist" in err
    assert "loaded" not in err  # no work was done
    code = main(["profiles", str(views), "--users", str(tmp_path / "nope.csv"),
                 "--out", str(tmp_path / "p.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "--users: no such file" in err and "loaded" not in err


def test_zstd_without_zstandard_is_a_clear_error(views: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "zstandard" else real(name, *a))
    code = main(["profiles", str(views), "--out", str(tmp_path / "p.csv.zst")])
    err = capsys.readouterr().err
    assert code == 2 and "loaded" not in err
    assert "needs the 'zstandard' package, which is not installed; install it with: " \
           "pip install zstandard" in one_error(err.strip(), "profiles")


# ------------------------------------------------------- messages name CLI options
def test_messages_name_command_line_remedies(tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    ev = pd.DataFrame({"user_id": [1, 1, 2, 3, 3, 4], "item_id": ["a", "b", "a", "c", "a", "b"],
                       "timestamp": pd.date_range("2011-01-01", periods=6)})
    ev.astype({"user_id": str}).to_csv(tmp_path / "ev.csv", index=False)
    ev.to_parquet(tmp_path / "ev.parquet")
    (tmp_path / "users.csv").write_text("user_id,country\n1,UK\n2,FR\n")
    out = str(tmp_path / "o.csv")
    code, err = cli(capsys, "segments", str(tmp_path / "ev.csv"), "--method", "kmeans",
                    "--out", out)
    assert code == 2 and "Pass --items with a 'category' column, or use --method rfm." in err
    assert "features='all'" not in err
    code, err = cli(capsys, "profiles", str(tmp_path / "ev.parquet"), "--users",
                    str(tmp_path / "users.csv"), "--out", out)
    assert code == 2 and ".astype(" not in err
    assert "give both files in the same format, or write the Parquet ids as text" in err
    code, err = cli(capsys, "profiles", str(tmp_path / "ev.csv"), "--as-of", "01/12/2011",
                    "--out", out)
    assert code == 2 and err.endswith("pass --dayfirst (day/month/year) or --monthfirst "
                                      "(month/day/year).")
    dup = tmp_path / "dup.csv"
    dup.write_text("user_id,item_id,timestamp\nu1,a,2011-01-01 10:00\nu1,a,2011-01-01 10:00\n"
                   "u2,b,2011-01-02\n")
    code, err = cli(capsys, "profiles", str(dup), "--out", out)
    assert code == 0
    assert err.startswith("persona-rec profiles: warning: interactions: 1 row(s) repeat")
    assert "Pass --clean to drop them" in err and "clean=True" not in err


def test_float_ids_option_applies_to_the_users_file(big_ids: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    ids = tmp_path / "users.csv"
    ids.write_text(f"user_id\n12.0\n{2**53 + 1}.0\n")
    out = tmp_path / "r.csv"
    argv = ["recommend", str(big_ids), "--model", "knn", "--k", "1", "--keep-seen",
            "--users-file", str(ids), "--out", str(out)]
    code, err = cli(capsys, *argv)
    assert code == 2 and "column 'user_id' holds ids written as floats, e.g. '12.0'" in err
    code, err = cli(capsys, *argv, "--float-ids")
    assert code == 0, err
    got = pd.read_csv(out, dtype=str)
    assert got.user_id.tolist() == ["12", str(2**53 + 1)]
    assert got.source.tolist() == ["item_knn", "item_knn"]
    assert got.item_id.tolist()[1] in {"C", "D"}
    # without --quiet, the count of users without data is logged
    ids.write_text("user_id\n12\nnew-visitor-1\n")
    assert main([*argv]) == 0
    assert "1 of 2 user(s) in --users-file have no data" in capsys.readouterr().err


def test_numeric_column_with_na_texts_needs_na_values(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    ev = tmp_path / "ev.csv"  # as R's write.csv writes a missing price
    ev.write_text("user_id,item_id,timestamp,event,quantity,price\n"
                  "u1,a,2011-01-01,purchase,1,2.5\nu1,b,2011-01-02,view,NA,NA\n"
                  "u2,a,2011-01-03,purchase,1,2.5\n")
    out = tmp_path / "p.csv"
    code, err = cli(capsys, "profiles", str(ev), "--out", str(out))
    assert code == 2
    assert one_error(err, "profiles").endswith(
        f"EVENTS ({ev}): column 'quantity' is numeric except 1 cell(s) ['NA'] (first in data "
        f"row 2); pass --na-values NA to read them as missing.")
    code, err = cli(capsys, "profiles", str(ev), "--na-values", "NA", "--out", str(out))
    assert code == 0, err
    assert pd.read_csv(out).set_index("user_id").loc["u2", "monetary"] == pytest.approx(2.5)


def test_semicolon_file_gets_a_separator_hint(tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    ev = tmp_path / "ev.csv"
    ev.write_text("user_id;item_id;timestamp\nu1;a;2011-01-01\n")
    code, err = cli(capsys, "profiles", str(ev), "--out", str(tmp_path / "p.csv"))
    assert code == 2
    assert one_error(err, "profiles").endswith(
        "The file seems to be separated by ';'; persona-rec reads comma-separated CSV: re-save "
        "it with ',' as the separator.")


def test_time_and_event_columns_are_read_as_text(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    ev = tmp_path / "ev.csv"  # a warehouse partition key and numeric behaviour codes
    ev.write_text("user_id,item_id,dt,behavior_type\nu1,a,20110304,1\nu1,a,20110415,4\n"
                  "u2,b,20111201,1\n")
    out = tmp_path / "p.csv"
    args = ["profiles", str(ev), "--time-col", "dt", "--event-col", "behavior_type",
            "--event-map", "1=view,2=cart,4=purchase", "--out", str(out)]
    # never guessed: yyyymmdd numbers are also epoch seconds in 1970, so the reading is asked for
    code, err = cli(capsys, *args)
    assert code == 2
    assert ("20110304 reads as 2011-03-04 (--time-format '%Y%m%d') or as epoch seconds "
            "1970-08-21 18:11:44 (--epoch-unit s)") in err.splitlines()[-1]
    code, err = cli(capsys, *args, "--time-format", "%Y%m%d")
    assert code == 0, err
    assert "--event-map source name(s) ['2'] do not occur in EVENTS" in err  # 1 and 4 do
    got = pd.read_csv(out).set_index("user_id")
    # read as dates as the option says, not as epoch seconds in 1970
    assert got.loc["u1", "first_seen"] == "2011-03-04"
    assert got.loc["u1", "view_share"] == pytest.approx(0.5)


def test_rfm_segments_without_price_name_the_missing_column(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    ev = tmp_path / "orders.csv"
    ev.write_text("user_id,item_id,timestamp,event,Amount\nu1,a,2011-01-01,purchase,2\n"
                  "u1,b,2011-02-01,purchase,3\nu2,a,2011-01-15,purchase,2\n")
    out = tmp_path / "s.csv"
    code, err = cli(capsys, "segments", str(ev), "--out", str(out))
    assert code == 2
    msg = one_error(err, "segments")
    assert "--method rfm needs spending: EVENTS has no usable 'price' column (name yours with " \
           "--rename COLUMN=price)" in msg and "'Amount'" in msg
    code, err = cli(capsys, "segments", str(ev), "--rename", "Amount=price", "--out", str(out))
    assert code == 0, err
    assert len(pd.read_csv(out)) == 2


def test_float_id_column_in_parquet_names_the_file_fix(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    ev = tmp_path / "ev.parquet"
    pd.DataFrame({"user_id": [17850.0, 13047.0], "item_id": ["a", "b"],
                  "timestamp": ["2011-01-01", "2011-01-02"]}).to_parquet(ev)
    code, err = cli(capsys, "profiles", str(ev), "--out", str(tmp_path / "p.csv"))
    assert code == 2 and ".astype(" not in err
    assert "write the ids as integers or text in the file" in one_error(err, "profiles")
