"""The :class:`Profiles` result and the :class:`ProfileBuilder` that composes builders.

This module is one cohesive unit, the result and the one object that makes it
(building, updating, saving and loading go together), hence its length.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._text import LOAD_PARAMETERS, SAVE_PARAMETERS, CategorySep, fill_doc
from .._params import ParamsMixin
from .._progress import get_logger, progress
from .._validation import as_of_or_after, check_int
from ..columns import Columns
from ..dataset import Dataset
from .. import persistence
from ..exceptions import CorruptFileError, InvalidDtypeError, InvalidParameterError
from ._context import ProfileContext, slugify
from .builders import (
    CATEGORY_CYCLE_COLUMNS,
    COMPUTED_COLUMNS,
    ActivityBuilder,
    AffinityBuilder,
    Builder,
    DemographicBuilder,
    LifecycleBuilder,
    NoveltyBuilder,
    PriceSensitivityBuilder,
    ProfilePart,
    RepurchaseBuilder,
    RFMBuilder,
)

__all__ = ["Profiles", "ProfileBuilder", "FEATURE_BLOCKS", "KNOWN_COLUMN"]

#: Boolean profile column: the user existed at ``as_of`` (see :meth:`ProfileBuilder.build`).
KNOWN_COLUMN = "known_at_as_of"

_KIND = "profiles"
_BODY = persistence.Record(
    {"as_of": persistence.STR, "frame": persistence.ENTRY,
     "category_cycles": persistence.ENTRY,
     "affinities": persistence.MapOf(persistence.Record(
         {"matrix": persistence.ENTRY, "values": persistence.ListOf(persistence.STR)})),
     "sensitive_columns": persistence.ListOf(persistence.STR),
     "column_docs": persistence.MapOf(persistence.STR),
     "build_info": persistence.MapOf(persistence.ANY)},
    open=True,
)

_log = get_logger(__name__)

#: Blocks of :meth:`Profiles.features`.
FEATURE_BLOCKS: tuple[str, ...] = ("numeric", "categorical", "affinity")

# column -> (feature prefix, transform) for the computed numeric columns
_LOG, _SIGNED_LOG, _LINEAR = "log1p", "signed_log1p", "linear"
_NUMERIC_SPEC: dict[str, tuple[str, str]] = {
    "recency_days": ("rfm", _LOG),
    "frequency": ("rfm", _LOG),
    "monetary": ("rfm", _LOG),
    "avg_order_value": ("rfm", _LOG),
    "r_score": ("rfm", _LINEAR),
    "f_score": ("rfm", _LINEAR),
    "m_score": ("rfm", _LINEAR),
    "rfm_score": ("rfm", _LINEAR),
    "n_events": ("activity", _LOG),
    "active_days": ("activity", _LOG),
    "n_sessions": ("activity", _LOG),
    "tenure_days": ("activity", _LOG),
    "view_share": ("activity", _LINEAR),
    "cart_share": ("activity", _LINEAR),
    "purchase_share": ("activity", _LINEAR),
    "view_to_purchase": ("activity", _LOG),
    "cart_to_purchase": ("activity", _LOG),
    "brand_loyalty": ("affinity", _LINEAR),
    "category_diversity": ("affinity", _LINEAR),
    "price_sensitivity": ("behaviour", _LINEAR),
    "discount_share": ("behaviour", _LINEAR),
    "novelty_seeking": ("behaviour", _LINEAR),
    "expected_interval_days": ("lifecycle", _LOG),
    "repurchase_interval_days": ("repurchase", _LOG),
    "days_to_next_purchase": ("repurchase", _LOG),
    "days_overdue": ("repurchase", _LOG),
    "account_age_days": ("demo", _LOG),
    "p_alive": ("predictive", _LINEAR),
    "expected_purchases": ("predictive", _LOG),
    "expected_spend": ("predictive", _LOG),
    "clv": ("predictive", _LOG),
    "purchase_days": ("timing", _LOG),
    "purchase_weeks": ("timing", _LOG),
    "purchase_months": ("timing", _LOG),
    "first_purchase_days": ("timing", _LOG),
    "gap_mean_days": ("timing", _LOG),
    "gap_std_days": ("timing", _LOG),
    "dueness": ("timing", _LOG),
    "purchase_days_30d": ("timing", _LOG),
    "purchase_days_90d": ("timing", _LOG),
    "purchase_days_180d": ("timing", _LOG),
    "spend_90d": ("timing", _LOG),
    "recent_day_share": ("timing", _LINEAR),
}
_CYCLIC_SPEC: dict[str, tuple[str, int]] = {
    "preferred_hour": ("activity:hour", 24),
    "preferred_weekday": ("activity:weekday", 7),
}
_CATEGORICAL_COMPUTED = {"lifecycle_stage": "lifecycle", "age_band": "age_band"}
# computed columns that are not features (timestamps, argmax names covered by affinity blocks)
_NOT_FEATURES = COMPUTED_COLUMNS - set(_NUMERIC_SPEC) - set(_CYCLIC_SPEC) - set(_CATEGORICAL_COMPUTED)
_AFFINITY_PREFIX = {"brand": "brand", "price_band": "price_band"}


def _affinity_prefix(kind: str) -> str:
    if kind.startswith("category_l"):
        return "cat_l" + kind[len("category_l"):]
    return _AFFINITY_PREFIX.get(kind, kind)


class Profiles:
    """User profiles built at one point in time.

    Built by :meth:`ProfileBuilder.build`; see ``docs/profiles.md`` for every
    column with its unit and definition (also in :attr:`column_docs`).

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per user of the Dataset (``user_map`` order, users with
        events and attribute-only users), indexed by external ``user_id``.
        The bool column ``known_at_as_of`` tells which users existed at
        ``as_of``; users first seen later keep a row (so the frame aligns with
        the Dataset) but get no tags and do not shape ``quantile()``
        thresholds of tag rules, so adding them never changes the tags of the
        users known at ``as_of``.
    as_of : pandas.Timestamp
        Only events strictly before this time were used.
    affinities : dict
        Kind -> ``(csr_matrix n_users x n_values float32, value names)``; rows
        sum to 1 (or 0 for users without events). Kinds ``category_l1``,
        ``category_l2``, ``category_l3`` (slug paths joined with ``/``),
        ``brand``, ``price_band``.
    category_cycles : pandas.DataFrame
        ``user_id, category, n_orders, median_interval_days, last_purchase,
        next_purchase_date, days_overdue`` (``next_purchase_date`` is NaT once
        it has passed; ``days_overdue`` says by how much).
    sensitive_columns : frozenset of str
        Frame columns left out of :meth:`features` and :meth:`export` unless
        ``include_sensitive=True``.
    column_docs : dict
        Column -> description with unit.
    build_info : dict
        Builder parameters and seconds spent per builder.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        as_of: pd.Timestamp,
        affinities: dict[str, tuple[sp.csr_matrix, list[str]]],
        category_cycles: pd.DataFrame,
        sensitive_columns: Iterable[str],
        column_docs: dict[str, str],
        build_info: dict[str, Any] | None = None,
    ) -> None:
        self.frame = frame
        self.as_of = as_of
        self.affinities = affinities
        self.category_cycles = category_cycles
        self.sensitive_columns = frozenset(sensitive_columns)
        self.column_docs = dict(column_docs)
        self.build_info = dict(build_info or {})
        self._state: Any = None  # ProfileState, set by ProfileBuilder.build(updatable=True)

    # --------------------------------------------------------------- basics
    @property
    def user_ids(self) -> np.ndarray:
        """External user ids, row order of :attr:`frame` and of the matrices."""
        return self.frame.index.to_numpy()

    @property
    def n_users(self) -> int:
        """Number of users (rows)."""
        return len(self.frame)

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        return (
            f"Profiles(n_users={self.n_users}, n_columns={self.frame.shape[1]}, "
            f"as_of={self.as_of})"
        )

    def export(self, include_sensitive: bool = False) -> pd.DataFrame:
        """The profile frame as it may leave the system.

        Parameters
        ----------
        include_sensitive : bool, default False
            Keep the :attr:`sensitive_columns` (e.g. ``age``, ``gender``,
            ``age_band``); left out by default.

        Returns
        -------
        pandas.DataFrame
            A copy of :attr:`frame` (indexed by ``user_id``).
        """
        if not isinstance(include_sensitive, bool):
            raise InvalidDtypeError(
                f"include_sensitive must be a bool, got {include_sensitive!r}."
            )
        cols = [c for c in self.frame.columns
                if include_sensitive or c not in self.sensitive_columns]
        return self.frame[cols].copy()

    # --------------------------------------------------------------- update
    @property
    def updatable(self) -> bool:
        """Whether :meth:`update` can be used (built with ``updatable=True``, not loaded)."""
        return self._state is not None

    def update(self, new_events: pd.DataFrame, as_of: Any = None) -> Profiles:
        """Fold a batch of new events in without a rebuild.

        The result equals ``ProfileBuilder(builders).build(dataset_with_the_new_events,
        as_of=new_as_of)`` for every column and affinity (float sums up to
        rounding: affinities to float32 precision, spend to ~1e-9 relative);
        see ``docs/profiles.md`` ("Real-time updates"). Users first seen in
        ``new_events`` are appended as rows. ``self`` is not changed.

        Only profiles built by ``ProfileBuilder.build(..., updatable=True)``
        from :data:`~persona_rec.profiles.realtime.UPDATABLE_BUILDERS`
        (demographic, RFM, activity, affinity, lifecycle) can be updated; the
        state is not saved by :meth:`save`.

        Parameters
        ----------
        new_events : pandas.DataFrame
            Events in the Dataset's interaction format (external ``user_id``
            and ``item_id``, naive UTC ``timestamp``, and the columns the
            profiles were built from: ``event``, ``order_id``, ``price``,
            ``quantity``, ``session_id``, ``utc_offset_min``, optionally
            ``weight``; without ``weight`` the Dataset's event weights apply).
            Timestamps must lie in ``[self.as_of, as_of)``.
        as_of : datetime-like, optional
            The new cut-off; default the last new event + 1 second (or
            ``self.as_of`` when ``new_events`` is empty).

        Returns
        -------
        Profiles
            Updated profiles (themselves updatable).

        Raises
        ------
        InvalidParameterError
            The profiles were not built with ``updatable=True`` (or were loaded).
        InvalidDtypeError
            ``new_events`` is not a DataFrame.
        MissingColumnError
            ``new_events`` lacks a column the profiles were built from
            (``user_id``, ``item_id``, ``timestamp``, and ``event``,
            ``order_id``, ``price``, ``session_id``, ``utc_offset_min`` when
            the Dataset had them).
        InvalidValueError
            A column the profiles were not built with, an event before
            ``self.as_of`` (older events need a rebuild) or at/after
            ``as_of``, an unparseable timestamp, an ``as_of`` before
            ``self.as_of``, or an event type without a weight.
        UnknownIdError
            An item absent from the Dataset the profiles were built from.

        Examples
        --------
        >>> import pandas as pd
        >>> from persona_rec import Dataset
        >>> inter = pd.DataFrame({"user_id": ["a", "a", "b"], "item_id": [1, 2, 1],
        ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-15"]),
        ...     "event": ["purchase", "purchase", "view"], "price": [10.0, 5.0, 10.0]})
        >>> prof = ProfileBuilder.realtime().build(Dataset.from_frames(inter),
        ...                                        as_of="2024-03-01", updatable=True)
        >>> new = pd.DataFrame({"user_id": ["b", "c"], "item_id": [2, 1],
        ...     "timestamp": pd.to_datetime(["2024-03-02", "2024-03-03"]),
        ...     "event": ["purchase", "view"], "price": [5.0, 10.0]})
        >>> prof.update(new, as_of="2024-03-10").frame[["frequency", "monetary", "lifecycle_stage"]]
                 frequency  monetary lifecycle_stage
        user_id
        a              2.0      15.0          active
        b              1.0       5.0             new
        c              NaN       NaN        prospect
        """
        if self._state is None:
            raise InvalidParameterError(
                "Profiles.update needs profiles built by ProfileBuilder.build(..., "
                "updatable=True) (the update state is not saved with the file); got profiles "
                "without it: rebuild them with updatable=True.")
        t0 = time.perf_counter()
        state = self._state.update(new_events, as_of)
        cols, affinities = state.columns()
        frame = self.frame.reindex(state.user_ids)
        for name, values in cols.items():
            if name in frame.columns:
                frame[name] = values
        aff = dict(self.affinities)
        aff.update(affinities)
        info = dict(self.build_info)
        info["updates"] = list(info.get("updates", [])) + [{
            "from_as_of": self.as_of.isoformat(), "n_events": int(len(new_events)),
            "seconds": time.perf_counter() - t0}]
        out = Profiles(frame, as_of=state.as_of, affinities=aff,
                       category_cycles=self.category_cycles,
                       sensitive_columns=self.sensitive_columns, column_docs=self.column_docs,
                       build_info=info)
        out._state = state
        return out

    # ------------------------------------------------------------- features
    def features(
        self,
        include_sensitive: bool = False,
        *,
        blocks: Sequence[str] = FEATURE_BLOCKS,
        max_categories: int = 50,
    ) -> tuple[sp.csr_matrix, list[str]]:
        """User feature matrix for models (side information).

        Parameters
        ----------
        include_sensitive : bool, default False
            Also encode :attr:`sensitive_columns` (age, gender, age_band ...).
        blocks : sequence of str, default all
            Any of ``"numeric"`` (standardised numeric columns), ``"categorical"``
            (one-hot) and ``"affinity"`` (the affinity rows).
        max_categories : int, default 50
            Per categorical column, the most frequent values kept; the rest
            share ``<column>:other``.

        Returns
        -------
        (scipy.sparse.csr_matrix float32 n_users x n_features, list of str)
            Feature names look like ``"rfm:recency_days"``,
            ``"lifecycle:active"``, ``"country:united_kingdom"``,
            ``"cat_l1:home"``, ``"brand:acme"``, ``"price_band:low"``.

        Notes
        -----
        Numeric columns: counts, amounts and durations are ``log1p``-ed,
        ``preferred_hour`` and
        ``preferred_weekday`` become sine/cosine pairs, then every numeric
        feature is standardised (zero mean, unit variance over users with a
        value) and missing values are set to 0 (the mean). Numeric user
        attributes are standardised as ``attr:<column>``. Categorical:
        ``lifecycle_stage``, ``age_band`` and string user attributes, one
        column per value (missing = all zeros); registration-date columns and
        id-like string columns (more than 50 distinct values that are also
        more than half of the non-missing values) are skipped. Affinity rows are kept as is
        (each sums to 1).
        """
        if not isinstance(include_sensitive, bool):
            raise InvalidDtypeError(
                f"include_sensitive must be a bool, got {include_sensitive!r}."
            )
        blocks = [blocks] if isinstance(blocks, str) else list(blocks)
        bad = [b for b in blocks if b not in FEATURE_BLOCKS]
        if bad:
            raise InvalidParameterError(
                f"The 'blocks' parameter of Profiles.features must hold values from "
                f"{list(FEATURE_BLOCKS)}, got {bad}."
            )
        max_categories = check_int(max_categories, "max_categories", minimum=1,
                                   owner="Profiles.features")
        allowed = [c for c in self.frame.columns
                   if include_sensitive or c not in self.sensitive_columns]
        mats: list[sp.csr_matrix] = []
        names: list[str] = []
        n = self.n_users
        if "numeric" in blocks:
            m, nm = self._numeric_block(allowed)
            mats.append(m)
            names += nm
        if "categorical" in blocks:
            m, nm = self._categorical_block(allowed, max_categories)
            mats.append(m)
            names += nm
        if "affinity" in blocks:
            for kind, (mat, values) in self.affinities.items():
                prefix = _affinity_prefix(kind)
                mats.append(sp.csr_matrix(mat, dtype=np.float32))
                names += [f"{prefix}:{v}" for v in values]
        if not mats:
            return sp.csr_matrix((n, 0), dtype=np.float32), []
        out = sp.hstack(mats, format="csr", dtype=np.float32)
        out.eliminate_zeros()
        return out, names

    def _numeric_block(self, allowed: list[str]) -> tuple[sp.csr_matrix, list[str]]:
        cols: list[np.ndarray] = []
        names: list[str] = []
        for col in allowed:
            values = self.frame[col]
            if col in _NUMERIC_SPEC:
                prefix, transform = _NUMERIC_SPEC[col]
                v = values.to_numpy(dtype=np.float64, na_value=np.nan)
                if transform == _LOG:
                    v = np.log1p(np.maximum(v, 0.0))
                elif transform == _SIGNED_LOG:
                    v = np.sign(v) * np.log1p(np.abs(v))
                cols.append(v)
                names.append(f"{prefix}:{col}")
            elif col in _CYCLIC_SPEC:
                prefix, period = _CYCLIC_SPEC[col]
                v = values.to_numpy(dtype=np.float64, na_value=np.nan) * (2 * np.pi / period)
                cols += [np.sin(v), np.cos(v)]
                names += [f"{prefix}_sin", f"{prefix}_cos"]
            elif col not in COMPUTED_COLUMNS and (
                values.dtype.kind in "iufb" and not isinstance(values.dtype, pd.CategoricalDtype)
            ):
                cols.append(values.to_numpy(dtype=np.float64, na_value=np.nan))
                names.append(f"attr:{col}")
        if not cols:
            return sp.csr_matrix((self.n_users, 0), dtype=np.float32), []
        x = np.column_stack(cols)
        finite = np.isfinite(x)
        x[~finite] = np.nan
        keep = finite.any(axis=0)
        z = np.zeros_like(x)
        if keep.any():
            from sklearn.preprocessing import StandardScaler

            scaled = StandardScaler().fit_transform(x[:, keep])
            z[:, keep] = np.nan_to_num(scaled, nan=0.0)
        return sp.csr_matrix(z.astype(np.float32)), names

    def _categorical_block(self, allowed: list[str],
                           max_categories: int) -> tuple[sp.csr_matrix, list[str]]:
        mats: list[sp.csr_matrix] = []
        names: list[str] = []
        n = self.n_users
        for col in allowed:
            values = self.frame[col]
            if col in _CATEGORICAL_COMPUTED:
                prefix = _CATEGORICAL_COMPUTED[col]
            elif col in COMPUTED_COLUMNS or col in DemographicBuilder.REGISTRATION_COLUMNS:
                continue
            elif values.dtype.kind == "O" or isinstance(values.dtype, (pd.StringDtype,
                                                                       pd.CategoricalDtype)):
                prefix = slugify(col) or str(col)
            else:
                continue
            as_str = values.astype("string")
            counts = as_str.value_counts(dropna=True)
            if col not in _CATEGORICAL_COMPUTED and len(counts) > max(50, 0.5 * counts.sum()):
                continue  # id-like or free text: not a category
            if isinstance(values.dtype, pd.CategoricalDtype) and col in _CATEGORICAL_COMPUTED:
                kept = [str(c) for c in values.cat.categories]
            else:
                kept = [str(c) for c in counts.index[:max_categories]]
            codes = pd.Index(kept, dtype=object).get_indexer(
                as_str.to_numpy(dtype=object, na_value=None)).astype(np.int64)
            labels = [f"{prefix}:{v if col in _CATEGORICAL_COMPUTED else slugify(v) or v}"
                      for v in kept]
            if len(counts) > len(kept):
                other = (codes < 0) & as_str.notna().to_numpy()
                codes[other] = len(kept)
                labels.append(f"{prefix}:other")
            rows = np.flatnonzero(codes >= 0)
            mats.append(sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, codes[rows])),
                                      shape=(n, len(labels))))
            names += labels
        if not mats:
            return sp.csr_matrix((n, 0), dtype=np.float32), []
        return sp.hstack(mats, format="csr", dtype=np.float32), names

    # ---------------------------------------------------------- persistence
    @fill_doc(save_parameters=SAVE_PARAMETERS)
    def save(self, path: str | Path, *, key: bytes | str | None = None) -> Path:
        """Save to one ``.npz`` file (arrays + JSON header, no pickle).

        The format is the package's single file format (see
        ``docs/persistence.md``): checksummed, written atomically.

        {save_parameters}
        """
        arrays: dict[str, np.ndarray] = {}
        aff_meta = {}
        for j, (kind, (mat, values)) in enumerate(self.affinities.items()):
            aff_meta[str(kind)] = {
                "matrix": persistence.encode_value(f"aff{j}", sp.csr_matrix(mat), arrays),
                "values": [str(v) for v in values],
            }
        body = {
            "as_of": self.as_of.isoformat(),
            "frame": persistence.encode_value("frame", self.frame, arrays),
            "category_cycles": persistence.encode_value("cycles", self.category_cycles, arrays),
            "affinities": aff_meta,
            "sensitive_columns": sorted(self.sensitive_columns),
            "column_docs": self.column_docs,
            "build_info": _jsonable(self.build_info),
        }
        return persistence.write_file(path, _KIND, body, arrays, key=key)

    @classmethod
    @fill_doc(load_parameters=LOAD_PARAMETERS)
    def load(cls, path: str | Path, *, key: bytes | str | None = None) -> Profiles:
        """Load profiles written by :meth:`save`.

        {load_parameters}

        Raises
        ------
        CorruptFileError
            The file is not a Profiles file, is truncated, inconsistent or its
            signature does not match ``key``.
        FileNotFoundError
            ``path`` does not exist.
        """
        header, arrays = persistence.read_file(path, _KIND, key=key)
        try:
            _BODY.check(header, "header")
            frame = persistence.decode_value("frame", header["frame"], arrays)
            cycles = persistence.decode_value("cycles", header["category_cycles"], arrays)
            if not isinstance(frame, pd.DataFrame) or not isinstance(cycles, pd.DataFrame):
                raise CorruptFileError("frame and category_cycles must be stored as frames.")
            affinities = {}
            for j, (kind, a) in enumerate(header["affinities"].items()):
                if a["matrix"]["kind"] != "csr":
                    raise CorruptFileError(f"affinity {kind!r} must be stored as 'csr'.")
                mat = persistence.decode_value(f"aff{j}", a["matrix"], arrays)
                if mat.shape != (len(frame), len(a["values"])):
                    raise CorruptFileError(
                        f"affinity {kind!r} has shape {mat.shape}, expected "
                        f"({len(frame)}, {len(a['values'])})."
                    )
                affinities[kind] = (mat, list(a["values"]))
            as_of = pd.Timestamp(header["as_of"])
            return cls(frame, as_of=as_of, affinities=affinities,
                       category_cycles=cycles.reset_index(drop=True),
                       sensitive_columns=header["sensitive_columns"],
                       column_docs=header["column_docs"], build_info=header["build_info"])
        except CorruptFileError as exc:
            raise CorruptFileError(f"{path} is an inconsistent Profiles file: {exc}") from None
        except (KeyError, ValueError, TypeError, IndexError, AttributeError, OverflowError) as exc:
            raise CorruptFileError(
                f"{path} is an inconsistent Profiles file ({type(exc).__name__}: {exc})."
            ) from None


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return repr(obj)


