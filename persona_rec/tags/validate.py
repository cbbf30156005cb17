"""Does a tag predict what it claims? Lift with bootstrap CIs, coverage, stability, agreement.

A behavioural or predictive tag makes a claim about what its users do next:
``churn_risk`` users should not buy, ``price_sensitive`` users should buy at a
discount, ``interest/x`` users should buy in x, ``value/high_potential_clv``
users should spend. :func:`validate_tags` measures each claim on the window
after the tagging date:

``lift = mean outcome among tagged users / mean outcome among all users``

(users = every user of the :class:`~persona_rec.tags.UserTags`, i.e. of the
profiles), with a percentile bootstrap confidence interval (users resampled
with replacement, ``random_state``). :func:`tag_stability` compares two tag
runs (how many tagged users keep the tag) and :func:`tag_agreement` two tags
from different sources (Jaccard, Cohen's kappa).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._text import category_item_mask
from .._validation import as_timestamp, check_instance, check_int, check_number
from ..columns import Columns, PURCHASE_EVENTS
from ..exceptions import (
    InvalidParameterError,
    InvalidValueError,
    UnknownIdError,
)
from .tagger import UserTags, diff

__all__ = [
    "OUTCOMES",
    "DEFAULT_CHECKS",
    "TagValidation",
    "next_window_outcomes",
    "default_checks",
    "validate_tags",
    "tag_stability",
    "tag_agreement",
]

#: Built-in outcomes of :func:`next_window_outcomes` (plus ``category:<path>``).
OUTCOMES: dict[str, str] = {
    "purchase": "1 if the user bought anything in the window, else 0",
    "no_purchase": "1 if the user bought nothing in the window, else 0",
    "spend": "sum of quantity * paid price in the window (currency)",
    "discount_share": "share of the window's purchase lines paid below the item's list price "
                      "(NaN without a purchase)",
}

#: Tag id -> outcome it claims to predict (tags absent from a run are skipped).
DEFAULT_CHECKS: dict[str, str] = {
    "churn_risk": "no_purchase",
    "lifecycle/at_risk": "no_purchase",
    "churned": "no_purchase",
    "lifecycle/churned": "no_purchase",
    "lifecycle/likely_churned": "no_purchase",
    "lifecycle/active": "purchase",
    "value/frequent_buyer": "purchase",
    "high_value": "spend",
    "value/rfm_high": "spend",
    "value/high_potential_clv": "spend",
    "price_sensitive": "discount_share",
    "preference/discount_hunter": "discount_share",
}


def _window(dataset: Any, as_of: Any, window_days: float) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = as_timestamp(as_of, "as_of")
    days = check_number(window_days, "window_days", low=0, low_inclusive=False,
                        owner="next_window_outcomes")
    return start, start + pd.Timedelta(days=days)


def next_window_outcomes(
    dataset: Any,
    as_of: Any,
    *,
    window_days: float = 90.0,
    categories: Iterable[str] = (),
) -> pd.DataFrame:
    """What each user did in ``[as_of, as_of + window_days)``.

    Parameters
    ----------
    dataset : Dataset
    as_of : datetime-like
        Start of the window (the tagging date).
    window_days : float, default 90
    categories : iterable of str
        Category paths (display or slug form) for ``category:<path>`` columns.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``user_id`` (every dataset user), columns of :data:`OUTCOMES`
        and one ``category:<path>`` (0/1) per category.

    Examples
    --------
    >>> from persona_rec import Dataset
    >>> inter = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [1, 2, 1],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-02-02", "2024-02-03"]),
    ...     "price": [10.0, 4.0, 8.0]})
    >>> items = pd.DataFrame({"item_id": [1, 2], "price": [10.0, 5.0]})
    >>> next_window_outcomes(Dataset.from_frames(inter, items=items), "2024-02-01", window_days=30)
             purchase  no_purchase  spend  discount_share
    user_id
    1             1.0          0.0    4.0             1.0
    2             1.0          0.0    8.0             1.0
    """
    start, end = _window(dataset, as_of, window_days)
    inter = dataset.internal_interactions
    ts = inter[Columns.TIMESTAMP].to_numpy()
    keep = (ts >= start.to_datetime64()) & (ts < end.to_datetime64())
    if Columns.EVENT in inter.columns:
        keep &= inter[Columns.EVENT].astype(str).str.lower().isin(PURCHASE_EVENTS).to_numpy()
    u = inter[Columns.USER_IDX].to_numpy()[keep]
    it = inter[Columns.ITEM_IDX].to_numpy()[keep]
    n = dataset.n_users
    items = dataset.item_attributes()
    list_price = (pd.to_numeric(items[Columns.PRICE], errors="coerce").to_numpy(dtype=float)
                  if Columns.PRICE in items.columns else np.full(dataset.n_items, np.nan))
    paid = (inter[Columns.PRICE].to_numpy(dtype=float)[keep] if Columns.PRICE in inter.columns
            else list_price[it])
    qty = (inter[Columns.QUANTITY].to_numpy(dtype=float)[keep]
           if Columns.QUANTITY in inter.columns else np.ones(len(u)))
    lines = np.bincount(u, minlength=n).astype(float)
    bought = lines > 0
    spend = np.bincount(u, weights=np.nan_to_num(qty * paid), minlength=n)
    below = np.isfinite(list_price[it]) & np.isfinite(paid) & (paid < list_price[it] * (1 - 1e-9))
    priced = np.bincount(u, weights=np.isfinite(list_price[it]) & np.isfinite(paid), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        disc = np.where(priced > 0, np.bincount(u, weights=below, minlength=n) / priced, np.nan)
    out = pd.DataFrame({"purchase": bought.astype(float), "no_purchase": (~bought).astype(float),
                        "spend": spend, "discount_share": disc},
                       index=pd.Index(dataset.user_map.external_ids, name=Columns.USER))
    for cat in categories:
        if "category" not in items.columns:
            raise InvalidValueError(
                f"category outcomes need an item 'category' column, got {list(items.columns)}.")
        in_cat = category_item_mask(items["category"], cat)
        hit = np.zeros(n, dtype=bool)
        hit[u[in_cat[it]]] = True
        out[f"category:{cat}"] = hit.astype(float)
    return out


def default_checks(tag_ids: Iterable[str]) -> dict[str, str]:
    """Claims of the default taxonomy's tags present in ``tag_ids``.

    :data:`DEFAULT_CHECKS`, plus ``interest/<path>`` -> ``category:<path>``.

    Examples
    --------
    >>> default_checks(["churn_risk", "interest/home", "basic"])
    {'churn_risk': 'no_purchase', 'interest/home': 'category:home'}
    """
    out: dict[str, str] = {}
    for t in tag_ids:
        if t in DEFAULT_CHECKS:
            out[t] = DEFAULT_CHECKS[t]
        elif t.startswith("interest/"):
            out[t] = "category:" + t[len("interest/"):]
    return out


@dataclass
class TagValidation:
    """Result of :func:`validate_tags`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per checked tag: ``tag_id, outcome, n_tagged, coverage``
        (share of users tagged), ``mean_tagged, mean_all, lift, lift_low,
        lift_high`` (bootstrap percentile interval), ``claim_holds`` (the
        interval lies above 1).
    as_of : pandas.Timestamp
    window_days : float
    n_users : int
    n_boot : int
    """

    table: pd.DataFrame
    as_of: pd.Timestamp
    window_days: float
    n_users: int
    n_boot: int

    def plot(self, ax: Any = None, tags: Sequence[str] | None = None) -> Any:
        """Horizontal bars of the lift per tag with the bootstrap interval (needs matplotlib).

        Green: the interval lies above 1 (the claim holds); red otherwise.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
        tags : sequence of str, optional
            Tags to show (default all rows of :attr:`table`).

        Returns
        -------
        matplotlib.axes.Axes
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:  # pragma: no cover - matplotlib is in the test extra
            raise ImportError("TagValidation.plot needs matplotlib: pip install "
                              "'persona-rec[plot]'.") from exc
        t = self.table
        if tags is not None:
            missing = [x for x in tags if x not in set(t["tag_id"])]
            if missing:
                raise UnknownIdError(f"TagValidation.plot: tag id(s) {missing[:3]} were not "
                                     f"validated.")
            t = t.set_index("tag_id").loc[list(tags)].reset_index()
        t = t.iloc[::-1]
        if ax is None:
            _, ax = plt.subplots(figsize=(10, 0.32 * len(t) + 1.5))
        y = np.arange(len(t))
        err = np.vstack([t["lift"] - t["lift_low"], t["lift_high"] - t["lift"]])
        colors = np.where(t["claim_holds"], "tab:green", "tab:red")
        ax.barh(y, t["lift"], xerr=err, color=colors, alpha=0.8, capsize=3)
        ax.axvline(1.0, color="black", lw=1)
        ax.set_yticks(y, [f"{a} -> {b}" for a, b in zip(t["tag_id"], t["outcome"])])
        ax.set_xlabel(f"lift in the next {self.window_days:g} days (95% bootstrap CI)")
        ax.set_title(f"Tag validation at {self.as_of.date()}")
        ax.figure.tight_layout()
        return ax


