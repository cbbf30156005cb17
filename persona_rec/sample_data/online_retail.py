"""Loader for the UCI "Online Retail" dataset (CC BY 4.0) with documented cleaning.

Chen, D. (2015). *Online Retail* [Dataset]. UCI Machine Learning Repository,
doi:10.24432/C5BW33. Licensed under CC BY 4.0.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, overload

import numpy as np
import pandas as pd

from .._text import example_values
from .._time import parse_times
from .._validation import check_instance
from ..cleaning import CleaningReport
from ..columns import Columns
from ..dataset import Dataset
from ..exceptions import InvalidValueError, MissingColumnError
from ._common import require_path, with_reports

__all__ = [
    "RAW_COLUMNS",
    "CLEANING_RULES",
    "CATEGORY_KEYWORDS",
    "PRODUCT_CODE_PATTERN",
    "read_online_retail_raw",
    "clean_online_retail",
    "retail_category",
    "load_online_retail",
]

#: Columns of the raw CSV, in file order.
RAW_COLUMNS: tuple[str, ...] = (
    "InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
    "CustomerID", "Country",
)

#: A product stock code: 5 digits, optionally followed by letters (``85123A``,
#: ``15056BL``). Everything else (``POST``, ``D``, ``M``, ``DOT``, ``C2``,
#: ``BANK CHARGES``, ``AMAZONFEE``, ``DCGS...``, ``gift_0001_...``, ``PADS``,
#: ``B``, ``S``, ``CRUK``) is a fee, discount, manual line or voucher.
PRODUCT_CODE_PATTERN = r"\d{5}[A-Za-z]*"

#: Cleaning rules in the order they are applied: reason -> description. A row is
#: counted under the first rule it breaks, so every removed row has one reason.
CLEANING_RULES: dict[str, str] = {
    "missing_customer": "CustomerID is empty (guest or unknown customer)",
    "cancellation": "InvoiceNo starts with 'C' (cancelled order line)",
    "adjustment": "InvoiceNo starts with 'A' (bad-debt adjustment)",
    "non_product": "StockCode is not a product code (5 digits + optional letters): "
    "postage, discounts, manual lines, fees, vouchers",
    "non_positive_quantity": "Quantity <= 0",
    "non_positive_price": "UnitPrice <= 0",
    "duplicate": "exact duplicate of an earlier row (all 8 columns equal)",
}

#: Keyword table for the derived two-level ``category`` of a product. Rules are
#: tried in order on the upper-cased description; the first whose regular
#: expression matches wins; no match gives ``"Other"``.
CATEGORY_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("Seasonal > Christmas", r"CHRISTMAS|XMAS|ADVENT|SANTA|REINDEER|SNOWFLAKE|SNOWMAN|BAUBLE|NATIVITY"),
    ("Seasonal > Easter", r"EASTER|\bCHICKS?\b|\bBUNNY|\bEGGS? HUNT|HANGING EGG|DECORATION EGG"),
    ("Home > Candles & Lights", r"CANDLE|T-LIGHT|TLIGHT|LANTERN|\bLIGHTS?\b|\bLAMP|INCENSE|OIL BURNER|NIGHT LIGHT"),
    ("Kitchen > Baking", r"\bCAKE CASES?|BAKING|CAKE STAND|CAKE TIN|CAKE MOULD|\bAPRON|OVEN GLOVE|RECIPE|JELLY MOULD|COOKIE CUTTER|PASTRY|ICING"),
    ("Kitchen > Mugs & Cups", r"\bMUGS?\b|\bCUPS?\b|SAUCER|TEACUP|BEAKER"),
    ("Kitchen > Tableware", r"\bPLATES?\b|\bBOWLS?\b|\bDISH\b|CUTLERY|NAPKIN|PLACEMAT|COASTER|\bTRAYS?\b|\bJUG\b|TEAPOT|TUMBLER|TEA TOWEL|CAKESTAND|CHOPSTICK|SPOON|STRAWS?\b|\bPAN\b|SQUEEZER|\bMOULDS?\b|\bGLASS(ES)?\b|TEA FOR ONE|EGG CUP|TOAST|JAM MAKING|PETIT FOUR|PLATTER|FLASK|EGG WARMER"),
    ("Kitchen > Storage", r"\bTINS?\b|\bJARS?\b|LUNCH BOX|LUNCHBOX|\bBOTTLE|CONTAINER|PANTRY|BREAD BIN|BISCUIT|SNACK BOX|FOOD"),
    ("Bags > Bags", r"\bBAGS?\b|TOTE|SHOPPER|BACKPACK|HANDBAG|RUCKSACK"),
    ("Stationery > Cards & Wrap", r"\bCARDS?\b|\bWRAP\b|GIFT TAG|ENVELOPE|TISSUE PAPER|WRAPPING|GIFT BOX|\bTAGS\b|RIBBON"),
    ("Stationery > Paper & Writing", r"NOTEBOOK|NOTE ?BOOK|\bPENS?\b|PENCIL|ERASER|RUBBER|RULER|STICKER|\bNOTES?\b|DIARY|CALENDAR|\bTAPE\b|JOURNAL|\bPAD\b|STATIONERY|ORGANISER|PAPERWEIGHT|P\'WEIGHT|WALL TIDY|\bOFFICE\b|POSTCARD|HOLE PUNCH|TISSUE REAM|CRAYON|CHALK"),
    ("Party > Party Supplies", r"\bPARTY|BUNTING|BALLOON|GARLAND|PAPER CHAIN|CONFETTI|BIRTHDAY|PINATA|POPCORN|HONEYCOMB|PAPER FAN|DOILIES|TIARA"),
    ("Fashion > Jewellery", r"NECKLACE|BRACELET|EARRING|\bRING\b|\bCHARM|\bBEADS?\b|BROOCH|DIAMANTE|JEWEL|PENDANT|BANGLE|NECKL|HAIRCLIP|HAIR CLIP|HAIR GRIP|HAIR BAND|HAIR COMB|\bHAIR\b"),
    ("Fashion > Accessories", r"PURSE|UMBRELLA|\bSCARF|HAND WARMER|WALLET|GLOVES?\b|\bHAT\b|PARASOL|MIRROR COMPACT|COMPACT MIRROR|SUNGLASSES|WASHBAG|MAKE UP|MAKEUP|COSMETIC|KEYRING|KEY RING|PASSPORT|LUGGAGE TAG|\bFANS?\b|EAR MUFF|RAIN MAC|SHOWER CAP"),
    ("Toys & Kids > Toys & Games", r"\bTOYS?\b|\bDOLLS?\b|DOLLY|JIGSAW|PUZZLE|\bGAMES?\b|SPACEBOY|SKITTLES|DOMINO|PLAYING CARDS|SOLDIER|\bKIT\b|CHILDRENS|CHILDS|\bBABY|\bTEDDY|SKIPPING ROPE|MARBLES|SPINNING TOP|COLOURING|RAIN PONCHO|BLOCK WORD|FELTCRAFT|KNITTING|SEWING|HELICOPTER|GLIDER|INFLATABLE|PLAYHOUSE|DINOSAUR|ROCKING HORSE|\bMOBILE\b|NAUGHTS|TATTOO|MODELLING|\bDUCKS?\b|\bMONSTER|PUPPET|STENCIL|DRAWING|CREEPY"),
    ("Home > Textiles", r"CUSHION|THROW|BLANKET|DOORMAT|HOT WATER BOTTLE|QUILT|FLANNEL|POUFFE|HAMMOCK|\bRUG\b|CURTAIN|TEA COSY|\bFELT\b|TABLECLOTH|TOWEL"),
    ("Home > Bathroom", r"BATHROOM|\bSOAP|TOILET|TISSUES|\bBATH\b|WASH"),
    ("Garden > Garden & Outdoor", r"GARDEN|\bPLANT|WATERING|BIRD FEEDER|BIRD HOUSE|BIRDHOUSE|\bPOTS?\b|PLANTER|FLOWER POT|THERMOMETER|\bSEEDS?\b|PICNIC|\bKNEELING|TRUG|WINDMILL|GNOME|HERB MARKER|SOW|GROW|WIND CHIME|CHIME"),
    ("Home > Storage & Furniture", r"DRAWER|CABINET|\bSHELF|BASKET|\bHOOKS?\b|\bKNOB|\bRACK\b|STORAGE|COAT HANGER|\bHANGER|\bBOX(ES)?\b|\bCHAIR|\bTABLE\b|STOOL|CRATE|\bCASE\b|MAGAZINE"),
    ("Home > Decor", r"\bSIGN\b|PLAQUE|\bFRAME|MIRROR|\bCLOCK|DECORATION|ORNAMENT|WREATH|\bVASE|HANGING|\bHEARTS?\b|DOORSTOP|DOOR STOP|\bBELLS?\b|\bBIRD\b|\bSTAR\b|WALL ART|MAGNET|PICTURE|PHOTO|\bSCULPTURE|\bFIGURE|\bBUTTERFLY|DOORKNOB|\bBLOCK\b|WORDS|FLOWERS?\b|\bROSE\b|FEATHER|CHANDELIER|HOLDER|\bTILE\b|LETTERS|\bFLAG\b|DOORSIGN|ASHTRAY|CLOTHES PEGS|MATCHES"),
)

_COMPILED = tuple((cat, re.compile(pattern)) for cat, pattern in CATEGORY_KEYWORDS)
_READ_DTYPES = {
    "InvoiceNo": "string",
    "StockCode": "string",
    "Description": "string",
    "Quantity": np.int64,
    "UnitPrice": np.float64,
    "CustomerID": np.float64,
    "Country": "string",
}


def retail_category(descriptions: pd.Series | list[str]) -> pd.Series:
    """Map product descriptions to a two-level category path via :data:`CATEGORY_KEYWORDS`.

    Parameters
    ----------
    descriptions : pandas.Series or list of str
        Product descriptions (missing values give ``"Other"``).

    Returns
    -------
    pandas.Series of str
        Paths such as ``"Kitchen > Mugs & Cups"``; ``"Other"`` when no rule matches.

    Examples
    --------
    >>> retail_category(["WHITE HANGING HEART T-LIGHT HOLDER", "RED RETROSPOT MUG",
    ...                  "JUMBO BAG RED RETROSPOT", "PACK OF 72 RETROSPOT CAKE CASES", "XYZ"]).tolist()
    ['Home > Candles & Lights', 'Kitchen > Mugs & Cups', 'Bags > Bags', 'Kitchen > Baking', 'Other']
    """
    s = pd.Series(descriptions, dtype="string").fillna("").str.upper()
    uniques, codes = np.unique(s.to_numpy(dtype=object), return_inverse=True)
    mapped = np.full(len(uniques), "Other", dtype=object)
    for i, text in enumerate(uniques):  # loop over distinct descriptions only (~4k)
        for cat, rx in _COMPILED:
            if rx.search(text):
                mapped[i] = cat
                break
    index = descriptions.index if isinstance(descriptions, pd.Series) else None
    return pd.Series(mapped[codes.reshape(-1)], index=index, dtype=object)


def read_online_retail_raw(path: str | Path) -> pd.DataFrame:
    """Read the Online Retail CSV (plain or gzip) as is, with explicit dtypes.

    Parameters
    ----------
    path : str or pathlib.Path
        ``online_retail.csv.gz`` (or an uncompressed CSV) with the columns of
        :data:`RAW_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        One row per file line (541,909 for the full dataset); ``InvoiceDate``
        parsed to ``datetime64``, ``CustomerID`` as float (NaN when empty).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    MissingColumnError
        The header lacks a column of :data:`RAW_COLUMNS`.
    """
    p = require_path(path, "Online Retail CSV")
    header = pd.read_csv(p, nrows=0).columns
    missing = [c for c in RAW_COLUMNS if c not in header]
    if missing:
        raise MissingColumnError(
            f"Online Retail CSV {str(p)!r} is missing column(s) {missing}; it has {list(header)}."
        )
    df = pd.read_csv(p, dtype=_READ_DTYPES, usecols=list(RAW_COLUMNS), engine="c")
    df["InvoiceDate"] = _invoice_dates(df["InvoiceDate"], p)
    return df[list(RAW_COLUMNS)]


def _invoice_dates(text: pd.Series, path: Path) -> np.ndarray:
    """``InvoiceDate`` text -> datetime64[ns], by the library's time parser.

    Both spellings of the dataset load to the same instants: ISO
    (``2010-12-01 08:26:00``) and UCI's own export, month-first
    (``12/1/2010 8:26``, hence ``dayfirst=False``). Each distinct value is
    parsed once (the file has ~23,000 distinct invoice times for 541,909 lines).
    """
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    parsed = parse_times(pd.Series(np.asarray(uniques, dtype=object)),
                         f"Online Retail CSV {str(path)!r} column 'InvoiceDate'", dayfirst=False)
    bad = parsed.missing | parsed.out_of_range
    if bad.any() or (codes < 0).any():
        shown = example_values(np.asarray(uniques, dtype=object)[bad]) if bad.any() else "[empty]"
        rows = np.flatnonzero((codes < 0) | bad[np.maximum(codes, 0)])
        raise InvalidValueError(
            f"Online Retail CSV {str(path)!r} column 'InvoiceDate' must hold date/times such as "
            f"'2010-12-01 08:26:00' or UCI's month-first '12/1/2010 8:26'; {len(rows)} line(s) "
            f"do not, e.g. {shown} (data row position(s) {rows[:3].tolist()})."
        )
    return parsed.utc[codes]


def clean_online_retail(raw: pd.DataFrame) -> tuple[pd.DataFrame, CleaningReport]:
    """Apply the documented cleaning rules to raw Online Retail rows.

    The rules of :data:`CLEANING_RULES` are applied in order; each removed row
    is counted once, under the first rule it breaks.

    Parameters
    ----------
    raw : pandas.DataFrame
        As returned by :func:`read_online_retail_raw`.

    Returns
    -------
    clean : pandas.DataFrame
        The kept rows (original columns, original order, fresh index).
    report : CleaningReport
        ``frame="online_retail"``; ``removed`` holds every reason of
        :data:`CLEANING_RULES` (zero counts included) in order.
    """
    check_instance(raw, pd.DataFrame, "raw must be a pandas.DataFrame")
    missing = [c for c in RAW_COLUMNS if c not in raw.columns]
    if missing:
        raise MissingColumnError(f"raw is missing column(s) {missing}; it has {list(raw.columns)}.")
    invoice = raw["InvoiceNo"].astype("string").fillna("")
    code = raw["StockCode"].astype("string").fillna("")
    masks = {
        "missing_customer": raw["CustomerID"].isna().to_numpy(),
        "cancellation": invoice.str.startswith("C").to_numpy(dtype=bool),
        "adjustment": invoice.str.startswith("A").to_numpy(dtype=bool),
        "non_product": ~code.str.fullmatch(PRODUCT_CODE_PATTERN).to_numpy(dtype=bool),
        "non_positive_quantity": (raw["Quantity"] <= 0).to_numpy(),
        "non_positive_price": (raw["UnitPrice"] <= 0).to_numpy(),
    }
    report = CleaningReport("online_retail", len(raw))
    keep = np.ones(len(raw), dtype=bool)
    for reason, bad in masks.items():
        bad = bad & keep
        report.add(reason, int(bad.sum()), CLEANING_RULES[reason])
        keep &= ~bad
    dup = np.zeros(len(raw), dtype=bool)
    dup[keep] = raw.loc[keep, list(RAW_COLUMNS)].duplicated(keep="first").to_numpy()
    report.add("duplicate", int(dup.sum()), CLEANING_RULES["duplicate"])
    keep &= ~dup
    out = raw.loc[keep].reset_index(drop=True)
    out.attrs["raw_row"] = np.flatnonzero(keep)  # positions in raw, for the Dataset's raw_row
    return out, report


def _first_mode(keys: pd.Series, values: pd.Series) -> pd.Series:
    """Most frequent value per key (ties: the value seen first)."""
    frame = pd.DataFrame({"k": keys.to_numpy(), "v": values.to_numpy()})
    counts = frame.groupby(["k", "v"], sort=False, dropna=True).size().rename("n").reset_index()
    counts = counts.sort_values("n", ascending=False, kind="stable")
    return counts.drop_duplicates("k").set_index("k")["v"]


def _build(clean: pd.DataFrame, raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    inter = pd.DataFrame(
        {
            Columns.USER: clean["CustomerID"].to_numpy(dtype=np.int64),
            Columns.ITEM: clean["StockCode"].to_numpy(dtype=object),
            Columns.TIMESTAMP: clean["InvoiceDate"].to_numpy(),
            Columns.EVENT: "purchase",
            Columns.QUANTITY: clean["Quantity"].to_numpy(dtype=np.int64),
            Columns.PRICE: clean["UnitPrice"].to_numpy(dtype=np.float64),
            "order_id": clean["InvoiceNo"].to_numpy(dtype=object),
            # two lines of one invoice may agree on every column above (they differ in the
            # raw Description): the raw row number keeps them distinct, not exact duplicates
            "raw_row": np.asarray(clean.attrs.get("raw_row", np.arange(len(clean))),
                                  dtype=np.int64),
        }
    )
    # every customer of the raw file is a user, also those whose lines were all removed
    # (they become attribute-only users); country = the customer's most frequent one
    known = raw["CustomerID"].notna().to_numpy()
    country = _first_mode(raw.loc[known, "CustomerID"].astype(np.int64), raw.loc[known, "Country"])
    users = pd.DataFrame({Columns.USER: country.index.to_numpy(dtype=np.int64),
                          "country": country.to_numpy(dtype=object)})
    desc = _first_mode(inter[Columns.ITEM], clean["Description"].str.strip())
    price = clean.groupby(inter[Columns.ITEM].to_numpy(), sort=False)["UnitPrice"].median()
    item_ids = price.index.to_numpy(dtype=object)
    description = desc.reindex(item_ids)
    items = pd.DataFrame(
        {
            Columns.ITEM: item_ids,
            "description": description.to_numpy(dtype=object),
            Columns.PRICE: price.to_numpy(dtype=np.float64),
            "category": retail_category(description.reset_index(drop=True)).to_numpy(dtype=object),
        }
    )
    return inter, users, items


@overload
def load_online_retail(path: str | Path, *, return_report: Literal[False] = ...) -> Dataset: ...
@overload
def load_online_retail(
    path: str | Path, *, return_report: Literal[True]
) -> tuple[Dataset, CleaningReport]: ...


def load_online_retail(
    path: str | Path, *, return_report: bool = False
) -> Dataset | tuple[Dataset, CleaningReport]:
    """Load UCI Online Retail as a :class:`Dataset`, cleaned by documented rules.

    The rules of :data:`CLEANING_RULES` are applied in this order, each removed
    row counted under the first rule it breaks: missing CustomerID,
    cancellations (``C`` invoices), bad-debt adjustments (``A`` invoices),
    non-product stock codes (not 5 digits + optional letters), Quantity <= 0,
    UnitPrice <= 0, exact duplicate rows. The report is
    ``dataset.cleaning_reports[0]`` (frame ``"online_retail"``).

    Parameters
    ----------
    path : str or pathlib.Path
        ``online_retail.csv.gz`` (the UCI data, CC BY 4.0, doi:10.24432/C5BW33).
    return_report : bool, default False
        If True, return ``(dataset, report)``.

    Returns
    -------
    Dataset or (Dataset, CleaningReport)
        * interactions: ``user_id`` (CustomerID as int), ``item_id``
          (StockCode, str), ``timestamp`` (InvoiceDate, UK local time),
          ``event`` = ``"purchase"`` (weight 5 from the default event
          weights), ``quantity``, ``price`` (UnitPrice, GBP), ``order_id``
          (InvoiceNo, str), ``raw_row`` (0-based row of the line in the raw
          file; 2 pairs of lines agree on every other column).
        * users: every CustomerID of the raw file with its ``country`` (the
          most frequent one; 8 customers have two). Customers whose lines
          were all removed stay as attribute-only users.
        * items: ``description`` (most frequent description of the code),
          ``price`` (median UnitPrice) and ``category``, a two-level path
          derived from the description with :data:`CATEGORY_KEYWORDS`
          (``"Other"`` when no keyword matches).

    Examples
    --------
    >>> ds, report = load_online_retail("online_retail.csv.gz", return_report=True)  # doctest: +SKIP
    >>> report.n_input, report.n_output  # doctest: +SKIP
    (541909, 391150)
    """
    raw = read_online_retail_raw(path)
    return _dataset_from_raw(raw, return_report=return_report)


def _dataset_from_raw(
    raw: pd.DataFrame, *, return_report: bool
) -> Dataset | tuple[Dataset, CleaningReport]:
    clean, report = clean_online_retail(raw)
    inter, users, items = _build(clean, raw)
    ds = with_reports(Dataset.from_frames(inter, users=users, items=items), [report])
    return (ds, report) if return_report else ds
