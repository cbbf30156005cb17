"""Online Retail loader and its cleaning report (real data when PERSONA_REC_DATA is set)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec.sample_data import (
    CLEANING_RULES,
    clean_online_retail,
    load_online_retail,
    read_online_retail_raw,
    retail_category,
)
from persona_rec.exceptions import InvalidDtypeError, InvalidValueError, MissingColumnError

RAW_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"


@pytest.fixture(scope="module")
def retail(online_retail_csv):
    return load_online_retail(online_retail_csv, return_report=True)


@pytest.fixture(scope="module")
def independent_counts(online_retail_csv):
    """The cleaning counts computed from scratch with plain pandas string logic."""
    df = pd.read_csv(online_retail_csv, dtype=object, keep_default_na=False)
    qty = df["Quantity"].astype(int)
    price = df["UnitPrice"].astype(float)
    rules = [
        ("missing_customer", df["CustomerID"] == ""),
        ("cancellation", df["InvoiceNo"].str[0] == "C"),
        ("adjustment", df["InvoiceNo"].str[0] == "A"),
        ("non_product", ~df["StockCode"].str.match(r"^[0-9]{5}[A-Za-z]*$")),
        ("non_positive_quantity", qty <= 0),
        ("non_positive_price", price <= 0),
    ]
    alive = pd.Series(True, index=df.index)
    counts = {}
    for name, bad in rules:
        counts[name] = int((bad & alive).sum())
        alive &= ~bad
    kept = df[alive]
    counts["duplicate"] = int(kept.duplicated().sum())
    return len(df), counts, kept.drop_duplicates(), df


def test_raw_count(online_retail_csv):
    raw = read_online_retail_raw(online_retail_csv)
    assert len(raw) == 541_909
    assert raw["CustomerID"].isna().sum() == 135_080
    assert raw["InvoiceDate"].min() == pd.Timestamp("2010-12-01 08:26:00")


def test_report_counts_match_independent_computation(retail, independent_counts):
    ds, report = retail
    n_raw, counts, kept, _ = independent_counts
    assert report.n_input == n_raw == 541_909
    assert list(report.removed) == list(CLEANING_RULES)  # fixed order, zeros kept
    assert report.removed == counts
    # the published figures this loader reproduces
    assert report.removed == {
        "missing_customer": 135_080,
        "cancellation": 8_905,
        "adjustment": 0,
        "non_product": 1_554,
        "non_positive_quantity": 0,
        "non_positive_price": 33,
        "duplicate": 5_187,
    }
    assert report.n_output == ds.n_interactions == len(kept) == 391_150
    assert ds.cleaning_reports[0] is report or ds.cleaning_reports[0] == report
    assert report.n_input == report.n_output + report.n_removed


def test_dataset_columns_and_counts(retail, independent_counts):
    ds, _ = retail
    _, _, kept, raw = independent_counts
    assert int(ds.hot_user_mask().sum()) == kept["CustomerID"].nunique() == 4_334
    # every raw CustomerID is a user; those with no line left are attribute-only
    raw_customers = set(raw.loc[raw["CustomerID"] != "", "CustomerID"].astype(float).astype(int))
    assert ds.n_users == len(raw_customers) == 4_372
    gone = sorted(raw_customers - set(kept["CustomerID"].astype(float).astype(int)))
    assert len(gone) == 38 and set(ds.user_state(gone)) == {"warm"}
    assert ds.n_items == kept["StockCode"].nunique() == 3_659
    inter = ds.interactions
    assert inter["user_id"].dtype == np.int64 and 17850 in set(inter["user_id"].head(20))
    assert set(inter["event"].unique()) == {"purchase"}
    assert (inter["quantity"] > 0).all() and (inter["price"] > 0).all()
    assert not inter["order_id"].str.startswith(("C", "A")).any()
    assert inter["quantity"].sum() == kept["Quantity"].astype(int).sum()
    users = ds.users.set_index("user_id")
    assert users.loc[17850, "country"] == "United Kingdom"
    items = ds.items.set_index("item_id")
    assert items.loc["85123A", "description"] == "WHITE HANGING HEART T-LIGHT HOLDER"
    assert items.loc["85123A", "category"] == "Home > Candles & Lights"
    expected_median = kept.loc[kept["StockCode"] == "85123A", "UnitPrice"].astype(float).median()
    assert items.loc["85123A", "price"] == pytest.approx(expected_median)


def test_category_coverage(retail):
    ds, _ = retail
    cat = ds.item_attributes()["category"]
    assert cat.notna().all()
    assert (cat == "Other").mean() < 0.07  # 5.1% of products
    line_cat = cat.to_numpy()[ds.internal_interactions["item_idx"].to_numpy()]
    assert (line_cat == "Other").mean() < 0.06  # 4.5% of purchase lines
    assert all(c == "Other" or c.count(" > ") == 1 for c in cat.unique())


def test_load_is_fast(online_retail_csv):
    import time

    # CPU time of this process, not wall time: a busy shared machine must not fail it
    t = time.process_time()
    read_online_retail_raw(online_retail_csv)
    assert time.process_time() - t < 5.0


# ---------------------------------------------------------------- synthetic unit tests
def _raw(rows: list[str]) -> pd.DataFrame:
    from io import StringIO

    path = StringIO("\n".join([RAW_HEADER, *rows]))
    df = pd.read_csv(path, dtype={"InvoiceNo": "string", "StockCode": "string",
                                  "Description": "string", "CustomerID": float})
    df["InvoiceDate"] = pd.to_datetime(df["InvoiceDate"])
    return df


def test_each_row_counted_once_under_first_rule():
    raw = _raw([
        "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",
        "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",
        "536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,,United Kingdom",
        "C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527.0,United Kingdom",
        "A563185,B,Adjust bad debt,1,2011-08-12 14:50:00,11062.06,12346.0,United Kingdom",
        "536370,POST,POSTAGE,3,2010-12-01 08:45:00,18.0,12583.0,France",
        "536371,22728,ALARM CLOCK BAKELIKE PINK,0,2010-12-01 08:45:00,3.75,12583.0,France",
        "536372,22727,ALARM CLOCK BAKELIKE RED,2,2010-12-01 08:45:00,0.0,12583.0,France",
        "536373,15056bl,EDWARDIAN PARASOL BLACK,2,2010-12-01 08:45:00,5.95,12583.0,France",
    ])
    clean, report = clean_online_retail(raw)
    assert report.removed == {
        "missing_customer": 1, "cancellation": 1, "adjustment": 1, "non_product": 1,
        "non_positive_quantity": 1, "non_positive_price": 1, "duplicate": 1,
    }
    assert len(clean) == 2 == report.n_output
    assert clean["StockCode"].tolist() == ["85123A", "15056bl"]


def test_clean_rejects_bad_input():
    with pytest.raises(InvalidDtypeError, match="raw must be a pandas.DataFrame, got list"):
        clean_online_retail([1, 2])
    with pytest.raises(MissingColumnError, match=r"raw is missing column\(s\) \['StockCode'.*'CustomerID'"):
        clean_online_retail(pd.DataFrame({"InvoiceNo": ["1"]}))


def test_read_rejects_wrong_header_and_missing_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("InvoiceNo,StockCode\n1,2\n")
    with pytest.raises(MissingColumnError, match="missing column.*'Description'"):
        read_online_retail_raw(bad)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_online_retail(tmp_path / "nope.csv.gz")


_LINES = [  # (InvoiceNo, StockCode, Description, Quantity, ISO date, UCI date, price, customer)
    ("536365", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6, "2010-12-01 08:26:00",
     "12/1/2010 8:26", 2.55, "17850.0"),
    ("536366", "22633", "HAND WARMER UNION JACK", 6, "2010-12-01 08:28:00", "12/1/2010 8:28",
     1.85, "17850.0"),
    ("540001", "22728", "ALARM CLOCK BAKELIKE PINK", 2, "2011-01-04 17:05:00", "1/4/2011 17:05",
     3.75, "12583.0"),
    ("581587", "22727", "ALARM CLOCK BAKELIKE RED", 4, "2011-12-09 12:50:00", "12/9/2011 12:50",
     3.75, "12680.0"),
]


@pytest.mark.parametrize("fmt", ["iso", "uci"])
def test_read_iso_and_uci_original_date_formats(tmp_path, fmt):
    """UCI publishes InvoiceDate month-first ('12/1/2010 8:26'): a raw pandas ValueError before."""
    path = tmp_path / "Online Retail.csv"
    path.write_text("\n".join([RAW_HEADER] + [
        f"{no},{code},{desc},{qty},{iso if fmt == 'iso' else uci},{price},{cust},United Kingdom"
        for no, code, desc, qty, iso, uci, price, cust in _LINES]) + "\n")
    raw = read_online_retail_raw(path)
    assert raw["InvoiceDate"].tolist() == [pd.Timestamp(line[4]) for line in _LINES]
    ds = load_online_retail(path)
    assert ds.interactions["timestamp"].tolist() == [pd.Timestamp(line[4]) for line in _LINES]


def test_read_refuses_unparseable_invoice_dates(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(f"{RAW_HEADER}\n"
                    "536365,85123A,HEART,6,12/1/2010 8:26,2.55,17850.0,United Kingdom\n"
                    "536366,22633,WARMER,6,13/1/2010 8:28,1.85,17850.0,United Kingdom\n")
    with pytest.raises(InvalidValueError, match=r"column 'InvoiceDate' must hold date/times.*"
                       r"1 line\(s\) do not, e.g. \['13/1/2010 8:28'\] \(data row position\(s\) \[1\]\)"):
        read_online_retail_raw(path)


def test_retail_category_rules():
    got = retail_category(pd.Series(["PAPER CHAIN KIT 50'S CHRISTMAS", "SET OF 3 CAKE TINS PANTRY DESIGN",
                                     "REGENCY CAKESTAND 3 TIER", None, "LUNCH BAG RED RETROSPOT"]))
    assert got.tolist() == ["Seasonal > Christmas", "Kitchen > Baking", "Kitchen > Tableware",
                            "Other", "Bags > Bags"]
