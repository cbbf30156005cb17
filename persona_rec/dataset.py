"""The :class:`Dataset`: users, items, behaviour events and their id maps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._validation import as_timestamp, check_frame, example_values
from .cleaning import CleaningReport
from .columns import Columns
from .exceptions import (
    DuplicateIdError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    UnknownIdError,
)
from .identifiers import IdMap

__all__ = ["Dataset", "DEFAULT_EVENT_WEIGHTS", "DEFAULT_SENSITIVE_COLUMNS", "UserState"]

#: Weight of each event type when ``interactions`` has no ``weight`` column.
DEFAULT_EVENT_WEIGHTS: dict[str, float] = {
    "view": 1.0,
    "click": 1.0,
    "favorite": 2.0,
    "like": 2.0,
    "cart": 3.0,
    "purchase": 5.0,
    "order": 5.0,
    "rating": 1.0,
}

#: Attribute columns treated as sensitive unless ``sensitive=`` says otherwise.
DEFAULT_SENSITIVE_COLUMNS: frozenset[str] = frozenset(
    {
        "age",
        "age_group",
        "gender",
        "sex",
        "birth_date",
        "birthday",
        "date_of_birth",
        "ethnicity",
        "race",
        "religion",
        "zip",
        "zip_code",
        "postcode",
        "postal_code",
        "phone",
        "email",
        "name",
        "address",
        "income",
        "marital_status",
        "health",
    }
)


class UserState:
    """Names of what is known about a user.

    ``HOT``: the user has interactions. ``WARM``: the user is known only
    through attributes (registration data, profile). ``COLD``: the id is
    unknown to the Dataset.
    """

    HOT = "hot"
    WARM = "warm"
    COLD = "cold"


_NUMERIC_OPTIONAL = (Columns.WEIGHT, Columns.QUANTITY, Columns.PRICE)


def _check_id_dtype(series: pd.Series, frame: str, column: str) -> None:
    kind = series.dtype.kind
    if kind in "iu" or kind == "O" or isinstance(series.dtype, pd.StringDtype):
        return
    if isinstance(series.dtype, pd.CategoricalDtype):
        return
    example = series.iloc[0] if len(series) else None
    raise InvalidDtypeError(
        f"{frame}['{column}'] must hold str or int ids, got dtype {series.dtype} "
        f"(e.g. {example!r}); convert it, e.g. with .astype('int64') or .astype(str)."
    )


def _missing_id_mask(series: pd.Series) -> np.ndarray:
    mask = series.isna().to_numpy()
    if series.dtype.kind == "O" or isinstance(series.dtype, pd.StringDtype):
        values = series.to_numpy(dtype=object, na_value=None)
        mask = mask | (values == "")
    return mask


def _to_datetime(series: pd.Series, frame: str) -> pd.Series:
    """Convert a timestamp column to naive ``datetime64[ns]`` (NaT where unparseable)."""
    col = Columns.TIMESTAMP
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    if dtype.kind == "M":
        return series.astype("datetime64[ns]")
    if dtype.kind == "b":
        raise InvalidDtypeError(
            f"{frame}['{col}'] must be datetime64, integer epoch seconds or date strings, "
            f"got dtype bool."
        )
    if dtype.kind in "iuf":
        values = series.to_numpy(dtype=np.float64)
        out = pd.to_datetime(values, unit="s", errors="coerce")
        return pd.Series(out, index=series.index).astype("datetime64[ns]")
    # strings / objects: parse; failures become NaT and are reported by the caller
    parsed = pd.to_datetime(series, errors="coerce", format="mixed")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


class _RowRules:
    """Apply row rules: raise on the first violation, or drop and report."""

    def __init__(self, frame_name: str, n_rows: int, clean: bool) -> None:
        self.frame_name = frame_name
        self.clean = clean
        self.keep = np.ones(n_rows, dtype=bool)
        self.report = CleaningReport(frame_name, n_rows)

    def apply(
        self,
        reason: str,
        bad: np.ndarray,
        description: str,
        examples: Any,
        error: type[Exception] = InvalidValueError,
    ) -> None:
        bad = np.asarray(bad, dtype=bool) & self.keep
        n_bad = int(bad.sum())
        if n_bad == 0:
            return
        if not self.clean:
            if isinstance(examples, (pd.Series, pd.Index)):
                examples = examples.to_numpy()
            shown = example_values(np.asarray(examples)[bad])
            first_row = int(np.flatnonzero(bad)[0])
            raise error(
                f"{self.frame_name}: {n_bad} row(s) break the rule '{description}' "
                f"(first at row {first_row}, e.g. {shown}). Fix the data or pass "
                f"clean=True to drop them with a report."
            )
        self.keep &= ~bad
        self.report.add(reason, n_bad, description)


class Dataset:
    """Users, items and behaviour events with their id maps.

    A Dataset is the one object that profile builders, taggers, models and
    evaluators take. Build it with :meth:`from_frames`. External ids (str or
    int) go in and come out; contiguous internal indices and the id maps
    (:attr:`user_map`, :attr:`item_map`) live inside. A Dataset is immutable:
    filtering returns a new Dataset that shares the id maps, so matrices of a
    filtered Dataset line up with those of the original.

    Do not call the constructor directly; use :meth:`from_frames`.

    Attributes
    ----------
    user_map, item_map : IdMap
        External id <-> internal index maps. Users with interactions come
        first (in order of first appearance), then attribute-only users;
        likewise for items.
    cleaning_reports : list of CleaningReport
        What ``from_frames(..., clean=True)`` removed (empty when nothing was
        cleaned).
    event_weights : dict
        Event type -> weight used when no ``weight`` column was given.
    sensitive_columns : frozenset of str
        User/item attribute columns flagged as sensitive (never exported
        unless asked).

    Examples
    --------
    >>> import pandas as pd
    >>> inter = pd.DataFrame({
    ...     "user_id": ["u1", "u1", "u2"],
    ...     "item_id": [10, 11, 10],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
    ...     "event": ["view", "purchase", "cart"],
    ... })
    >>> users = pd.DataFrame({"user_id": ["u1", "u2", "u3"], "age": [31, 45, 22]})
    >>> ds = Dataset.from_frames(inter, users=users)
    >>> ds.n_users, ds.n_items, ds.n_interactions
    (3, 2, 3)
    >>> ds.get_user_item_matrix().toarray()
    array([[1., 5.],
           [3., 0.],
           [0., 0.]], dtype=float32)
    >>> ds.user_state(["u1", "u3", "nobody"]).tolist()
    ['hot', 'warm', 'cold']
    """

    def __init__(
        self,
        *,
        user_map: IdMap,
        item_map: IdMap,
        inter: pd.DataFrame,
        users: pd.DataFrame,
        items: pd.DataFrame,
        event_weights: Mapping[str, float],
        sensitive_columns: frozenset[str],
        cleaning_reports: list[CleaningReport] | None = None,
    ) -> None:
        self._user_map = user_map
        self._item_map = item_map
        self._inter = inter
        self._users = users
        self._items = items
        self._event_weights = dict(event_weights)
        self._sensitive = frozenset(sensitive_columns)
        self._reports = list(cleaning_reports or [])
        self._csr: sp.csr_matrix | None = None

    # ------------------------------------------------------------------ build
    @classmethod
    def from_frames(
        cls,
        interactions: pd.DataFrame,
        users: pd.DataFrame | None = None,
        items: pd.DataFrame | None = None,
        *,
        event_weights: Mapping[str, float] | None = None,
        sensitive: Iterable[str] | None = None,
        clean: bool = False,
    ) -> Dataset:
        """Build a Dataset from interaction, user and item frames.

        Parameters
        ----------
        interactions : pandas.DataFrame
            One row per event. Required columns: ``user_id``, ``item_id``
            (str or int), ``timestamp`` (datetime64, integer/float epoch
            seconds, or date strings). Optional: ``event`` (event type),
            ``weight`` (finite, >= 0), ``quantity`` (>= 0), ``price`` (unit
            price, >= 0), ``order_id`` and ``session_id``; any other column is
            kept as is. Repeated (user, item) rows are kept as separate
            events; the matrix sums their weights.
        users : pandas.DataFrame, optional
            ``user_id`` plus attribute columns (age, gender, city, ...), one
            row per user. Users listed here without interactions are kept as
            attribute-only ("warm") users.
        items : pandas.DataFrame, optional
            ``item_id`` plus attribute columns, one row per item. Recognised
            columns: ``category`` (a path such as ``"Home > Kitchen > Mugs"``),
            ``brand``, ``price`` and free text (``title``, ``description``).
            When given, every interaction must refer to an item listed here.
        event_weights : mapping of str to float, optional
            Weight of each event type, used when ``interactions`` has an
            ``event`` column and no ``weight`` column. Defaults to
            :data:`DEFAULT_EVENT_WEIGHTS`. Without ``event`` and ``weight``
            every interaction weighs 1.
        sensitive : iterable of str, optional
            Attribute columns to flag as sensitive. Defaults to the columns
            present in ``users``/``items`` whose names are in
            :data:`DEFAULT_SENSITIVE_COLUMNS` (age, gender, zip, ...).
        clean : bool, default False
            If False, any row that breaks a rule raises a typed error naming
            the frame, column, rule and an example value. If True such rows
            are dropped and counted in :attr:`cleaning_reports`.

        Returns
        -------
        Dataset

        Raises
        ------
        InvalidDtypeError
            A frame is not a DataFrame, or a column has the wrong dtype.
        MissingColumnError
            A required column is missing.
        EmptyInputError
            ``interactions`` is empty (before or after cleaning).
        InvalidValueError
            A row breaks a rule (``clean=False``): missing id, unparseable
            timestamp, negative quantity/price/weight, unknown event type.
        DuplicateIdError
            ``users`` or ``items`` lists an id twice (``clean=False``).
        UnknownIdError
            An interaction refers to an item absent from ``items``
            (``clean=False``).
        """
        cols = Columns
        name = "interactions"
        check_frame(interactions, name, cols.INTERACTIONS_REQUIRED)
        if event_weights is None:
            event_weights = DEFAULT_EVENT_WEIGHTS
        for key, val in dict(event_weights).items():
            if not isinstance(val, (int, float, np.integer, np.floating)) or isinstance(val, bool) \
                    or not np.isfinite(val) or val < 0:
                raise InvalidParameterError(
                    f"event_weights[{key!r}] must be a finite number >= 0, got {val!r}."
                )
        if not isinstance(clean, bool):
            raise InvalidDtypeError(f"clean must be a bool, got {clean!r}.")

        reports: list[CleaningReport] = []
        users_df = cls._prepare_entities(users, "users", cols.USER, clean, reports)
        items_df = cls._prepare_entities(items, "items", cols.ITEM, clean, reports)

        inter = interactions
        n = len(inter)
        rules = _RowRules(name, n, clean)
        _check_id_dtype(inter[cols.USER], name, cols.USER)
        _check_id_dtype(inter[cols.ITEM], name, cols.ITEM)
        for col in (cols.USER, cols.ITEM):
            rules.apply(
                f"missing_{col}",
                _missing_id_mask(inter[col]),
                f"{col} must not be missing or empty",
                inter[col],
            )
        ts = _to_datetime(inter[cols.TIMESTAMP], name)
        rules.apply(
            "bad_timestamp",
            ts.isna().to_numpy(),
            "timestamp must be a parseable date/time",
            inter[cols.TIMESTAMP],
        )
        numeric: dict[str, np.ndarray] = {}
        for col in _NUMERIC_OPTIONAL:
            if col not in inter.columns:
                continue
            s = inter[col]
            if s.dtype.kind not in "iuf" or s.dtype.kind == "b":
                raise InvalidDtypeError(
                    f"{name}['{col}'] must be numeric, got dtype {s.dtype} "
                    f"(e.g. {s.iloc[0]!r})."
                )
            v = s.to_numpy(dtype=np.float64)
            rules.apply(
                f"bad_{col}",
                ~np.isfinite(v) | (v < 0),
                f"{col} must be a finite number >= 0",
                v,
            )
            numeric[col] = v
        ev_cat: pd.Categorical | None = None
        if cols.EVENT in inter.columns:
            ev_cat = pd.Categorical(inter[cols.EVENT])
            if cols.WEIGHT not in inter.columns:
                known_cat = np.array([c in event_weights for c in ev_cat.categories] + [False])
                rules.apply(
                    "unknown_event",
                    ~known_cat[ev_cat.codes],  # code -1 (missing) maps to the trailing False
                    f"event must be one of the event_weights keys {sorted(event_weights)}",
                    np.asarray(ev_cat, dtype=object),
                )
        if items_df is not None:
            item_vals = inter[cols.ITEM].to_numpy()
            known_items = items_df.index.get_indexer(item_vals) >= 0
            rules.apply(
                "unknown_item",
                ~known_items,
                "item_id must be listed in items",
                item_vals,
                error=UnknownIdError,
            )
        keep = rules.keep
        if clean:
            reports.insert(0, rules.report)
        if not keep.any():
            from .exceptions import EmptyInputError

            raise EmptyInputError(
                f"{name} has no valid rows left after cleaning ({n} removed); "
                f"see the cleaning report: {rules.report.removed}."
            )
        all_kept = bool(keep.all())

        def take(values: Any) -> Any:
            return values if all_kept else values[keep]

        user_vals = take(inter[cols.USER].to_numpy())
        item_vals = take(inter[cols.ITEM].to_numpy())
        u_codes, u_uniques = pd.factorize(user_vals)
        i_codes, i_uniques = pd.factorize(item_vals)
        user_map = IdMap(np.asarray(u_uniques))
        item_map = IdMap(np.asarray(i_uniques))
        if users_df is not None:
            user_map = user_map.add_ids(users_df.index.to_numpy())
        if items_df is not None:
            item_map = item_map.add_ids(items_df.index.to_numpy())

        data: dict[str, Any] = {
            "user_idx": u_codes.astype(np.int32),
            "item_idx": i_codes.astype(np.int32),
            cols.TIMESTAMP: take(ts.to_numpy()),
        }
        if cols.WEIGHT in numeric:
            weight = take(numeric[cols.WEIGHT])
        elif ev_cat is not None:
            lut = np.array([event_weights.get(c, np.nan) for c in ev_cat.categories] + [np.nan])
            weight = lut[take(ev_cat.codes)]
        else:
            weight = np.ones(len(u_codes))
        data[cols.WEIGHT] = weight.astype(np.float32)
        if ev_cat is not None:
            data[cols.EVENT] = ev_cat if all_kept else ev_cat[keep].remove_unused_categories()
        for col in (cols.QUANTITY, cols.PRICE):
            if col in numeric:  # integer quantities stay integers
                src = inter[col]
                data[col] = take(src.to_numpy() if src.dtype.kind in "iu" else numeric[col])
        reserved = set(cols.INTERACTIONS_REQUIRED) | {cols.WEIGHT, cols.EVENT, cols.QUANTITY,
                                                     cols.PRICE}
        for col in inter.columns:
            if col not in reserved and col not in data:
                data[col] = take(inter[col].to_numpy())
        inter_df = pd.DataFrame(data, copy=False)

        if users_df is None:
            users_df = pd.DataFrame(index=pd.Index([], name=cols.USER))
        if items_df is None:
            items_df = pd.DataFrame(index=pd.Index([], name=cols.ITEM))
        if sensitive is None:
            sens = frozenset(
                c for c in list(users_df.columns) + list(items_df.columns)
                if str(c).lower() in DEFAULT_SENSITIVE_COLUMNS
            )
        else:
            if isinstance(sensitive, str):
                raise InvalidDtypeError(
                    f"sensitive must be an iterable of column names, got the string {sensitive!r}."
                )
            sens = frozenset(sensitive)
            unknown = sens - set(users_df.columns) - set(items_df.columns)
            if unknown:
                raise InvalidParameterError(
                    f"sensitive names column(s) {sorted(unknown)} that are in neither users "
                    f"nor items."
                )
        return cls(
            user_map=user_map,
            item_map=item_map,
            inter=inter_df,
            users=users_df,
            items=items_df,
            event_weights=event_weights,
            sensitive_columns=sens,
            cleaning_reports=reports,
        )

    @staticmethod
    def _prepare_entities(
        frame: pd.DataFrame | None,
        name: str,
        id_col: str,
        clean: bool,
        reports: list[CleaningReport],
    ) -> pd.DataFrame | None:
        """Validate a users/items frame and return it indexed by id."""
        if frame is None:
            return None
        check_frame(frame, name, (id_col,), allow_empty=True)
        _check_id_dtype(frame[id_col], name, id_col)
        rules = _RowRules(name, len(frame), clean)
        ids = frame[id_col]
        rules.apply(
            f"missing_{id_col}",
            _missing_id_mask(ids),
            f"{id_col} must not be missing or empty",
            ids,
        )
        dup = ids.duplicated(keep="first").to_numpy()
        rules.apply(
            f"duplicate_{id_col}",
            dup,
            f"{id_col} must be unique (one row per {name[:-1]}); the first row is kept",
            ids,
            error=DuplicateIdError,
        )
        for col in (Columns.PRICE,):
            if col in frame.columns:
                s = frame[col]
                if s.dtype.kind not in "iuf":
                    raise InvalidDtypeError(
                        f"{name}['{col}'] must be numeric, got dtype {s.dtype} "
                        f"(e.g. {s.iloc[0] if len(s) else None!r})."
                    )
                v = s.to_numpy(dtype=np.float64)
                rules.apply(
                    f"bad_{col}",
                    (v < 0) | np.isinf(v),
                    f"{col} must be >= 0 (missing is allowed)",
                    v,
                )
        if clean:
            reports.append(rules.report)
        out = frame.loc[rules.keep] if not rules.keep.all() else frame
        return out.set_index(id_col)

    # ------------------------------------------------------------ properties
    @property
    def user_map(self) -> IdMap:
        """Map between external user ids and internal indices."""
        return self._user_map

    @property
    def item_map(self) -> IdMap:
        """Map between external item ids and internal indices."""
        return self._item_map

    @property
    def n_users(self) -> int:
        """Number of known users (with interactions or attributes)."""
        return len(self._user_map)

    @property
    def n_items(self) -> int:
        """Number of known items (with interactions or attributes)."""
        return len(self._item_map)

    @property
    def n_interactions(self) -> int:
        """Number of interaction rows (events)."""
        return len(self._inter)

    @property
    def event_weights(self) -> dict[str, float]:
        """Event type -> weight used for the matrix."""
        return dict(self._event_weights)

    @property
    def sensitive_columns(self) -> frozenset[str]:
        """Attribute columns flagged as sensitive."""
        return self._sensitive

    @property
    def cleaning_reports(self) -> list[CleaningReport]:
        """Reports of rows dropped by ``from_frames(..., clean=True)``."""
        return list(self._reports)

    @property
    def users(self) -> pd.DataFrame:
        """User attributes: a copy with a ``user_id`` column, one row per listed user."""
        return self._users.reset_index()

    @property
    def items(self) -> pd.DataFrame:
        """Item attributes: a copy with an ``item_id`` column, one row per listed item."""
        return self._items.reset_index()

    @property
    def interactions(self) -> pd.DataFrame:
        """Interactions with external ids (a new frame on each access).

        Columns: ``user_id, item_id, timestamp, weight`` then ``event``,
        ``quantity``, ``price`` and any extra columns that were given.
        """
        df = self._inter
        out = {
            Columns.USER: self._user_map.to_external(df["user_idx"].to_numpy()),
            Columns.ITEM: self._item_map.to_external(df["item_idx"].to_numpy()),
        }
        for col in df.columns:
            if col not in ("user_idx", "item_idx"):
                out[col] = df[col].to_numpy()
        return pd.DataFrame(out, index=pd.RangeIndex(len(df)))

    @property
    def internal_interactions(self) -> pd.DataFrame:
        """Interactions with internal indices ``user_idx``/``item_idx`` (read-only view).

        Meant for library code that works on indices; do not modify it.
        """
        return self._inter

    def user_attributes(self, include_sensitive: bool = False) -> pd.DataFrame:
        """User attributes aligned to internal order (row ``i`` = user index ``i``).

        Parameters
        ----------
        include_sensitive : bool, default False
            Whether to keep columns flagged in :attr:`sensitive_columns`.

        Returns
        -------
        pandas.DataFrame
            Indexed by external ``user_id``; users without attributes have NaN.
        """
        cols = [c for c in self._users.columns if include_sensitive or c not in self._sensitive]
        frame = self._users[cols].reindex(pd.Index(self._user_map.external_ids, name=Columns.USER))
        return frame

    def item_attributes(self, include_sensitive: bool = True) -> pd.DataFrame:
        """Item attributes aligned to internal order (row ``i`` = item index ``i``).

        Parameters
        ----------
        include_sensitive : bool, default True
            Whether to keep item columns flagged as sensitive.

        Returns
        -------
        pandas.DataFrame
            Indexed by external ``item_id``; items without attributes have NaN.
        """
        cols = [c for c in self._items.columns if include_sensitive or c not in self._sensitive]
        return self._items[cols].reindex(pd.Index(self._item_map.external_ids, name=Columns.ITEM))

    @property
    def time_range(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last interaction timestamps."""
        ts = self._inter[Columns.TIMESTAMP]
        return ts.min(), ts.max()

    # --------------------------------------------------------------- matrices
    def _matrix(self) -> sp.csr_matrix:
        if self._csr is None:
            df = self._inter
            m = sp.csr_matrix(
                (
                    df[Columns.WEIGHT].to_numpy(dtype=np.float32),
                    (df["user_idx"].to_numpy(), df["item_idx"].to_numpy()),
                ),
                shape=(self.n_users, self.n_items),
                dtype=np.float32,
            )
            m.sum_duplicates()
            m.eliminate_zeros()
            self._csr = m
        return self._csr

    def get_user_item_matrix(self, binary: bool = False) -> sp.csr_matrix:
        """Return the users x items matrix (a fresh copy, safe to modify).

        Parameters
        ----------
        binary : bool, default False
            If True, every non-zero cell is 1; otherwise cells hold the sum of
            the interaction weights.

        Returns
        -------
        scipy.sparse.csr_matrix of float32, shape (n_users, n_items)
        """
        m = self._matrix().copy()
        if binary:
            m.data[:] = 1.0
        return m

    # ---------------------------------------------------------- user states
    def hot_user_mask(self) -> np.ndarray:
        """Boolean array over internal users: True where the user has interactions."""
        mask = np.zeros(self.n_users, dtype=bool)
        mask[self._inter["user_idx"].to_numpy()] = True
        return mask

    def hot_item_mask(self) -> np.ndarray:
        """Boolean array over internal items: True where the item has interactions."""
        mask = np.zeros(self.n_items, dtype=bool)
        mask[self._inter["item_idx"].to_numpy()] = True
        return mask

    def user_state(self, user_ids: Any) -> np.ndarray:
        """Classify external user ids as ``"hot"``, ``"warm"`` or ``"cold"``.

        Parameters
        ----------
        user_ids : array-like
            External user ids (unknown ids are allowed).

        Returns
        -------
        numpy.ndarray of str
            See :class:`UserState`.
        """
        idx = self._user_map.to_internal(user_ids, strict=False)
        hot = self.hot_user_mask()
        out = np.full(len(idx), UserState.COLD, dtype=object)
        known = idx >= 0
        out[known] = np.where(hot[idx[known]], UserState.HOT, UserState.WARM)
        return out

    # -------------------------------------------------------------- filters
    def _with_inter(self, inter: pd.DataFrame) -> Dataset:
        return Dataset(
            user_map=self._user_map,
            item_map=self._item_map,
            inter=inter if isinstance(inter.index, pd.RangeIndex) and inter.index.start == 0
            and inter.index.step == 1 else inter.reset_index(drop=True),
            users=self._users,
            items=self._items,
            event_weights=self._event_weights,
            sensitive_columns=self._sensitive,
            cleaning_reports=self._reports,
        )

    def with_cleaning_reports(self, reports: Iterable[CleaningReport]) -> Dataset:
        """Return a copy whose :attr:`cleaning_reports` are ``reports``.

        Loaders that clean raw files before :meth:`from_frames` use it to keep
        every removed row reported in one place.

        Parameters
        ----------
        reports : iterable of CleaningReport

        Returns
        -------
        Dataset
        """
        reports = list(reports)
        bad = [type(r).__name__ for r in reports if not isinstance(r, CleaningReport)]
        if bad:
            raise InvalidDtypeError(f"reports must hold CleaningReport objects, got {bad}.")
        out = self._with_inter(self._inter)
        out._reports = reports
        return out

    def filter_interactions(self, mask: Any) -> Dataset:
        """Keep the interactions where ``mask`` is True; id maps are shared.

        Parameters
        ----------
        mask : array-like of bool, length ``n_interactions``
            Rows of :attr:`interactions` to keep.

        Returns
        -------
        Dataset
        """
        m = np.asarray(mask)
        if m.dtype != bool or m.shape != (self.n_interactions,):
            raise InvalidValueError(
                f"mask must be a boolean array of length n_interactions={self.n_interactions}, "
                f"got dtype {m.dtype} and shape {m.shape}."
            )
        return self._with_inter(self._inter.loc[m])

    def filter_time(self, start: Any = None, end: Any = None) -> Dataset:
        """Keep interactions with ``start <= timestamp < end``.

        Parameters
        ----------
        start, end : datetime-like, optional
            Bounds; ``None`` means unbounded.

        Returns
        -------
        Dataset
        """
        ts = self._inter[Columns.TIMESTAMP]
        mask = np.ones(len(ts), dtype=bool)
        for bound, name in ((start, "start"), (end, "end")):
            if bound is None:
                continue
            t = as_timestamp(bound, name)
            mask &= (ts >= t).to_numpy() if name == "start" else (ts < t).to_numpy()
        return self._with_inter(self._inter.loc[mask])

    def filter_users(self, user_ids: Any, *, keep: bool = True) -> Dataset:
        """Keep (or, with ``keep=False``, drop) the interactions of ``user_ids``.

        Unknown ids are ignored. Users stay in the id map (and their
        attributes stay), so dropped users become attribute-only.
        """
        idx = self._user_map.to_internal(user_ids, strict=False)
        sel = np.zeros(self.n_users, dtype=bool)
        sel[idx[idx >= 0]] = True
        m = sel[self._inter["user_idx"].to_numpy()]
        return self._with_inter(self._inter.loc[m if keep else ~m])

    def filter_items(self, item_ids: Any, *, keep: bool = True) -> Dataset:
        """Keep (or drop) the interactions with ``item_ids``; unknown ids are ignored."""
        idx = self._item_map.to_internal(item_ids, strict=False)
        sel = np.zeros(self.n_items, dtype=bool)
        sel[idx[idx >= 0]] = True
        m = sel[self._inter["item_idx"].to_numpy()]
        return self._with_inter(self._inter.loc[m if keep else ~m])

    # ---------------------------------------------------------- persistence
    def save(self, path: Any, *, key: bytes | str | None = None) -> Any:
        """Write the Dataset to one ``.npz`` file (arrays + JSON header, no pickle).

        See ``docs/persistence.md`` for the format and its guarantees.

        Parameters
        ----------
        path : str or path-like
            Target file; ``.npz`` is appended when missing.
        key : bytes or str, optional
            Secret used to sign the file with HMAC-SHA256; :meth:`load` then
            needs the same key.

        Returns
        -------
        pathlib.Path
            The file written.
        """
        from ._dataset_io import save_dataset

        return save_dataset(self, path, key=key)

    @classmethod
    def load(cls, path: Any, *, key: bytes | str | None = None) -> Dataset:
        """Load a Dataset written by :meth:`save` (no pickle, bounded memory).

        Parameters
        ----------
        path : str or path-like
            The file.
        key : bytes or str, optional
            The secret the file was signed with (required for signed files,
            refused for unsigned ones).

        Raises
        ------
        CorruptFileError
            The file is unreadable, tampered with, not a Dataset file, or its
            signature does not match ``key``.
        """
        from ._dataset_io import load_dataset

        return load_dataset(path, key=key)

    # -------------------------------------------------------------- summary
    def summary(self) -> dict[str, Any]:
        """Key figures of the Dataset as a dict (used by the demo report)."""
        hot = self.hot_user_mask()
        first, last = self.time_range
        out: dict[str, Any] = {
            "interactions": self.n_interactions,
            "users": self.n_users,
            "users_with_interactions": int(hot.sum()),
            "attribute_only_users": int((~hot).sum()),
            "items": self.n_items,
            "items_with_interactions": int(self.hot_item_mask().sum()),
            "density": self._matrix().nnz / max(1, self.n_users * self.n_items),
            "first_event": first,
            "last_event": last,
            "user_attributes": list(self._users.columns),
            "item_attributes": list(self._items.columns),
            "sensitive_columns": sorted(self._sensitive),
        }
        if Columns.EVENT in self._inter.columns:
            out["events"] = self._inter[Columns.EVENT].value_counts().to_dict()
        return out

    def __repr__(self) -> str:
        return (
            f"Dataset(n_users={self.n_users}, n_items={self.n_items}, "
            f"n_interactions={self.n_interactions})"
        )
