"""The :class:`Dataset`: users, items, behaviour events and their id maps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._text import LOAD_PARAMETERS, SAVE_PARAMETERS, fill_doc
from ._validation import as_timestamp
from .cleaning import CleaningReport
from .columns import Columns
from .exceptions import (
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
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


def _with_external_ids(rows: pd.DataFrame, user_map: IdMap, item_map: IdMap) -> pd.DataFrame:
    """Interaction rows with ``user_idx``/``item_idx`` turned into external ``user_id``/``item_id``.

    The other columns follow in their order; the index is a fresh RangeIndex.
    """
    out = {
        Columns.USER: user_map.to_external(rows[Columns.USER_IDX].to_numpy()),
        Columns.ITEM: item_map.to_external(rows[Columns.ITEM_IDX].to_numpy()),
    }
    for col in rows.columns:
        if col not in (Columns.USER_IDX, Columns.ITEM_IDX):
            out[col] = rows[col].to_numpy()
    return pd.DataFrame(out, index=pd.RangeIndex(len(rows)))


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
        event_map: Mapping[str, str] | Mapping[int, str] | None = None,
        columns: Mapping[str, str] | None = None,
        dayfirst: bool | None = None,
        time_format: str | None = None,
        epoch_unit: str | None = None,
    ) -> Dataset:
        """Build a Dataset from interaction, user and item frames.

        The rules (time, ids, numbers, cleaning) are documented with examples
        in ``docs/data-model.md``; the short version is below.

        Parameters
        ----------
        interactions : pandas.DataFrame
            One row per event. Required columns: ``user_id``, ``item_id``
            (str or int; see *Ids* below), ``timestamp`` (see *Time*).
            Optional: ``event`` (event type), ``weight`` (finite, >= 0),
            ``quantity`` (>= 0), ``price`` (unit price, >= 0), ``order_id``,
            ``session_id`` and ``category`` (used as item attributes when no
            ``items`` frame is given); any other column is kept as is.
            Quantity and price may be missing on non-purchase events
            (views have no price). Repeated (user, item) rows are kept as
            separate events (the matrix sums their weights); exact duplicate
            rows are dropped with ``clean=True`` and kept with a
            :class:`~persona_rec.exceptions.DuplicateRowWarning` otherwise.
        users : pandas.DataFrame, optional
            ``user_id`` plus attribute columns (age, gender, city, ...), one
            row per user. Users listed here without interactions are kept as
            attribute-only ("warm") users. A ``timezone`` column of IANA
            names (``"Asia/Shanghai"``) gives each user's local time.
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
            If False, every broken row rule is collected and one typed error
            lists them all (frame, rule, row count, first row, examples). If
            True the offending rows are dropped and counted per reason in
            :attr:`cleaning_reports` (exact duplicate rows, unparseable or
            out-of-range timestamps, missing or malformed ids, ...).
            Exact duplicate rows are the one exception in strict mode: they
            are kept (a second-resolution log can repeat a real event) with
            a :class:`~persona_rec.exceptions.DuplicateRowWarning` giving
            their count and examples.
        event_map : mapping of str (or int) to str, optional
            Renames event types before anything else, e.g.
            ``{"add_to_cart": "cart", "pageview": "view"}``. Unmapped types
            are kept. Int keys map integer event codes (``{1: "view",
            4: "purchase"}``); keys of the other kind than the column are
            refused.
        columns : mapping of str to str, optional
            Renames your columns to persona_rec's, in all three frames, e.g.
            ``{"customer": "user_id", "sku": "item_id", "ts": "timestamp"}``.
        dayfirst : bool, optional
            How to read numeric dates such as ``"05/03/2024"``: True for
            day/month/year, False for month/day/year. Such dates are refused
            without it (or ``time_format``).
        time_format : str, optional
            A ``strftime`` format for timestamp strings, e.g.
            ``"%d/%m/%Y %H:%M"``.
        epoch_unit : {"s", "ms", "us", "ns"}, optional
            Unit of numeric timestamps. By default it is read from the
            magnitude (below 1e11 seconds, below 1e14 milliseconds, below 1e17
            microseconds, else nanoseconds); a column mixing magnitudes is
            refused.

        Returns
        -------
        Dataset

        Notes
        -----
        *Time.* Timestamps are stored as naive UTC ``datetime64[ns]``. Values
        with a UTC offset (``"2024-03-01T10:00+01:00"``; mixed offsets across
        a DST change are fine) or a time-zone-aware dtype are converted to
        UTC and their offset is kept in an int16 ``utc_offset_min`` column
        (local time minus UTC, in minutes). A users ``timezone`` column takes
        precedence for that user's events: naive timestamps are then read as
        UTC, and the offset is that of the user's zone at the event's instant
        (DST included). Hour and weekday features (``preferred_hour``,
        send-time choice) use local time = ``timestamp + utc_offset_min``.
        Without any zone information naive timestamps are wall-clock times and
        no offset column is added. A column mixing values with and without an
        offset is refused.

        *Ids.* Ids are str or int. Each element of an object column is
        checked: missing/empty ids, bools, floats (``17850.0``), tuples and
        bytes are rule violations. Str ids are kept exactly, a trailing
        ``"\\x00"`` included (``"a"`` and ``"a\\x00"`` are two ids).
        The interactions' ids must be of the same kind as the users'/items'
        ids (str vs int): a mismatch is an :class:`InvalidDtypeError` naming
        both frames.

        Raises
        ------
        InvalidDtypeError
            A frame is not a DataFrame, a column has the wrong dtype, id kinds
            differ between frames, or (``clean=False``) an id element is a
            bool/float/tuple.
        MissingColumnError
            A required column is missing.
        EmptyInputError
            ``interactions`` is empty (before or after cleaning).
        InvalidValueError
            Duplicate column names; ambiguous day/month dates, offsets mixed
            with bare times or mixed epoch magnitudes in ``timestamp``; an
            item with two categories in the events' ``category``; or
            (``clean=False``) rows that break rules: missing id, unparseable or
            out-of-range timestamp, negative/non-finite/overflowing
            quantity, price or weight, unknown event type. The error
            carries every violation in ``err.violations`` and
            is of the class of the first one.
        DuplicateIdError
            ``users`` or ``items`` lists an id twice (``clean=False``).
        UnknownIdError
            An interaction refers to an item absent from ``items``
            (``clean=False``).
        InvalidParameterError
            ``event_weights``, ``event_map``, ``columns``, ``dayfirst``,
            ``time_format`` or ``epoch_unit`` is invalid.

        Examples
        --------
        >>> import pandas as pd
        >>> inter = pd.DataFrame({
        ...     "customer": ["a", "a", "b", "b"],
        ...     "sku": [1, 2, 1, 1],
        ...     "ts": ["2024-03-30T10:00+01:00", "2024-04-02T10:00+02:00",
        ...            "2024-04-02T10:00+08:00", "2024-04-02T10:00+08:00"],
        ...     "event": ["view", "add_to_cart", "purchase", "purchase"],
        ...     "quantity": [None, None, 1, 1], "price": [None, None, 9.5, 9.5],
        ... })
        >>> ds = Dataset.from_frames(inter, columns={"customer": "user_id", "sku": "item_id",
        ...                          "ts": "timestamp"}, event_map={"add_to_cart": "cart"},
        ...                          clean=True)
        >>> print(ds.cleaning_reports[0])
        interactions: 4 rows in, 3 kept, 1 removed
          - duplicate_row                        1  a row must not repeat an earlier row
            exactly (same value in every column); the first is kept
        >>> ds.interactions[["user_id", "timestamp", "event", "utc_offset_min"]]
          user_id           timestamp event  utc_offset_min
        0       a 2024-03-30 09:00:00  view              60
        1       a 2024-04-02 08:00:00  cart             120
        2       b 2024-04-02 02:00:00  purchase             480
        """
        from ._ingest import ingest

        parts = ingest(
            interactions,
            users,
            items,
            event_weights=DEFAULT_EVENT_WEIGHTS if event_weights is None else event_weights,
            sensitive=sensitive,
            clean=clean,
            event_map=event_map,
            columns=columns,
            dayfirst=dayfirst,
            time_format=time_format,
            epoch_unit=epoch_unit,
            sensitive_defaults=DEFAULT_SENSITIVE_COLUMNS,
        )
        return cls(**parts)

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
        return _with_external_ids(self._inter, self._user_map, self._item_map)

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
                    (df[Columns.USER_IDX].to_numpy(), df[Columns.ITEM_IDX].to_numpy()),
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
        mask[self._inter[Columns.USER_IDX].to_numpy()] = True
        return mask

    def hot_item_mask(self) -> np.ndarray:
        """Boolean array over internal items: True where the item has interactions."""
        mask = np.zeros(self.n_items, dtype=bool)
        mask[self._inter[Columns.ITEM_IDX].to_numpy()] = True
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
        m = sel[self._inter[Columns.USER_IDX].to_numpy()]
        return self._with_inter(self._inter.loc[m if keep else ~m])

    def filter_items(self, item_ids: Any, *, keep: bool = True) -> Dataset:
        """Keep (or drop) the interactions with ``item_ids``; unknown ids are ignored."""
        idx = self._item_map.to_internal(item_ids, strict=False)
        sel = np.zeros(self.n_items, dtype=bool)
        sel[idx[idx >= 0]] = True
        m = sel[self._inter[Columns.ITEM_IDX].to_numpy()]
        return self._with_inter(self._inter.loc[m if keep else ~m])

    # ---------------------------------------------------------- persistence
    @fill_doc(save_parameters=SAVE_PARAMETERS)
    def save(self, path: Any, *, key: bytes | str | None = None) -> Any:
        """Write the Dataset to one ``.npz`` file (arrays + JSON header, no pickle).

        See ``docs/persistence.md`` for the format and its guarantees.

        {save_parameters}
        """
        from ._dataset_io import save_dataset

        return save_dataset(self, path, key=key)

    @classmethod
    @fill_doc(load_parameters=LOAD_PARAMETERS)
    def load(cls, path: Any, *, key: bytes | str | None = None) -> Dataset:
        """Load a Dataset written by :meth:`save` (no pickle, bounded memory).

        {load_parameters}

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