class ProfileBuilder(ParamsMixin):
    """Compose profile builders and build :class:`Profiles` at a point in time.

    Parameters
    ----------
    builders : sequence of Builder
        Run in order on one shared context; their columns are concatenated
        (two builders may not produce the same column).

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec import Dataset
    >>> inter = pd.DataFrame({
    ...     "user_id": ["a", "a", "b"],
    ...     "item_id": [1, 2, 1],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-15"]),
    ...     "event": ["purchase", "purchase", "view"],
    ...     "price": [10.0, 5.0, 10.0],
    ... })
    >>> ds = Dataset.from_frames(inter)
    >>> prof = ProfileBuilder.default().build(ds, as_of="2024-03-01")
    >>> prof.frame[["recency_days", "frequency", "monetary", "lifecycle_stage"]]
             recency_days  frequency  monetary lifecycle_stage
    user_id
    a                29.0        2.0      15.0          active
    b                 NaN        NaN       NaN        prospect
    """

    def __init__(self, builders: Sequence[Builder]) -> None:
        if isinstance(builders, (str, bytes)) or not isinstance(builders, Sequence):
            raise InvalidDtypeError(
                f"builders must be a list of profile builders, got {type(builders).__name__}."
            )
        bad = [b for b in builders if not callable(getattr(b, "build", None))]
        if bad:
            raise InvalidDtypeError(
                f"builders must hold objects with a build(ctx) method, got {bad[0]!r}."
            )
        if len(builders) == 0:
            raise InvalidParameterError("builders must hold at least one builder, got [].")
        self.builders = builders  # stored as given (scikit-learn's clone checks identity)

    @classmethod
    def default(
        cls,
        *,
        half_life_days: float = 90.0,
        novelty_window_days: float = 30.0,
        session_gap_minutes: float = 30.0,
        min_item_sales: int = 5,
        quantity_tiers: Sequence[float] | None = None,
        min_brand_events: int = 3,
        price_band_min_items: int = 20,
        new_days: float = 30.0,
        at_risk_factor: float = 1.5,
        churn_factor: float = 3.0,
        churn_cap_days: float = 365.0,
        prior_weight: float = 3.0,
        default_interval_days: float = 30.0,
        cycle_category_level: int = 1,
        cycle_min_orders: int = 2,
    ) -> ProfileBuilder:
        """The standard set of builders with their main options.

        Parameters
        ----------
        half_life_days : float
            Affinity decay half-life (:class:`AffinityBuilder`).
        novelty_window_days : float
            :class:`NoveltyBuilder` window.
        session_gap_minutes : float
            :class:`ActivityBuilder` session split without ``session_id``.
        min_item_sales : int
            :class:`PriceSensitivityBuilder` item reference threshold.
        quantity_tiers : sequence of float, optional
            :class:`PriceSensitivityBuilder` quantity-tier edges (default
            :data:`~persona_rec.profiles.builders.QUANTITY_TIERS`).
        min_brand_events, price_band_min_items : int
            :class:`AffinityBuilder` options.
        new_days, at_risk_factor, churn_factor, churn_cap_days, prior_weight, default_interval_days
            :class:`LifecycleBuilder` options (``prior_weight`` and
            ``default_interval_days`` are shared with :class:`RepurchaseBuilder`).
        cycle_category_level, cycle_min_orders : int
            :class:`RepurchaseBuilder` ``category_level`` and ``min_orders``.

        Returns
        -------
        ProfileBuilder
        """
        return cls([
            DemographicBuilder(),
            RFMBuilder(),
            ActivityBuilder(session_gap_minutes=session_gap_minutes),
            AffinityBuilder(half_life_days=half_life_days, min_brand_events=min_brand_events,
                            price_band_min_items=price_band_min_items),
            PriceSensitivityBuilder(min_item_sales=min_item_sales, quantity_tiers=quantity_tiers),
            NoveltyBuilder(window_days=novelty_window_days),
            LifecycleBuilder(new_days=new_days, at_risk_factor=at_risk_factor,
                             churn_factor=churn_factor, churn_cap_days=churn_cap_days,
                             prior_weight=prior_weight,
                             default_interval_days=default_interval_days),
            RepurchaseBuilder(category_level=cycle_category_level, min_orders=cycle_min_orders,
                              prior_weight=prior_weight,
                              default_interval_days=default_interval_days),
        ])

    @classmethod
    def realtime(cls, **params: Any) -> ProfileBuilder:
        """The builders :meth:`Profiles.update` keeps current without a rebuild.

        Demographic, RFM, activity, affinity and lifecycle builders (the
        defaults without price sensitivity, novelty and repurchase cycles,
        whose item-level references would need a rebuild).

        Parameters
        ----------
        **params
            ``session_gap_minutes``, ``half_life_days``, ``min_brand_events``,
            ``price_band_min_items`` and the :class:`LifecycleBuilder` options.

        Returns
        -------
        ProfileBuilder
        """
        act = {k: params.pop(k) for k in ("session_gap_minutes",) if k in params}
        aff = {k: params.pop(k) for k in ("half_life_days", "min_brand_events",
                                          "price_band_min_items") if k in params}
        return cls([DemographicBuilder(), RFMBuilder(), ActivityBuilder(**act),
                    AffinityBuilder(**aff), LifecycleBuilder(**params)])

    def build(self, dataset: Dataset, as_of: Any = None, *,
              category_sep: CategorySep = None,
              verbose: bool | None = None, updatable: bool = False) -> Profiles:
        """Build profiles from the events strictly before ``as_of``.

        Each builder's duration is logged (logger ``persona_rec``, INFO).

        Parameters
        ----------
        dataset : Dataset
        as_of : datetime-like, optional
            Cut-off; default: the last event time + 1 second (all events).
        category_sep : str, sequence of str or None, default None
            Separator(s) of the levels of the item ``category`` path; None
            uses the package default (``">"`` and ``"/"``, see
            :func:`persona_rec.set_category_sep`); ``()`` treats categories
            as flat (a literal ``"/"`` in a name then stays part of it).
            Recorded in ``build_info["category_sep"]``.

        verbose : bool, optional
            Progress bar over the builders; default: the process-wide switch
            (:func:`persona_rec.set_verbose`, off unless turned on).
        updatable : bool, default False
            Keep the per-user statistics :meth:`Profiles.update` needs (every
            builder must be one of
            :data:`~persona_rec.profiles.realtime.UPDATABLE_BUILDERS`, e.g.
            :meth:`realtime`).

        Notes
        -----
        The bool column ``known_at_as_of`` marks the users who existed at
        ``as_of``, judged from data before ``as_of`` only: an event, or a
        registration date (``registration_date`` / ``signup_date`` /
        ``registered_at``), before ``as_of``. With the default ``as_of``
        (now) every user of the users frame also counts (unless registered
        later); at an explicit ``as_of`` an undated users-frame row does not,
        since such a frame is usually today's snapshot: give a registration
        date to have attribute-only users tagged at a past ``as_of``. Users
        not known at ``as_of`` keep their row but get no tags and do not
        shape the ``quantile()`` thresholds of tag rules, so adding users
        first seen later never changes the tags of the others.

        Returns
        -------
        Profiles

        Raises
        ------
        InvalidDtypeError
            ``dataset`` is not a :class:`~persona_rec.Dataset`.
        InvalidValueError
            ``as_of`` cannot be parsed as a date/time.
        """
        if not isinstance(dataset, Dataset):
            raise InvalidDtypeError(
                f"dataset must be a persona_rec.Dataset, got {type(dataset).__name__}; "
                f"build one with Dataset.from_frames(...)."
            )
        ts = as_of_or_after(as_of, dataset.time_range[1])
        if not isinstance(updatable, bool):
            raise InvalidDtypeError(f"updatable must be a bool, got {updatable!r}.")
        if updatable:
            from .realtime import UPDATABLE_BUILDERS

            bad = [type(b).__name__ for b in self.builders if type(b) not in UPDATABLE_BUILDERS]
            if bad:
                raise InvalidParameterError(
                    f"updatable=True needs builders from "
                    f"{[b.__name__ for b in UPDATABLE_BUILDERS]} (their columns can be updated "
                    f"exactly), got {bad}; use ProfileBuilder.realtime().")
        _log.info("building profiles of %s users as of %s (%d builders)",
                  f"{dataset.n_users:,}", ts, len(self.builders))
        ctx = ProfileContext(dataset, ts, category_sep=category_sep)
        columns: dict[str, Any] = {}
        docs: dict[str, str] = {}
        affinities: dict[str, tuple[sp.csr_matrix, list[str]]] = {}
        tables: dict[str, pd.DataFrame] = {}
        sensitive: set[str] = set()
        timings: dict[str, float] = {}
        for b in progress(self.builders, verbose=verbose, desc="profiles"):
            t0 = time.perf_counter()
            part: ProfilePart = b.build(ctx)
            name = type(b).__name__
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - t0
            _log.info("profiles: %s done in %.2fs (%d columns)", name,
                      time.perf_counter() - t0, len(part.columns))
            clash = sorted(set(part.columns) & set(columns))
            if clash:
                raise InvalidParameterError(
                    f"builder {name} produces column(s) {clash} already produced by an "
                    f"earlier builder; each column must come from one builder."
                )
            columns.update(part.columns)
            docs.update(part.docs)
            affinities.update(part.affinities)
            tables.update(part.tables)
            sensitive |= part.sensitive
        if KNOWN_COLUMN not in columns:
            columns[KNOWN_COLUMN] = ctx.known_users(listed_are_known=as_of is None)
            docs[KNOWN_COLUMN] = (
                "the user existed at as_of: an event or a registration date before as_of (with "
                "the default as_of, also every user of the users frame); False rows are users "
                "first seen later, kept so the frame aligns with the Dataset, but they get no "
                "tags and shape no quantile() threshold"
            )
        index = pd.Index(dataset.user_map.external_ids, name=Columns.USER)
        frame = pd.DataFrame(columns, index=index)
        cycles = tables.get("category_cycles")
        if cycles is None:
            cycles = pd.DataFrame({c: [] for c in CATEGORY_CYCLE_COLUMNS})
        info = {
            "builders": [{"name": type(b).__name__,
                          "params": b.get_params(deep=False) if hasattr(b, "get_params") else {}}
                         for b in self.builders],
            "seconds": timings,
            "n_events_used": ctx.n_events,
            "category_sep": list(ctx.category_sep),
        }
        _log.info("built profiles: %s users x %d columns from %s events in %.1fs",
                  f"{len(frame):,}", frame.shape[1], f"{ctx.n_events:,}", sum(timings.values()))
        out = Profiles(frame, as_of=ts, affinities=affinities, category_cycles=cycles,
                       sensitive_columns=sensitive, column_docs=docs, build_info=info)
        if updatable:
            from .realtime import ProfileState

            out._state = ProfileState.from_context(ctx, self.builders, columns)
        return out
