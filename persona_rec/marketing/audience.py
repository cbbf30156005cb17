"""Audience selection: tag expressions, propensity, budgets, quotas and privacy rules.

:func:`select_audience` runs a fixed, documented funnel:

1. **candidates** - users of ``user_tags`` and/or ``propensity`` (or ``candidates``);
2. **expression** - keep users matching the tag expression (validated: unknown
   tags, sensitive tags without ``allow_sensitive=True`` and malformed input
   raise typed errors);
3. **scored** - with a propensity, drop users without a score or below ``min_score``;
4. **exclusions** - drop the exclusion list (opt-outs, recent buyers, staff ...);
5. **contact cap** - drop users contacted ``max_contacts`` times or more in
   the last ``contact_window_days`` before ``as_of``;
6. **quotas** - at most ``quota`` users per segment, best scores first;
7. **budget** - the best ``budget`` users overall;
8. **privacy** - an audience smaller than ``min_audience_size`` is refused
   (:class:`AudienceTooSmallError`), so tiny groups cannot be singled out.

The result has one row per selected user with the ``reason`` for inclusion;
``result.attrs["funnel"]`` holds the user count after each step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._text import fill_doc
from .._validation import (
    as_timestamp,
    as_timestamps,
    check_audience_size,
    check_bool,
    check_frame,
    check_int,
    check_number,
)
from ..columns import Columns
from ..exceptions import (
    AudienceTooSmallError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
)
from .send_time import segment_labels

__all__ = ["AudienceTooSmallError", "select_audience"]

#: The first ``Raises`` entries of :func:`select_audience` and its Spark
#: counterpart (:func:`persona_rec.spark.select_audience`): the expression
#: and the privacy floor, checked the same way by both.
_SELECT_RAISES = """
RuleSyntaxError, UnknownIdError, TaxonomyError
    Malformed expression, unknown tag, or sensitive tag not allowed.
AudienceTooSmallError
    Fewer than ``min_audience_size`` users remain.