def validate_tags(
    user_tags: UserTags,
    dataset: Any,
    as_of: Any,
    *,
    window_days: float = 90.0,
    checks: Mapping[str, str] | None = None,
    n_boot: int = 1000,
    ci: float = 0.95,
    users: Iterable[Any] | None = None,
    random_state: int | np.random.Generator | None = 0,
) -> TagValidation:
    """Measure, per tag, the lift of the outcome it claims in the next window.

    Parameters
    ----------
    user_tags : UserTags
        Tags assigned at ``as_of`` (from profiles built at ``as_of``).
    dataset : Dataset
        Must hold the events of the window ``[as_of, as_of + window_days)``.
    as_of : datetime-like
    window_days : float, default 90
    checks : mapping, optional
        Tag id -> outcome (a key of :data:`OUTCOMES` or ``category:<path>``).
        Default: :func:`default_checks` of the run's tags.
    n_boot : int, default 1000
        Bootstrap replicates (>= 10).
    ci : float, default 0.95
    users : iterable, optional
        Population to validate on (default: every user of ``user_tags``),
        e.g. the users with a purchase before ``as_of``, so that churn tags
        are compared with other buyers rather than with never-buyers.
    random_state : int or numpy.random.Generator, optional

    Returns
    -------
    TagValidation

    Raises
    ------
    UnknownIdError
        A checked tag or a user of ``users`` is not in ``user_tags``.
    InvalidParameterError
        Unknown outcome, or no check to run.
    InvalidValueError
        ``users`` is empty.

    Notes
    -----
    ``discount_share`` is only defined for users who buy in the window; its
    lift compares tagged and all *buying* users. Tags without any tagged
    user get ``NaN`` lift (reported, not dropped).
    """
    check_instance(user_tags, UserTags, "user_tags must be a UserTags")
    n_boot = check_int(n_boot, "n_boot", minimum=10, owner="validate_tags")
    ci = check_number(ci, "ci", low=0, high=1, low_inclusive=False, high_inclusive=False,
                      owner="validate_tags")
    start, _ = _window(dataset, as_of, window_days)
    if checks is None:
        checks = default_checks(user_tags.tag_ids)
    checks = dict(checks)
    if not checks:
        raise InvalidParameterError(
            "validate_tags has no check to run: pass checks={tag_id: outcome}; none of the "
            "run's tags has a default claim.")
    unknown = [t for t in checks if t not in user_tags.tag_index]
    if unknown:
        raise UnknownIdError(f"validate_tags: tag id(s) {unknown[:3]} are not in user_tags.")
    bad = [o for o in checks.values() if o not in OUTCOMES and not o.startswith("category:")]
    if bad:
        raise InvalidParameterError(
            f"validate_tags: outcome(s) {bad[:3]} unknown; use one of {list(OUTCOMES)} or "
            f"'category:<path>'.")
    cats = sorted({o[len("category:"):] for o in checks.values() if o.startswith("category:")})
    outcomes = next_window_outcomes(dataset, start, window_days=window_days, categories=cats)
    all_users = pd.Index(user_tags.user_ids)
    if users is None:
        rows_in = np.arange(len(all_users))
    else:
        wanted = pd.Index(np.asarray(list(users), dtype=object) if not isinstance(users, pd.Index)
                          else users)
        rows_in = all_users.get_indexer(wanted)
        if (rows_in < 0).any():
            raise UnknownIdError(
                f"validate_tags: user id(s) {wanted[rows_in < 0][:3].tolist()} are not in "
                f"user_tags.")
    n = len(rows_in)
    if n == 0:
        raise InvalidValueError("validate_tags: users is empty; nothing to validate.")
    outcomes = outcomes.reindex(all_users[rows_in])
    mat = user_tags.matrix.tocsc()[rows_in]
    tags = list(checks)
    k = len(tags)
    y = np.column_stack([outcomes[checks[t]].to_numpy(dtype=np.float64) for t in tags])
    ok = np.isfinite(y)
    yv = np.where(ok, y, 0.0)
    tagged = np.column_stack([mat[:, user_tags.tag_index[t]].toarray().ravel() > 0 for t in tags])
    t_ok = (tagged & ok).astype(np.float64)
    okf = ok.astype(np.float64)
    stacked = np.hstack([yv * t_ok, t_ok, yv, okf])  # n x 4k: sums per replicate in one product
    full = stacked.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_t = full[:k] / full[k:2 * k]
        mean_a = full[2 * k:3 * k] / full[3 * k:]
        lift = np.where(mean_a > 0, mean_t / mean_a, np.nan)
    rng = np.random.default_rng(random_state)
    boot = np.empty((n_boot, k))
    chunk = max(1, int(2e7 // max(n, 1)))  # bounded memory: chunk x n bootstrap counts
    p_uniform = np.full(n, 1.0 / n)
    for lo_b in range(0, n_boot, chunk):  # a few chunks of replicates, each vectorised
        m = min(chunk, n_boot - lo_b)
        w = rng.multinomial(n, p_uniform, size=m).astype(np.float64)
        sums = w @ stacked
        with np.errstate(invalid="ignore", divide="ignore"):
            boot[lo_b:lo_b + m] = ((sums[:, :k] / sums[:, k:2 * k])
                                   / (sums[:, 2 * k:3 * k] / sums[:, 3 * k:]))
    alpha = (1 - ci) / 2
    rows = []
    for j, tag in enumerate(tags):
        b = boot[:, j][np.isfinite(boot[:, j])]
        lo, hi = (np.quantile(b, [alpha, 1 - alpha]) if len(b) >= 10 else (np.nan, np.nan))
        rows.append({"tag_id": tag, "outcome": checks[tag], "n_tagged": int(tagged[:, j].sum()),
                     "coverage": float(tagged[:, j].mean()),
                     "mean_tagged": float(mean_t[j]), "mean_all": float(mean_a[j]),
                     "lift": float(lift[j]), "lift_low": float(lo), "lift_high": float(hi),
                     "claim_holds": bool(lo > 1.0)})
    table = pd.DataFrame(rows)
    return TagValidation(table=table, as_of=start, window_days=float(window_days), n_users=n,
                         n_boot=n_boot)


def tag_stability(old: UserTags, new: UserTags, *, include_sensitive: bool = False) -> pd.DataFrame:
    """How stable each tag is between two runs (e.g. two profile dates).

    Parameters
    ----------
    old, new : UserTags
        The earlier and the later run, passed to :func:`~persona_rec.tags.diff`.
    include_sensitive : bool, default False
        Whether the stability of sensitive tags is reported too.

    Returns
    -------
    pandas.DataFrame
        :func:`~persona_rec.tags.diff` columns plus ``jaccard`` (kept / users
        tagged in either run) and ``retention`` (kept / n_old); NaN when the
        denominator is 0.

    Examples
    --------
    >>> a = UserTags(np.array([[1, 0], [1, 1]]), [1, 2], ["x", "y"])
    >>> b = UserTags(np.array([[0, 1], [1, 1], [1, 0]]), [1, 2, 3], ["x", "y"])
    >>> tag_stability(a, b)[["tag_id", "kept", "jaccard", "retention"]]
      tag_id  kept   jaccard  retention
    0      x     1  0.333333        0.5
    1      y     1  0.500000        1.0
    """
    d = diff(old, new, include_sensitive=include_sensitive)
    union = d["n_old"] + d["n_new"] - d["kept"]
    d["jaccard"] = np.where(union > 0, d["kept"] / union.where(union > 0, 1), np.nan)
    d["retention"] = np.where(d["n_old"] > 0, d["kept"] / d["n_old"].where(d["n_old"] > 0, 1),
                              np.nan)
    return d


def tag_agreement(user_tags: UserTags, pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Agreement between pairs of tags over the same users (e.g. rule- vs model-based churn).

    Parameters
    ----------
    user_tags : UserTags
    pairs : sequence of (tag_id, tag_id)

    Returns
    -------
    pandas.DataFrame
        ``tag_a, tag_b, n_a, n_b, n_both, jaccard, kappa`` (Cohen's kappa of
        the two yes/no assignments; NaN when it is undefined).

    Examples
    --------
    >>> ut = UserTags(np.array([[1, 1], [1, 0], [0, 0], [0, 0]]), [1, 2, 3, 4], ["x", "y"])
    >>> tag_agreement(ut, [("x", "y")])
      tag_a tag_b  n_a  n_b  n_both  jaccard  kappa
    0     x     y    2    1       1      0.5    0.5
    """
    check_instance(user_tags, UserTags, "user_tags must be a UserTags")
    mat = (user_tags.matrix > 0).tocsc()
    n = user_tags.n_users
    rows = []
    for a, b in pairs:
        for t in (a, b):
            if t not in user_tags.tag_index:
                raise UnknownIdError(f"tag_agreement: tag id {t!r} is not in user_tags.")
        va = mat[:, user_tags.tag_index[a]].toarray().ravel()
        vb = mat[:, user_tags.tag_index[b]].toarray().ravel()
        na, nb, both = int(va.sum()), int(vb.sum()), int((va & vb).sum())
        union = na + nb - both
        po = (both + (n - union)) / n if n else np.nan
        pe = ((na * nb) + (n - na) * (n - nb)) / n**2 if n else np.nan
        kappa = (po - pe) / (1 - pe) if n and pe < 1 else np.nan
        rows.append({"tag_a": a, "tag_b": b, "n_a": na, "n_b": nb, "n_both": both,
                     "jaccard": both / union if union else np.nan, "kappa": kappa})
    return pd.DataFrame(rows)
