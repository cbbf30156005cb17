"""The :class:`Segmentation` result shared by every segmenter.

This module is one cohesive unit, one class with its reports, descriptions and
small-group suppression, hence its length.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._types import ProfileSource
from .._validation import (
    check_bool,
    check_choice,
    check_instance,
    check_int,
    check_number,
    example_values,
)
from ..columns import Columns
from ..exceptions import (
    DuplicateIdError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    MissingColumnError,
    UnknownIdError,
)

__all__ = [
    "Segmentation",
    "SUPPRESSED",
    "DEFAULT_MIN_SIZE",
    "DEFAULT_DESCRIBE_COLUMNS",
]

#: Label of the row that replaces segments smaller than ``min_size`` in reports.
SUPPRESSED = "suppressed"

#: Default minimum segment size for reports (privacy threshold).
DEFAULT_MIN_SIZE = 10

#: Profile columns described by default (those present in the frame are used).
DEFAULT_DESCRIBE_COLUMNS: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "n_events",
    "active_days",
    "tenure_days",
    "purchase_share",
    "view_to_purchase",
    "price_sensitivity",
    "discount_share",
    "novelty_seeking",
    "brand_loyalty",
    "category_diversity",
    "expected_interval_days",
    "days_to_next_purchase",
    "days_overdue",
)


def _profile_frame(profiles: ProfileSource, name: str = "profiles") -> pd.DataFrame:
    """Return the profile frame of a Profiles object (or a DataFrame as is)."""
    frame = profiles if isinstance(profiles, pd.DataFrame) else getattr(profiles, "frame", None)
    if not isinstance(frame, pd.DataFrame):
        raise InvalidDtypeError(
            f"{name} must be a Profiles object (with a .frame DataFrame) or a pandas.DataFrame "
            f"indexed by user_id, got {type(profiles).__name__}."
        )
    return frame


def _sensitive_columns(profiles: ProfileSource) -> frozenset[str]:
    return frozenset(getattr(profiles, "sensitive_columns", frozenset()) or ())


def _fmt(value: float) -> str:
    """Format a number with about 3 significant digits for descriptions."""
    if value is None or not np.isfinite(value):
        return "n/a"
    a = abs(value)
    if a >= 1000:
        return f"{value:,.0f}"
    if a >= 100:
        return f"{value:.0f}"
    if a >= 10:
        return f"{value:.1f}"
    if a >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


class Segmentation:
    """Users assigned to named segments, with sizes and descriptions.

    Every segmenter in :mod:`persona_rec.segments` returns one. Reports
    (:meth:`sizes`, :meth:`describe`, :meth:`feature_means`, :meth:`plot`)
    accept ``min_size``: segments with fewer users than that (but at least
    one) are suppressed for privacy -- merged into one ``"suppressed"`` row
    that is never described.

    Parameters
    ----------
    labels : pandas.Series
        Segment label per user, indexed by unique ``user_id``; NaN means the
        user is in no segment.
    segments : sequence of str, optional
        All segment names in display order (may include empty segments).
        Default: labels in order of first appearance.
    method : str, default "custom"
        What produced the segmentation (``"rfm"``, ``"kmeans"``, ``"rules"``).
    info : mapping, optional
        Extra facts about the run (chosen k, silhouette scores, ...).

    Raises
    ------
    InvalidDtypeError
        ``labels`` is not a Series.
    DuplicateIdError
        A user id appears twice.
    InvalidValueError
        A label is not in ``segments``, or a segment is named ``"suppressed"``.

    Examples
    --------
    >>> import pandas as pd
    >>> labels = pd.Series(["a", "b", "a", "a"], index=pd.Index([1, 2, 3, 4], name="user_id"))
    >>> seg = Segmentation(labels, segments=["a", "b", "c"])
    >>> seg.sizes().to_dict()
    {'a': 3, 'b': 1, 'c': 0}
    >>> seg.sizes(min_size=2).to_dict()
    {'a': 3, 'c': 0, 'suppressed': 1}
    """

    def __init__(
        self,
        labels: pd.Series,
        *,
        segments: Sequence[str] | None = None,
        method: str = "custom",
        info: Mapping[str, Any] | None = None,
    ) -> None:
        check_instance(labels, pd.Series, "labels must be a pandas.Series indexed by user_id")
        if labels.index.has_duplicates:
            dup = labels.index[labels.index.duplicated()].unique()
            raise DuplicateIdError(
                f"labels has {len(dup)} duplicated user id(s), e.g. {example_values(dup)}."
            )
        codes, uniques = pd.factorize(labels, use_na_sentinel=True)
        present = [str(u) for u in uniques]
        if segments is None:
            if isinstance(labels.dtype, pd.CategoricalDtype):
                segments = [str(c) for c in labels.cat.categories]
            else:
                segments = present
        segments = [str(s) for s in segments]
        if len(set(segments)) != len(segments):
            raise DuplicateIdError(f"segments must be unique, got {segments}.")
        if SUPPRESSED in segments:
            raise InvalidValueError(
                f"'{SUPPRESSED}' is reserved for the merged row of small segments in reports; "
                f"rename that segment (segments: {segments})."
            )
        position = pd.Index(segments).get_indexer(present) if present else np.empty(0, np.intp)
        if (position < 0).any():
            unknown = [p for p, i in zip(present, position) if i < 0]
            raise InvalidValueError(
                f"labels holds value(s) not listed in segments {segments}: {example_values(unknown)}."
            )
        codes = np.asarray(codes)
        seg_codes = np.where(codes >= 0, position[np.maximum(codes, 0)] if len(position) else -1, -1)
        index = labels.index.copy()
        index.name = Columns.USER
        self._labels = pd.Series(
            pd.Categorical.from_codes(seg_codes, categories=segments),
            index=index,
            name=Columns.SEGMENT,
        )
        self._segments = list(segments)
        self.method = str(method)
        self.info: dict[str, Any] = dict(info or {})

    # ------------------------------------------------------------------ basics
    @property
    def labels(self) -> pd.Series:
        """Segment per user (categorical Series indexed by ``user_id``; NaN = no segment)."""
        return self._labels.copy()

    @property
    def segments(self) -> list[str]:
        """All segment names in display order."""
        return list(self._segments)

    @property
    def n_users(self) -> int:
        """Number of users covered (assigned or not)."""
        return len(self._labels)

    def __len__(self) -> int:
        return len(self._labels)

    def __repr__(self) -> str:
        sizes = self.sizes()
        shown = ", ".join(f"{k}={v}" for k, v in sizes.items())
        return f"Segmentation(method={self.method!r}, n_users={self.n_users}, sizes: {shown})"

    @staticmethod
    def _check_min_size(min_size: Any) -> int | None:
        if min_size is None:
            return None
        return check_int(min_size, "min_size", minimum=1, owner="Segmentation reports")

    def _small_segments(self, min_size: int | None) -> list[str]:
        if min_size is None:
            return []
        sizes = self._raw_sizes()
        return [s for s, n in sizes.items() if 0 < n < min_size]

    def _raw_sizes(self) -> pd.Series:
        counts = self._labels.value_counts(sort=False)
        return counts.reindex(self._segments, fill_value=0).astype(np.int64)

    def sizes(self, min_size: int | None = None) -> pd.Series:
        """Number of users per segment.

        Parameters
        ----------
        min_size : int, optional
            Privacy threshold: segments with ``1 <= size < min_size`` are
            replaced by one ``"suppressed"`` entry holding their total.

        Returns
        -------
        pandas.Series
            Segment -> count (int), in display order; users with no segment
            are not counted.
        """
        min_size = self._check_min_size(min_size)
        sizes = self._raw_sizes()
        small = self._small_segments(min_size)
        if small:
            total = int(sizes[small].sum())
            sizes = sizes.drop(small)
            sizes[SUPPRESSED] = total
        sizes.index.name = Columns.SEGMENT
        sizes.name = "size"
        return sizes

    def to_frame(self, min_size: int | None = None) -> pd.DataFrame:
        """Per-user labels as a frame ``[user_id, segment]``.

        Parameters
        ----------
        min_size : int, optional
            If given, users of segments smaller than ``min_size`` get the
            label ``"suppressed"``.

        Returns
        -------
        pandas.DataFrame
            Columns ``user_id`` and ``segment`` (str; missing = no segment).
        """
        min_size = self._check_min_size(min_size)
        values = self._labels.to_numpy(dtype=object)
        values[self._labels.isna().to_numpy()] = None
        small = self._small_segments(min_size)
        if small:
            values[self._labels.isin(small).to_numpy()] = SUPPRESSED
        return pd.DataFrame({Columns.USER: self._labels.index.to_numpy(), Columns.SEGMENT: values})

    def relabel(self, mapping: Mapping[str, str]) -> Segmentation:
        """Return a new Segmentation with segments renamed (or merged).

        Parameters
        ----------
        mapping : mapping of str to str
            Old segment name -> new name. Several old names may map to the
            same new name (they are merged).

        Raises
        ------
        UnknownIdError
            A key is not a segment of this segmentation.

        Examples
        --------
        >>> import pandas as pd
        >>> seg = Segmentation(pd.Series(["a", "b", "c"], index=[1, 2, 3]))
        >>> seg.relabel({"b": "a"}).sizes().to_dict()
        {'a': 2, 'c': 1}
        """
        unknown = [k for k in mapping if k not in self._segments]
        if unknown:
            raise UnknownIdError(
                f"relabel mapping names unknown segment(s) {unknown}; "
                f"known segments: {self._segments}."
            )
        new_order: list[str] = []
        for s in self._segments:
            n = str(mapping.get(s, s))
            if n not in new_order:
                new_order.append(n)
        old = pd.Index(self._segments)
        target = pd.Index(new_order).get_indexer([str(mapping.get(o, o)) for o in old])
        codes = self._labels.cat.codes.to_numpy()
        new_codes = np.where(codes >= 0, target[np.maximum(codes, 0)], -1)
        values = pd.Series(
            pd.Categorical.from_codes(new_codes, categories=new_order), index=self._labels.index
        )
        return Segmentation(values, segments=new_order, method=self.method, info=self.info)

    # ---------------------------------------------------------------- reports
    def _aligned_frame(self, profiles: ProfileSource) -> pd.DataFrame:
        frame = _profile_frame(profiles)
        missing = self._labels.index.difference(frame.index)
        if len(missing):
            raise UnknownIdError(
                f"profiles has no row for {len(missing)} user(s) of the segmentation, "
                f"e.g. {example_values(missing)}."
            )
        return frame.reindex(self._labels.index)

    def _feature_columns(
        self,
        profiles: ProfileSource,
        frame: pd.DataFrame,
        columns: Sequence[str] | None,
        include_sensitive: bool,
    ) -> list[str]:
        sensitive = _sensitive_columns(profiles)
        if columns is not None:
            columns = list(columns)
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise MissingColumnError(
                    f"columns names profile column(s) {missing} that are not in the profile "
                    f"frame; it has {list(frame.columns)}."
                )
            bad = [
                c
                for c in columns
                if not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
            ]
            if bad:
                raise InvalidDtypeError(
                    f"columns must name numeric or bool profile columns; {bad} have dtype(s) "
                    f"{[str(frame[c].dtype) for c in bad]}."
                )
            hidden = [c for c in columns if c in sensitive and not include_sensitive]
            if hidden:
                raise InvalidParameterError(
                    f"columns names sensitive column(s) {hidden}; pass include_sensitive=True "
                    f"to describe them."
                )
            return columns
        chosen = [c for c in DEFAULT_DESCRIBE_COLUMNS if c in frame.columns]
        if not chosen:
            chosen = [
                c
                for c in frame.columns
                if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
            ]
        chosen = [
            c
            for c in chosen
            if pd.api.types.is_numeric_dtype(frame[c]) and (include_sensitive or c not in sensitive)
        ]
        # by default, skip columns that cannot tell segments apart (all NaN or constant)
        # and exact duplicates of an earlier column (e.g. two rates equal on some data)
        kept: list[str] = []
        for c in chosen:
            col = frame[c]
            if col.nunique(dropna=True) < 2:
                continue
            if any(col.equals(frame[k]) for k in kept):
                continue
            kept.append(c)
        return kept

    def feature_means(
        self,
        profiles: ProfileSource,
        columns: Sequence[str] | None = None,
        *,
        min_size: int | None = DEFAULT_MIN_SIZE,
        include_sensitive: bool = False,
        zscore: bool = False,
    ) -> pd.DataFrame:
        """Mean of profile features per segment, with an ``"overall"`` row.

        Parameters
        ----------
        profiles : Profiles or pandas.DataFrame
            Profiles whose ``.frame`` (indexed by ``user_id``) covers every
            user of the segmentation.
        columns : sequence of str, optional
            Numeric profile columns. Default: those of
            :data:`DEFAULT_DESCRIBE_COLUMNS` present in the frame, except
            columns that are constant or all NaN over these users and exact
            duplicates of an earlier column.
        min_size : int or None, default 10
            Segments with fewer users are left out (privacy).
        include_sensitive : bool, default False
            Whether sensitive profile columns may be described.
        zscore : bool, default False
            Return ``(segment mean - overall mean) / overall std`` instead of
            raw means (the overall row is then 0).

        Returns
        -------
        pandas.DataFrame
            Segments (non-empty, not suppressed) then ``"overall"`` x columns.
            Means skip NaN (e.g. recency of users without purchases).
        """
        min_size = self._check_min_size(min_size)
        frame = self._aligned_frame(profiles)
        cols = self._feature_columns(profiles, frame, columns, include_sensitive)
        values = frame[cols].astype(np.float64)
        small = set(self._small_segments(min_size))
        sizes = self._raw_sizes()
        keep = [s for s in self._segments if sizes[s] > 0 and s not in small]
        grouped = values.groupby(self._labels.astype(object), sort=False).mean()
        means = grouped.reindex(keep)
        overall = values.mean(axis=0)
        means.loc["overall"] = overall
        if zscore:
            std = values.std(axis=0, ddof=0).replace(0.0, np.nan)
            means = (means - overall) / std
        means.index.name = Columns.SEGMENT
        return means

    def tag_shares(
        self,
        user_tags: Any,
        *,
        threshold: float = 0.0,
        min_size: int | None = DEFAULT_MIN_SIZE,
        include_sensitive: bool = False,
    ) -> tuple[pd.DataFrame, pd.Series]:
        """Share of users holding each tag, per segment and overall.

        Parameters
        ----------
        user_tags : UserTags
            Object with ``.matrix`` (users x tags confidences), ``.user_ids``
            and ``.tag_ids`` covering every user of the segmentation.
        threshold : float, default 0.0
            A user holds a tag when its confidence is > 0 and ``>= threshold``
            (the rule tag expressions use).
        min_size : int or None, default 10
            Segments with fewer users are left out (privacy).
        include_sensitive : bool, default False
            Whether tags flagged sensitive in the taxonomy
            (``user_tags.sensitive_ids``) get a column; by default they are
            left out of both results.

        Returns
        -------
        (pandas.DataFrame, pandas.Series)
            Segment x tag shares in [0, 1], and the overall share per tag.
            Divide the first by the second for the lift.
        """
        min_size = self._check_min_size(min_size)
        threshold = check_number(threshold, "threshold", low=0.0, high=1.0, owner="tag_shares")
        include_sensitive = check_bool(include_sensitive, "include_sensitive", owner="tag_shares")
        held, tag_ids = self._held_tags(user_tags, threshold)
        codes = self._labels.cat.codes.to_numpy()
        n_seg = len(self._segments)
        assigned = codes >= 0
        onehot = sp.csr_matrix(
            (np.ones(int(assigned.sum())), (codes[assigned], np.flatnonzero(assigned))),
            shape=(n_seg, len(codes)),
        )
        counts = np.asarray((onehot @ held).todense())
        sizes = self._raw_sizes().to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = counts / sizes[:, None]
        table = pd.DataFrame(shares, index=pd.Index(self._segments, name=Columns.SEGMENT), columns=tag_ids)
        small = set(self._small_segments(min_size))
        keep = [s for s, n in zip(self._segments, sizes) if n > 0 and s not in small]
        overall = pd.Series(
            np.asarray(held.sum(axis=0)).ravel() / max(len(codes), 1), index=tag_ids, name="overall"
        )
        if not include_sensitive:
            sensitive = set(getattr(user_tags, "sensitive_ids", frozenset()) or ())
            shown = [t for t in tag_ids if t not in sensitive]
            table, overall = table[shown], overall[shown]
        return table.loc[keep], overall

    def _held_tags(self, user_tags: Any, threshold: float) -> tuple[sp.csr_matrix, list[str]]:
        """0/1 matrix (segmentation users x tags): tag held at ``threshold``."""
        matrix, tag_ids = self._aligned_tags(user_tags)
        held = matrix.copy()
        held.data = ((held.data > 0) & (held.data >= threshold)).astype(np.float64)
        held.eliminate_zeros()
        return held, tag_ids

    def _aligned_tags(self, user_tags: Any) -> tuple[sp.csr_matrix, list[str]]:
        for attr in ("matrix", "user_ids", "tag_ids"):
            if not hasattr(user_tags, attr):
                raise InvalidDtypeError(
                    f"user_tags must be a UserTags object with .matrix, .user_ids and .tag_ids; "
                    f"{type(user_tags).__name__} has no '{attr}'."
                )
        matrix = sp.csr_matrix(user_tags.matrix)
        ids = pd.Index(np.asarray(user_tags.user_ids))
        pos = ids.get_indexer(self._labels.index)
        if (pos < 0).any():
            missing = self._labels.index[pos < 0]
            raise UnknownIdError(
                f"user_tags has no row for {len(missing)} user(s) of the segmentation, "
                f"e.g. {example_values(missing)}."
            )
        return matrix[pos], [str(t) for t in user_tags.tag_ids]

    def describe(
        self,
        profiles: ProfileSource | None = None,
        user_tags: Any = None,
        *,
        min_size: int | None = DEFAULT_MIN_SIZE,
        columns: Sequence[str] | None = None,
        n_tags: int = 3,
        n_features: int = 3,
        tag_threshold: float = 0.0,
        min_tag_share: float = 0.1,
        exclude_tags: Sequence[str] = (),
        include_sensitive: bool = False,
        rank_tags_by: str = "weighted",
    ) -> pd.DataFrame:
        """A human description of every segment.

        For each segment: its size and share; its most over-represented tags
        (tags with lift = share in segment / share overall > 1, held by at
        least ``min_tag_share`` of the segment, ranked by ``rank_tags_by``); and the
        profile features whose segment mean differs most from the population
        (largest ``|mean - overall mean| / overall std``), written as
        ``"recency_days 12 vs 95 overall"``.

        Parameters
        ----------
        profiles : Profiles or pandas.DataFrame, optional
            Source of feature means (skipped when None).
        user_tags : UserTags, optional
            Source of tag lifts (skipped when None).
        min_size : int or None, default 10
            Privacy threshold: segments with ``1 <= size < min_size`` are not
            described; they are merged into one ``"suppressed"`` row (size =
            their total). None disables suppression.
        columns : sequence of str, optional
            Profile columns to consider (default: :data:`DEFAULT_DESCRIBE_COLUMNS`
            present in the frame).
        n_tags, n_features : int, default 3
            How many tags and features to name per segment.
        tag_threshold : float, default 0.0
            A user holds a tag when its confidence is > 0 and >= this value.
        min_tag_share : float, default 0.1
            Minimum share of the segment holding a tag for it to be named.
        exclude_tags : sequence of str, default ()
            Tags never named (e.g. the tags a rule-based segment is defined by).
            A tag with the same segment and overall share as a tag already
            named (e.g. a parent and its only child) is named once.
        include_sensitive : bool, default False
            Whether sensitive profile columns and sensitive tags
            (``user_tags.sensitive_ids``) may be described.
        rank_tags_by : {"weighted", "lift"}, default "weighted"
            "lift" ranks over-represented tags by lift alone; "weighted" by
            ``share * log(lift)`` (the tag's term in the KL divergence of the
            segment from the population), which prefers a tag 97% of the
            segment holds at lift 3.8 over one 19% hold at lift 3.9 -- lifts
            saturate at 1 / segment share, so pure lift often names rare
            sub-tags.

        Returns
        -------
        pandas.DataFrame
            One row per non-empty reported segment (plus ``"suppressed"``),
            columns ``segment, size, share, top_tags, top_features,
            description``. ``top_tags`` is a list of ``(tag, share, lift)``;
            ``top_features`` a list of ``(column, mean, overall_mean)``.

        Examples
        --------
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"recency_days": [1.0, 3.0, 100.0, 120.0]},
        ...                      index=pd.Index(["a", "b", "c", "d"], name="user_id"))
        >>> seg = Segmentation(pd.Series(["fresh", "fresh", "old", "old"], index=frame.index))
        >>> seg.describe(frame, min_size=1).loc[0, "description"]
        '2 users (50.0%); recency_days 2.00 vs 56.0 overall'
        """
        min_size = self._check_min_size(min_size)
        n_tags = check_int(n_tags, "n_tags", minimum=0, owner="describe")
        n_features = check_int(n_features, "n_features", minimum=0, owner="describe")
        min_tag_share = check_number(min_tag_share, "min_tag_share", low=0.0, high=1.0, owner="describe")
        check_choice(rank_tags_by, "rank_tags_by", ("weighted", "lift"), owner="describe")
        sizes = self._raw_sizes()
        small = self._small_segments(min_size)
        keep = [s for s in self._segments if sizes[s] > 0 and s not in small]
        total = max(self.n_users, 1)

        tag_part: dict[str, list[tuple[str, float, float]]] = {s: [] for s in keep}
        if user_tags is not None and n_tags > 0:
            shares, overall = self.tag_shares(user_tags, threshold=tag_threshold, min_size=min_size,
                                              include_sensitive=include_sensitive)
            held_rows, held_ids = self._held_tags(user_tags, tag_threshold)
            held = held_rows.tocsc()
            column_of = {t: i for i, t in enumerate(held_ids)}
            excluded = set(exclude_tags)
            if not include_sensitive:
                excluded |= set(getattr(user_tags, "sensitive_ids", frozenset()) or ())
            usable = [t for t in shares.columns if t not in excluded and overall[t] > 0]
            shares = shares[usable]
            lift = shares / overall[usable]
            for s in keep:
                lifts = lift.loc[s]
                ok = (shares.loc[s] >= min_tag_share) & (lifts > 1.0 + 1e-9)
                if rank_tags_by == "lift":
                    score = lifts[ok]
                else:  # share x log(lift): this tag's term of the KL divergence
                    score = shares.loc[s][ok] * np.log(lifts[ok])
                ranked = lifts[score.sort_values(ascending=False, kind="stable").index]
                chosen: list[tuple[str, float, float]] = []
                seen: dict[tuple[float, float], list[int]] = {}
                for t in ranked.index:
                    # a tag held by exactly the same users as a tag already named
                    # (e.g. a parent and its only child) is named once
                    key = (round(float(shares.loc[s, t]), 9), round(float(overall[t]), 9))
                    col = column_of[t]
                    if any((held[:, col] != held[:, c]).nnz == 0 for c in seen.get(key, [])):
                        continue
                    seen.setdefault(key, []).append(col)
                    chosen.append((t, float(shares.loc[s, t]), float(ranked[t])))
                    if len(chosen) == n_tags:
                        break
                tag_part[s] = chosen

        feat_part: dict[str, list[tuple[str, float, float]]] = {s: [] for s in keep}
        if profiles is not None and n_features > 0:
            means = self.feature_means(
                profiles, columns, min_size=min_size, include_sensitive=include_sensitive
            )
            z = self.feature_means(
                profiles, columns, min_size=min_size, include_sensitive=include_sensitive, zscore=True
            )
            overall_means = means.loc["overall"]
            for s in keep:
                zs = z.loc[s].abs().dropna()
                best = zs.sort_values(ascending=False, kind="stable").head(n_features)
                feat_part[s] = [(c, float(means.loc[s, c]), float(overall_means[c])) for c in best.index]

        rows = []
        for s in keep:
            n = int(sizes[s])
            parts = [f"{n} users ({100.0 * n / total:.1f}%)"]
            if tag_part[s]:
                parts.append(
                    "tags: "
                    + ", ".join(f"{t} {100 * sh:.0f}% (x{lf:.1f})" for t, sh, lf in tag_part[s])
                )
            if feat_part[s]:
                parts.append(", ".join(f"{c} {_fmt(m)} vs {_fmt(o)} overall" for c, m, o in feat_part[s]))
            rows.append(
                {
                    Columns.SEGMENT: s,
                    "size": n,
                    "share": n / total,
                    "top_tags": tag_part[s],
                    "top_features": feat_part[s],
                    "description": "; ".join(parts),
                }
            )
        if small:
            n = int(sizes[small].sum())
            rows.append(
                {
                    Columns.SEGMENT: SUPPRESSED,
                    "size": n,
                    "share": n / total,
                    "top_tags": [],
                    "top_features": [],
                    "description": (
                        f"{len(small)} segment(s) with fewer than min_size={min_size} users "
                        f"each, merged and not described (privacy)"
                    ),
                }
            )
        return pd.DataFrame(
            rows, columns=[Columns.SEGMENT, "size", "share", "top_tags", "top_features", "description"]
        )

    def report(
        self,
        profiles: ProfileSource | None = None,
        user_tags: Any = None,
        *,
        min_size: int | None = DEFAULT_MIN_SIZE,
        **describe_options: Any,
    ) -> str:
        """Plain-text report: one line per segment from :meth:`describe`.

        Parameters
        ----------
        profiles, user_tags, min_size, **describe_options
            Passed to :meth:`describe`.

        Returns
        -------
        str
        """
        table = self.describe(profiles, user_tags, min_size=min_size, **describe_options)
        unassigned = int(self._labels.isna().sum())
        head = f"{self.method} segmentation of {self.n_users} users"
        if unassigned:
            head += f" ({unassigned} in no segment)"
        lines = [head + ":"]
        width = max([len(str(s)) for s in table[Columns.SEGMENT]] + [1])
        for seg, desc in zip(table[Columns.SEGMENT], table["description"]):
            lines.append(f"  {str(seg):<{width}}  {desc}")
        return "\n".join(lines)

    def plot(
        self,
        path: str | Path | None = None,
        profiles: ProfileSource | None = None,
        *,
        ax: Any = None,
        columns: Sequence[str] | None = None,
        min_size: int | None = DEFAULT_MIN_SIZE,
        include_sensitive: bool = False,
        title: str | None = None,
    ) -> Any:
        """Draw segment sizes and a feature profile heatmap; optionally save it.

        See :func:`persona_rec.segments.plot_segments` (same arguments).

        Returns
        -------
        matplotlib.figure.Figure
        """
        from .plot import plot_segments

        return plot_segments(
            self,
            path,
            profiles,
            ax=ax,
            columns=columns,
            min_size=min_size,
            include_sensitive=include_sensitive,
            title=title,
        )