"""


def _parse(expr: str) -> Any:
    from ..tags.expressions import parse_tag_expression

    return parse_tag_expression(expr)


def _ids(values: Any, name: str) -> pd.Index:
    if isinstance(values, (str, bytes)) or not isinstance(values, (Iterable, pd.Index, np.ndarray)):
        raise InvalidDtypeError(f"{name} must be a list/array of user ids, got {type(values).__name__}.")
    return pd.Index(pd.unique(np.asarray(list(values), dtype=object)))


def _fmt(v: np.ndarray) -> np.ndarray:
    return np.char.mod("%.4g", np.asarray(v, dtype=np.float64)).astype(object)


def _check_propensity(propensity: pd.Series) -> pd.Series:
    """Propensity as float64, refusing non-numeric, NaN and infinite values (typed errors)."""
    name = "propensity" + (f" (column {propensity.name!r})" if propensity.name is not None else "")
    if propensity.dtype.kind in "iuf":
        values = propensity.astype(np.float64)
    elif propensity.dtype.kind == "b":
        raise InvalidDtypeError(
            f"{name} must hold numeric scores, got bool values; pass a score (e.g. a probability) "
            "or use candidates= for a yes/no selection."
        )
    else:
        values = pd.to_numeric(propensity, errors="coerce").astype(np.float64)
        bad = propensity[values.isna().to_numpy() & propensity.notna().to_numpy()]
        if len(bad):
            ex = ", ".join(f"{u!r}: {v!r}" for u, v in list(bad.items())[:3])
            raise InvalidDtypeError(
                f"{name} must hold numeric scores, got {len(bad)} non-numeric value(s) of dtype "
                f"{propensity.dtype}, e.g. {{{ex}}}."
            )
    v = values.to_numpy()
    bad_mask = ~np.isfinite(v)
    if bad_mask.any():
        bad = values[bad_mask]
        ex = ", ".join(f"{u!r}: {x}" for u, x in list(bad.items())[:3])
        n_nan = int(np.isnan(v).sum())
        raise InvalidValueError(
            f"{name} must hold finite scores; got {int(bad_mask.sum())} non-finite value(s) "
            f"({n_nan} NaN, {int(bad_mask.sum()) - n_nan} +/-inf), e.g. {{{ex}}}. An infinite score "
            "would be ranked first or last whatever the others are; a NaN means the user was not "
            "scored: drop those users (propensity.dropna()) or fill them explicitly."
        )
    return values


def quota_limits(quotas: Mapping[Any, int | float], budget: int | None) -> dict[Any, int]:
    """Users allowed per segment: an int is a count, a float in (0, 1] a share of ``budget``.

    Shared by :func:`select_audience` and its Spark counterpart
    (:func:`persona_rec.spark.select_audience`).

    Raises
    ------
    InvalidParameterError
        A quota that is not a number, negative, or a share without a budget
        or outside (0, 1].

    Examples
    --------
    >>> quota_limits({"A": 0.25, "B": 3}, budget=10)
    {'A': 2, 'B': 3}
    """
    limits: dict[Any, int] = {}
    for name, q in quotas.items():
        if isinstance(q, (bool, np.bool_)) or not isinstance(q, (int, float, np.integer, np.floating)):
            raise InvalidParameterError(f"quota for segment {name!r} must be an int or a float share, got {q!r}.")
        if isinstance(q, (float, np.floating)):
            if budget is None or not 0 < q <= 1:
                raise InvalidParameterError(
                    f"quota for segment {name!r} is a share ({q!r}); it needs a budget and must be in (0, 1]."
                )
            limits[name] = int(np.floor(q * budget))
        else:
            if q < 0:
                raise InvalidParameterError(f"quota for segment {name!r} must be >= 0, got {q!r}.")
            limits[name] = int(q)
    return limits


@fill_doc(select_raises=_SELECT_RAISES)
def select_audience(
    user_tags: Any = None,
    *,
    expression: str | None = None,
    propensity: pd.Series | None = None,
    budget: int | None = None,
    segments: Any = None,
    quotas: Mapping[Any, int | float] | None = None,
    exclude: Iterable[Any] | None = None,
    contact_history: pd.DataFrame | None = None,
    max_contacts: int | None = None,
    contact_window_days: float = 7.0,
    as_of: Any = None,
    allow_sensitive: bool = False,
    min_audience_size: int = 50,
    min_confidence: float = 0.0,
    min_score: float | None = None,
    candidates: Iterable[Any] | None = None,
    label: str | None = None,
    random_state: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Choose the users for a campaign.

    Parameters
    ----------
    user_tags : UserTags, optional
        Tags per user (needed for ``expression``).
    expression : str, optional
        Tag expression, e.g. ``"interest/home & price_sensitive & !churned"``.
    propensity : pandas.Series, optional
        Score per ``user_id`` (higher = more likely to respond), e.g. from
        :func:`~persona_rec.marketing.propensity.recommender_propensity`.
        Users are ranked by it; it must hold finite numbers (NaN, +/-inf and
        non-numeric values raise; users absent from its index are simply not
        scored and leave at the ``scored`` funnel step). Without it, users are
        ranked by their mean confidence over
        the expression's tags (ties broken at random with ``random_state``).
    budget : int, optional
        Maximum audience size.
    segments : Segmentation, Series, DataFrame or mapping, optional
        Segment per user (adds a ``segment`` column; needed for ``quotas``).
    quotas : mapping segment -> int or float, optional
        Maximum users per segment: an int is a count, a float in (0, 1] is a
        share of ``budget``. Segments not listed are not limited.
    exclude : iterable, optional
        User ids that must never be selected.
    contact_history : pandas.DataFrame, optional
        Past contacts ``[user_id, timestamp]``; times are read like
        :meth:`~persona_rec.Dataset.from_frames` reads them (epoch numbers by
        magnitude, offsets converted to UTC, naive times taken as UTC).
    max_contacts : int, optional
        Contact-frequency cap: users with at least this many contacts in the
        window are dropped (needs ``contact_history``).
    contact_window_days : float, default 7
        Length of the contact-cap window ending at ``as_of``.
    as_of : timestamp-like, optional
        Campaign time (default: now, in UTC); naive times are UTC, aware
        ones are converted.
    allow_sensitive : bool, default False
        Whether ``expression`` may use sensitive tags (gender, age band ...).
    min_audience_size : int, default 50
        Privacy floor: fewer selected users raise
        :class:`AudienceTooSmallError` (set 1 to disable).
    min_confidence : float, default 0.0
        Tag confidence below which a tag counts as absent.
    min_score : float, optional
        Drop users whose propensity is below this value.
    candidates : iterable, optional
        Restrict the universe to these users.
    label : str, optional
        Name shown in ``reason`` for the propensity target (e.g. ``"category Home"``).
    random_state : int or Generator, default 0
        Tie-breaking among equal scores.

    Returns
    -------
    pandas.DataFrame
        ``user_id, score, rank, [segment,] reason`` sorted by rank (from 1);
        ``attrs["funnel"]`` maps each step to the users left.

    Raises
    ------
    {select_raises}
    InvalidParameterError
        Invalid budget, quota, cap or threshold.
    InvalidDtypeError
        ``propensity`` is not a Series or holds non-numeric (or bool) values.
    InvalidValueError
        ``propensity`` holds NaN or +/-inf (the message names the users and
        values), or has duplicated user ids.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.Series([0.9, 0.2, 0.5, 0.7], index=pd.Index(["a", "b", "c", "d"], name="user_id"))
    >>> aud = select_audience(propensity=p, budget=2, exclude=["a"], min_audience_size=1)
    >>> aud[["user_id", "score", "rank"]]
      user_id  score  rank
    0       d    0.7     1
    1       c    0.5     2
    >>> aud.attrs["funnel"]["exclusions"]
    3
    """
    check_bool(allow_sensitive, "allow_sensitive")
    min_size = check_int(min_audience_size, "min_audience_size", minimum=1)
    if budget is not None:
        budget = check_int(budget, "budget", minimum=1)
    if user_tags is None and propensity is None and candidates is None:
        raise InvalidParameterError(
            "select_audience needs user_tags (with an expression), a propensity or candidates; got none."
        )
    if expression is not None and user_tags is None:
        raise InvalidParameterError("The 'expression' parameter needs user_tags to evaluate it.")
    if propensity is not None and not isinstance(propensity, pd.Series):
        raise InvalidDtypeError(
            f"propensity must be a pandas.Series indexed by user_id, got {type(propensity).__name__}."
        )
    funnel: dict[str, int] = {}

    # 1. universe
    if user_tags is not None:
        universe = pd.Index(np.asarray(user_tags.user_ids, dtype=object))
    elif propensity is not None:
        universe = pd.Index(np.asarray(propensity.index, dtype=object))
    else:
        universe = _ids(candidates, "candidates")
    if candidates is not None and (user_tags is not None or propensity is not None):
        universe = universe[universe.isin(_ids(candidates, "candidates"))]
    keep = np.ones(len(universe), dtype=bool)
    funnel["candidates"] = int(keep.sum())

    # 2. expression
    reason = np.full(len(universe), "", dtype=object)
    tag_score = np.ones(len(universe))
    if expression is not None:
        expr = _parse(expression)
        expr.validate(user_tags, allow_sensitive=allow_sensitive)
        all_users = pd.Index(np.asarray(user_tags.user_ids, dtype=object))
        rows = all_users.get_indexer(universe)
        match = expr.evaluate(user_tags, min_confidence=min_confidence)[rows]
        keep &= match
        index = getattr(user_tags, "tag_index", None) or {t: i for i, t in enumerate(user_tags.tag_ids)}
        cols = [index[t] for t in sorted(expr.tags)]
        sub = user_tags.matrix[rows][:, cols].toarray() if hasattr(user_tags.matrix, "toarray") \
            else np.asarray(user_tags.matrix)[rows][:, cols]
        pos = np.where(sub > 0, sub, np.nan)
        with np.errstate(all="ignore"):
            tag_score = np.nan_to_num(np.nanmean(np.where(np.isnan(pos).all(axis=1, keepdims=True), 1.0, pos),
                                                 axis=1), nan=1.0)
        reason = np.where(keep, f"tags match '{expr.text}'", reason)
    funnel["expression"] = int(keep.sum())

    # 3. propensity
    if propensity is not None:
        if propensity.index.has_duplicates:
            raise InvalidValueError(
                f"propensity index must hold unique user ids, got duplicates "
                f"{propensity.index[propensity.index.duplicated()][:3].tolist()}."
            )
        score = _check_propensity(propensity).reindex(universe).to_numpy()
        keep &= ~np.isnan(score)
        if min_score is not None:
            ms = check_number(min_score, "min_score")
            keep &= np.nan_to_num(score, nan=-np.inf) >= ms
    else:
        score = tag_score.astype(np.float64)
    funnel["scored"] = int(keep.sum())

    # 4. exclusions
    if exclude is not None:
        keep &= ~universe.isin(_ids(exclude, "exclude"))
    funnel["exclusions"] = int(keep.sum())

    # 5. contact cap
    when = pd.Timestamp.now(tz="UTC").tz_localize(None) if as_of is None else as_timestamp(as_of, "as_of")
    if max_contacts is not None:
        cap = check_int(max_contacts, "max_contacts", minimum=1)
        if contact_history is None:
            raise InvalidParameterError("The 'max_contacts' parameter needs contact_history [user_id, timestamp].")
        hist = check_frame(contact_history, "contact_history", [Columns.USER, Columns.TIMESTAMP], allow_empty=True)
        window = check_number(contact_window_days, "contact_window_days", low=0.0, low_inclusive=False)
        # the Dataset's parser: naive times are UTC, aware ones are converted, epoch
        # numbers get their unit from the magnitude
        ts = as_timestamps(hist[Columns.TIMESTAMP], "contact_history['timestamp']")
        start = (when - pd.Timedelta(days=window)).to_datetime64()
        recent = (ts >= start) & (ts < when.to_datetime64())
        n_contacts = hist.loc[recent, Columns.USER].astype(object).value_counts()
        capped = n_contacts.index[n_contacts >= cap]
        keep &= ~universe.isin(capped)
        funnel["contact_cap"] = int(keep.sum())
    elif contact_history is not None:
        raise InvalidParameterError("contact_history was given without max_contacts; set the cap.")

    # order the survivors: score desc, random tie-break
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
    idx = np.flatnonzero(keep)
    tie = rng.random(idx.size)
    order = idx[np.lexsort((tie, -score[idx]))]

    # 6. quotas
    seg = segment_labels(segments, np.asarray(universe, dtype=object)) if segments is not None else None
    if quotas is not None:
        if seg is None:
            raise InvalidParameterError("The 'quotas' parameter needs segments.")
        limits = quota_limits(quotas, budget)
        seg_sorted = pd.Series(seg[order], dtype=object)
        rank_in_seg = seg_sorted.groupby(seg_sorted.fillna("__none__"), sort=False).cumcount().to_numpy()
        lim = seg_sorted.map(limits).astype(np.float64).fillna(np.inf).to_numpy()
        order = order[rank_in_seg < lim]
        funnel["quotas"] = int(order.size)

    # 7. budget
    if budget is not None:
        order = order[:budget]
    funnel["budget"] = int(order.size)

    # 8. privacy floor
    check_audience_size(
        int(order.size), min_size,
        f"funnel: {funnel}. Widen the expression or lower the threshold (privacy rule).")

    out = pd.DataFrame(
        {
            Columns.USER: np.asarray(universe, dtype=object)[order],
            Columns.SCORE: score[order],
            Columns.RANK: np.arange(1, order.size + 1),
        }
    )
    if seg is not None:
        out[Columns.SEGMENT] = seg[order]
    # object arrays: elementwise str concatenation works on every supported numpy
    # (numpy < 2 has no "add" loop for fixed-width '<U' arrays)
    parts = reason[order].astype(str).astype(object)
    n_total = max(int(keep.sum()), 1)
    pct = np.ceil(100 * out[Columns.RANK].to_numpy() / n_total).astype(int)
    if propensity is not None:
        what = f" for {label}" if label else ""
        extra = "propensity" + what + " " + _fmt(score[order]) + " (top " + pct.astype(str).astype(object) + "%)"
    elif expression is not None:
        extra = "tag confidence " + _fmt(score[order])
    else:
        extra = np.full(order.size, "candidate", dtype=object)
    reason_out = np.where(parts == "", extra, parts + "; " + extra)
    if quotas is not None:
        # numpy's astype(str) writes a missing segment as 'None' (pandas 3's keeps it missing)
        reason_out = reason_out + "; within quota of segment " + np.asarray(seg[order], dtype=object).astype(str).astype(object)
    out["reason"] = reason_out
    out.attrs["funnel"] = funnel
    return out
