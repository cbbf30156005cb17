"""Regenerate the Online Retail sample shipped in ``persona_rec/sample_data/data/``.

The sample is a seeded random subset of the UCI Online Retail data (CC BY 4.0,
doi:10.24432/C5BW33): the complete raw history (every line, including
cancellations, fees and duplicates) of ``N_CUSTOMERS`` randomly chosen
customers, plus the lines of a same-sized random fraction of the guest invoices
(no CustomerID), so the loader's cleaning rules all have something to do.
The rows keep the original columns, values and order; running this script twice
gives byte-identical output.

Usage::

    python benchmarks/make_sample.py [path/to/online_retail.csv.gz]

The default input is ``$PERSONA_REC_DATA/online-retail/online_retail.csv.gz``
(``PERSONA_REC_DATA`` defaults to ``../shared/datasets``).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import sys
from pathlib import Path

import numpy as np

from persona_rec.sample_data.online_retail import RAW_COLUMNS, read_online_retail_raw

SEED = 20111209
N_CUSTOMERS = 1000
OUT = Path(__file__).resolve().parents[1] / "persona_rec" / "sample_data" / "data" / "online_retail_sample.csv.gz"


def make_sample(src: Path, out: Path = OUT) -> Path:
    """Write the sample CSV (gzip, deterministic bytes) and return its path."""
    raw = read_online_retail_raw(src)
    rng = np.random.default_rng(SEED)
    customers = np.sort(raw["CustomerID"].dropna().unique())
    chosen = rng.choice(customers, size=N_CUSTOMERS, replace=False)
    guest_invoices = np.sort(raw.loc[raw["CustomerID"].isna(), "InvoiceNo"].unique().to_numpy(dtype=object))
    n_guest = round(len(guest_invoices) * N_CUSTOMERS / len(customers))
    chosen_guest = rng.choice(guest_invoices, size=n_guest, replace=False)
    keep = raw["CustomerID"].isin(chosen).to_numpy() | (
        raw["CustomerID"].isna().to_numpy() & raw["InvoiceNo"].isin(chosen_guest).to_numpy()
    )
    sample = raw.loc[keep, list(RAW_COLUMNS)].copy()
    sample["InvoiceDate"] = sample["InvoiceDate"].dt.strftime("%Y-%m-%d %H:%M:%S")
    sample["CustomerID"] = sample["CustomerID"].map(lambda v: "" if v != v else f"{v:.1f}")
    text = sample.to_csv(index=False, lineterminator="\n")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buf.getvalue())
    print(f"{out}: {len(sample):,} rows, {sample['CustomerID'].ne('').sum():,} customer rows, "
          f"{N_CUSTOMERS} customers, {n_guest} guest invoices, {out.stat().st_size:,} bytes, "
          f"sha256 {hashlib.sha256(buf.getvalue()).hexdigest()}")
    return out


if __name__ == "__main__":
    default = Path(os.environ.get("PERSONA_REC_DATA", "../shared/datasets")) / "online-retail" / "online_retail.csv.gz"
    make_sample(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
