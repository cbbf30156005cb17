"""The small real e-commerce sample that ships inside persona_rec."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal, overload

from ..cleaning import CleaningReport
from ..dataset import Dataset
from .online_retail import _dataset_from_raw, read_online_retail_raw

__all__ = ["SAMPLE_FILE", "sample_path", "load_sample"]

#: File name of the shipped sample inside ``persona_rec/sample_data/data/``.
SAMPLE_FILE = "online_retail_sample.csv.gz"


def sample_path() -> Path:
    """Path of the shipped Online Retail sample (raw CSV, gzip)."""
    return Path(str(resources.files("persona_rec.sample_data").joinpath("data", SAMPLE_FILE)))


@overload
def load_sample(*, return_report: Literal[False] = ...) -> Dataset: ...
@overload
def load_sample(*, return_report: Literal[True]) -> tuple[Dataset, CleaningReport]: ...


def load_sample(*, return_report: bool = False) -> Dataset | tuple[Dataset, CleaningReport]:
    """Load the embedded Online Retail sample (no network, no external path).

    The sample holds the complete raw history of 1,000 randomly chosen
    customers of the UCI Online Retail dataset (Chen, 2015, UCI ML Repository,
    doi:10.24432/C5BW33, CC BY 4.0) plus a same-sized random share of the guest
    invoices, from 2010-12-01 to 2011-12-09. It goes through the same
    documented cleaning as :func:`~persona_rec.sample_data.load_online_retail`,
    so the result has the same columns and a cleaning report
    (``dataset.cleaning_reports[0]``). ``benchmarks/make_sample.py``
    regenerates the file.

    Parameters
    ----------
    return_report : bool, default False
        If True, return ``(dataset, report)``.

    Returns
    -------
    Dataset or (Dataset, CleaningReport)

    Examples
    --------
    >>> ds = load_sample()
    >>> ds.n_users, int(ds.hot_user_mask().sum()), ds.n_interactions
    (1000, 993, 86710)
    >>> ds.cleaning_reports[0].n_input
    120223
    """
    raw = read_online_retail_raw(sample_path())
    return _dataset_from_raw(raw, return_report=return_report)
