"""Apply a taxonomy to profiles: ``Tagger`` -> ``UserTags``; ``diff`` between two runs."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import persistence
from .._progress import get_logger, progress
from .._text import LOAD_PARAMETERS, SAVE_PARAMETERS, fill_doc
from .._types import ProfileSource
from .._validation import check_bool, check_instance, check_number, example_values
from ..columns import Columns
from ..exceptions import (
    CorruptFileError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    TaxonomyError,
    UnknownIdError,
)
from .expressions import TagExpression, parse_tag_expression
from .rules import Rule, RuleContext, _cond
from .taxonomy import LAYERS, Taxonomy

__all__ = ["Tagger", "UserTags", "diff", "diff_users"]

_log = get_logger(__name__)

CONFIDENCE = "confidence"
_BODY = persistence.Record(
    {"matrix": persistence.ENTRY, "user_ids": persistence.ENTRY,
     "tag_ids": persistence.ListOf(persistence.STR),
     "taxonomy": persistence.Typed((dict, type(None))),
     "as_of": persistence.Typed((str, type(None)))},
    open=True,
)


class UserTags:
    """Users x tags confidences (rolled up to ancestors) with their metadata.

    Usually produced by :meth:`Tagger.assign`.

    Parameters
    ----------
    matrix : scipy.sparse matrix, shape (n_users, n_tags)
        Confidence in (0, 1] of each assigned tag; absent = not assigned.
    user_ids : array-like
        External user id of each row.
    tag_ids : list of str
        Tag id of each column.
    taxonomy : Taxonomy, optional
        Gives layers, parents and sensitivity. Without it every tag is
        non-sensitive and the layer is unknown.
    as_of : pandas.Timestamp, optional
        The profiles' point in time.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> ut = UserTags(sp.csr_matrix(np.array([[1.0, 0.5], [0.0, 0.8]])), ["u1", "u2"], ["vip", "b"])
    >>> ut.users_with("b & !vip").tolist()
    ['u2']
    >>> ut.to_frame()
      user_id tag_id  confidence
    0      u1    vip         1.0
    1      u1      b         0.5
    2      u2      b         0.8
    """

    def __init__(
        self,
        matrix: Any,
        user_ids: Any,
        tag_ids: Iterable[str],
        *,
        taxonomy: Taxonomy | None = None,
        as_of: Any = None,
    ) -> None:
        if not sp.issparse(matrix):
            matrix = sp.csr_matrix(np.asarray(matrix, dtype=np.float32))
        m = sp.csr_matrix(matrix, dtype=np.float32)
        m.sum_duplicates()
        m.eliminate_zeros()
        users = np.asarray(user_ids)
        tags = [str(t) for t in tag_ids]
        if users.ndim != 1 or m.shape != (len(users), len(tags)):
            raise InvalidValueError(
                f"UserTags matrix has shape {m.shape} but there are {len(users)} user ids and "
                f"{len(tags)} tag ids."
            )
        if len(set(tags)) != len(tags):
            raise InvalidValueError("UserTags tag_ids must be unique.")
        if m.nnz and (m.data.min() < 0 or m.data.max() > 1 or not np.isfinite(m.data).all()):
            raise InvalidValueError("UserTags confidences must be in [0, 1].")
        if taxonomy is not None:
            missing = [t for t in tags if t not in taxonomy]
            if missing:
                raise UnknownIdError(f"UserTags tag ids {missing[:3]} are not in the taxonomy.")
        self._matrix = m
        self._users = users
        self._tags = tags
        self._index = {t: i for i, t in enumerate(tags)}
        self._taxonomy = taxonomy
        self._as_of = as_of
        self._sensitive = frozenset() if taxonomy is None else frozenset(
            t for t in tags if taxonomy.is_sensitive(t))

    # ------------------------------------------------------------------ basics
    @property
    def matrix(self) -> sp.csr_matrix:
        """csr float32 (n_users x n_tags) of confidences."""
        return self._matrix

    @property
    def user_ids(self) -> np.ndarray:
        """External user id of each row."""
        return self._users

    @property
    def tag_ids(self) -> list[str]:
        """Tag id of each column."""
        return list(self._tags)

    @property
    def tag_index(self) -> dict[str, int]:
        """Column of each tag id."""
        return dict(self._index)

    @property
    def taxonomy(self) -> Taxonomy | None:
        """The taxonomy the tags come from (None when built by hand)."""
        return self._taxonomy

    @property
    def as_of(self) -> Any:
        """The profiles' point in time (or None)."""
        return self._as_of

    @property
    def n_users(self) -> int:
        """Number of users (rows)."""
        return self._matrix.shape[0]

    @property
    def n_tags(self) -> int:
        """Number of tags (columns)."""
        return self._matrix.shape[1]

    @property
    def sensitive_ids(self) -> frozenset[str]:
        """Sensitive tag ids among the columns."""
        return self._sensitive

    def layer_of(self, tag_id: str) -> str | None:
        """Layer of a tag (None without a taxonomy)."""
        if tag_id not in self._index:
            raise UnknownIdError(f"Unknown tag id {tag_id!r}.")
        return None if self._taxonomy is None else self._taxonomy.layer_of(tag_id)

    def __repr__(self) -> str:
        return f"UserTags(n_users={self.n_users}, n_tags={self.n_tags}, n_assignments={self._matrix.nnz})"

    def _tag_mask(self, include_sensitive: bool) -> np.ndarray:
        check_bool(include_sensitive, "include_sensitive")
        keep = np.ones(self.n_tags, dtype=bool)
        if not include_sensitive:
            keep = np.array([t not in self._sensitive for t in self._tags], dtype=bool)
        return keep

    # ------------------------------------------------------------------ frames
    def to_frame(self, *, include_sensitive: bool = True) -> pd.DataFrame:
        """Tidy frame ``[user_id, tag_id, confidence]``, one row per assignment.

        Rows follow the user order, then the taxonomy order of tags.

        Parameters
        ----------
        include_sensitive : bool, default True
            Internal use keeps everything; use :meth:`export` for data that
            leaves the system.
        """
        keep = self._tag_mask(include_sensitive)
        m = self._matrix if keep.all() else self._matrix[:, np.flatnonzero(keep)]
        tags = np.asarray(self._tags, dtype=object)[keep] if len(self._tags) else np.array([], dtype=object)
        coo = m.tocoo()
        order = np.lexsort((coo.col, coo.row))
        return pd.DataFrame({
            Columns.USER: self._users[coo.row[order]],
            Columns.TAG: tags[coo.col[order]] if len(tags) else np.array([], dtype=object),
            CONFIDENCE: coo.data[order].astype(np.float32),
        })

    def export(self, *, include_sensitive: bool = False) -> pd.DataFrame:
        """What may leave the system: :meth:`to_frame` without sensitive tags unless asked.

        Parameters
        ----------
        include_sensitive : bool, default False
            Whether sensitive tags (and everything below them) are kept.
        """
        return self.to_frame(include_sensitive=include_sensitive)

    def without_sensitive(self) -> "UserTags":
        """A copy with the sensitive tag columns removed."""
        keep = self._tag_mask(False)
        tags = [t for t, k in zip(self._tags, keep) if k]
        tax = self._taxonomy.without(sorted(self.sensitive_ids & set(self._taxonomy.tag_ids))) \
            if self._taxonomy is not None and self.sensitive_ids else self._taxonomy
        return UserTags(self._matrix[:, np.flatnonzero(keep)], self._users, tags,
                        taxonomy=tax, as_of=self._as_of)

    def tags_of(self, user_id: Any) -> pd.Series:
        """Confidences of one user's tags (Series indexed by tag id, taxonomy order)."""
        pos = np.flatnonzero(self._users == user_id)
        if len(pos) == 0:
            raise UnknownIdError(f"Unknown user id {user_id!r}.")
        row = self._matrix.getrow(int(pos[0]))
        return pd.Series(row.data, index=pd.Index([self._tags[j] for j in row.indices], name=Columns.TAG),
                         name=CONFIDENCE, dtype=np.float32).sort_index(
            key=lambda idx: idx.map(self._index))

    # ------------------------------------------------------------------ counts
    def counts(self, by: str = "tag", *, include_sensitive: bool = True) -> pd.DataFrame:
        """Number of users per tag or per layer.

        Parameters
        ----------
        by : {"tag", "layer"}
            ``"tag"``: one row per tag with ``tag_id, name, layer, parent,
            sensitive, n_users, share, mean_confidence``. ``"layer"``: one row
            per layer with ``layer, n_tags, n_users`` (users with at least one
            tag of the layer), ``share``, ``n_assignments``.
        include_sensitive : bool, default True
            Whether sensitive tags are counted.

        Returns
        -------
        pandas.DataFrame
        """
        if by not in ("tag", "layer"):
            raise InvalidParameterError(f"The 'by' parameter of counts must be 'tag' or 'layer', got {by!r}.")
        keep = self._tag_mask(include_sensitive)
        m = self._matrix.tocsc()
        n_users = np.diff(m.indptr)
        sums = np.asarray(m.sum(axis=0)).ravel()
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_conf = np.where(n_users > 0, sums / np.maximum(n_users, 1), np.nan)
        tax = self._taxonomy
        layer = [tax.layer_of(t) if tax else None for t in self._tags]
        frame = pd.DataFrame({
            Columns.TAG: self._tags,
            "name": [tax[t].name or t if tax else t for t in self._tags],
            "layer": layer,
            "parent": [tax.parent_of(t) if tax else None for t in self._tags],
            "sensitive": [t in self._sensitive for t in self._tags],
            "n_users": n_users.astype(np.int64),
            "share": n_users / max(self.n_users, 1),
            "mean_confidence": mean_conf,
        })[keep].reset_index(drop=True)
        if by == "tag":
            return frame
        rows = []
        layer_arr = np.asarray(layer, dtype=object)
        for lyr in (LAYERS if tax else [None]):
            cols = np.flatnonzero((layer_arr == lyr) & keep) if tax else np.flatnonzero(keep)
            sub = self._matrix[:, cols]
            users = int((np.diff(sub.indptr) > 0).sum())
            rows.append({"layer": lyr, "n_tags": len(cols), "n_users": users,
                         "share": users / max(self.n_users, 1), "n_assignments": int(sub.nnz)})
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------ persistence
    @fill_doc(save_parameters=SAVE_PARAMETERS)
    def save(self, path: str | Path, *, key: bytes | str | None = None) -> Path:
        """Write to one compressed ``.npz`` (arrays + JSON header, no pickle).

        The taxonomy (if any) is stored with the tags, so :meth:`load` restores
        layers and sensitivity. User ids must be all integers or all strings.
        The format is the package's single file format (see
        ``docs/persistence.md``).

        {save_parameters}
        """
        users = self._users
        kind = pd.api.types.infer_dtype(users, skipna=False) if len(users) else "empty"
        if users.dtype.kind in "iu" or kind == "integer":  # also Python ints in an object array
            stored = users.astype(np.int64)
        elif kind in ("string", "empty"):
            stored = users.astype(object)
        else:
            raise InvalidDtypeError(
                "UserTags.save needs user ids that are all integers or all strings, got "
                f"{example_values(u for u in users if not isinstance(u, str))}."
            )
        arrays: dict[str, np.ndarray] = {}
        body = {
            "matrix": persistence.encode_value("matrix", sp.csr_matrix(self._matrix), arrays),
            "user_ids": persistence.encode_value("user_ids", stored, arrays),
            "tag_ids": list(self._tags),
            "taxonomy": None if self._taxonomy is None else self._taxonomy.to_dict(),
            "as_of": None if self._as_of is None else str(pd.Timestamp(self._as_of)),
        }
        return persistence.write_file(path, "user_tags", body, arrays, key=key)

    @classmethod
    @fill_doc(load_parameters=LOAD_PARAMETERS)
    def load(cls, path: str | Path, *, key: bytes | str | None = None) -> "UserTags":
        """Read a file written by :meth:`save`.

        {load_parameters}

        Raises
        ------
        CorruptFileError
            The file is unreadable, of another kind or format version,
            inconsistent, or its signature does not match ``key``.
        """
        header, arrays = persistence.read_file(path, "user_tags", key=key)
        try:
            _BODY.check(header, "header")
            if header["matrix"]["kind"] != "csr":
                raise CorruptFileError("the matrix must be stored as 'csr'.")
            m = persistence.decode_value("matrix", header["matrix"], arrays)
            users = np.asarray(persistence.decode_value("user_ids", header["user_ids"], arrays))
            if users.ndim != 1 or m.shape != (len(users), len(header["tag_ids"])):
                raise CorruptFileError(f"the matrix has shape {m.shape} for {len(users)} users "
                                       f"and {len(header['tag_ids'])} tags.")
            if users.dtype.kind == "U":
                users = users.astype(object)
            tax = None if header["taxonomy"] is None else Taxonomy.from_dict(header["taxonomy"])
            as_of = None if header["as_of"] is None else pd.Timestamp(header["as_of"])
            return cls(m, users, header["tag_ids"], taxonomy=tax, as_of=as_of)
        except CorruptFileError as exc:
            raise CorruptFileError(f"{path} holds an inconsistent UserTags: {exc}") from None
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError,
                RecursionError) as exc:
            raise CorruptFileError(f"{path} holds an inconsistent UserTags "
                                   f"({type(exc).__name__}: {exc}).") from None

    # ------------------------------------------------------------------ expressions
    def mask(self, expr: str | TagExpression, *, min_confidence: float = 0.0,
             allow_sensitive: bool = False) -> np.ndarray:
        """Boolean per user: does the user match the tag expression?

        Parameters
        ----------
        expr : str or TagExpression
            E.g. ``"interest/home & price_sensitive & !churned"``.
        min_confidence : float, default 0.0
            Tags with a lower confidence count as absent.
        allow_sensitive : bool, default False
            Whether sensitive tags may appear in ``expr``.

        Raises
        ------
        RuleSyntaxError, UnknownIdError, TaxonomyError
            Malformed expression, unknown tag, or a sensitive tag without
            ``allow_sensitive``.
        """
        e = parse_tag_expression(expr)
        e.validate(self, allow_sensitive=allow_sensitive)
        return e.evaluate_matrix(self._matrix, self._index, min_confidence=min_confidence)

    def users_with(self, expr: str | TagExpression, *, min_confidence: float = 0.0,
                   allow_sensitive: bool = False) -> np.ndarray:
        """External ids of the users matching a tag expression (see :meth:`mask`)."""
        return self._users[self.mask(expr, min_confidence=min_confidence, allow_sensitive=allow_sensitive)]


def _align(ut: UserTags, users: pd.Index, tags: pd.Index) -> sp.csr_matrix:
    coo = ut.matrix.tocoo()
    rows = users.get_indexer(pd.Index(ut.user_ids))[coo.row]
    cols = tags.get_indexer(pd.Index(ut.tag_ids))[coo.col]
    ok = cols >= 0
    m = sp.csr_matrix((coo.data[ok], (rows[ok], cols[ok])), shape=(len(users), len(tags)))
    m.sum_duplicates()
    return m


def _union_ids(old: UserTags, new: UserTags, include_sensitive: bool) -> tuple[pd.Index, pd.Index]:
    for name, ut in (("old", old), ("new", new)):
        check_instance(ut, UserTags, f"{name} must be a UserTags")
        if not pd.Index(ut.user_ids).is_unique:
            raise InvalidValueError(f"{name}.user_ids must be unique to compare UserTags.")
    users = pd.Index(old.user_ids).append(pd.Index(new.user_ids)).drop_duplicates()
    sens = set() if include_sensitive else (old.sensitive_ids | new.sensitive_ids)
    tags = [t for t in new.tag_ids if t not in sens]
    tags += [t for t in old.tag_ids if t not in sens and t not in set(new.tag_ids)]
    return users, pd.Index(tags, dtype=object)


def diff(old: UserTags, new: UserTags, *, include_sensitive: bool = False) -> pd.DataFrame:
    """Per tag: how many users gained, lost and kept it between two tag runs.

    Users are matched by external id; a user present in only one run has no
    tags in the other. Tags present in only one run are compared with "nobody".

    Parameters
    ----------
    old, new : UserTags
        The earlier and the later run.
    include_sensitive : bool, default False
        Whether sensitive tags are reported.

    Returns
    -------
    pandas.DataFrame
        Columns ``tag_id, n_old, n_new, gained, lost, kept, net`` (``net =
        gained - lost``), tags in ``new``'s order then old-only tags.

    Examples
    --------
    >>> import numpy as np
    >>> a = UserTags(np.array([[1, 0], [1, 1]]), [1, 2], ["x", "y"])
    >>> b = UserTags(np.array([[0, 1], [1, 1], [1, 0]]), [1, 2, 3], ["x", "y"])
    >>> diff(a, b)
      tag_id  n_old  n_new  gained  lost  kept  net
    0      x      2      2       1     1     1    0
    1      y      1      2       1     0     1    1
    """
    users, tags = _union_ids(old, new, include_sensitive)
    o = _align(old, users, tags) > 0
    n = _align(new, users, tags) > 0
    kept = o.multiply(n)
    n_old = np.asarray(o.sum(axis=0)).ravel().astype(np.int64)
    n_new = np.asarray(n.sum(axis=0)).ravel().astype(np.int64)
    n_kept = np.asarray(kept.sum(axis=0)).ravel().astype(np.int64)
    gained, lost = n_new - n_kept, n_old - n_kept
    return pd.DataFrame({Columns.TAG: tags.to_numpy(dtype=object), "n_old": n_old, "n_new": n_new,
                         "gained": gained, "lost": lost, "kept": n_kept, "net": gained - lost})


def diff_users(old: UserTags, new: UserTags, *, include_sensitive: bool = False) -> pd.DataFrame:
    """Per-user tag changes between two runs, tidy.

    Parameters
    ----------
    old, new : UserTags
        The earlier and the later run, matched by external user id as in :func:`diff`.
    include_sensitive : bool, default False
        Whether changes of sensitive tags are listed.

    Returns
    -------
    pandas.DataFrame
        Columns ``user_id, tag_id, change`` (``"gained"``/``"lost"``),
        ``old_confidence``, ``new_confidence`` (NaN when absent); sorted by
        user (union order: old's users first) then tag.

    Examples
    --------
    >>> import numpy as np
    >>> a = UserTags(np.array([[1, 0], [1, 1]]), [1, 2], ["x", "y"])
    >>> b = UserTags(np.array([[0, 1], [1, 1]]), [1, 2], ["x", "y"])
    >>> diff_users(a, b)[["user_id", "tag_id", "change"]]
       user_id tag_id  change
    0        1      x    lost
    1        1      y  gained
    """
    users, tags = _union_ids(old, new, include_sensitive)
    o = _align(old, users, tags)
    n = _align(new, users, tags)
    ob, nb = (o > 0).astype(np.int8), (n > 0).astype(np.int8)
    both = ob.multiply(nb)
    parts = []
    for label, m in (("gained", nb - both), ("lost", ob - both)):
        m = sp.csr_matrix(m)
        m.eliminate_zeros()
        c = m.tocoo()
        parts.append(pd.DataFrame({"_r": c.row, "_c": c.col, "change": label}))
    out = pd.concat(parts, ignore_index=True).sort_values(["_r", "_c"], kind="stable")
    r, c = out["_r"].to_numpy(), out["_c"].to_numpy()
    oc = np.asarray(o[r, c]).ravel() if len(r) else np.array([])
    nc = np.asarray(n[r, c]).ravel() if len(r) else np.array([])
    return pd.DataFrame({
        Columns.USER: users.to_numpy()[r],
        Columns.TAG: tags.to_numpy(dtype=object)[c],
        "change": out["change"].to_numpy(dtype=object),
        "old_confidence": np.where(oc > 0, oc, np.nan).astype(np.float32),
        "new_confidence": np.where(nc > 0, nc, np.nan).astype(np.float32),
    })


class Tagger:
    """Apply a :class:`Taxonomy` to profiles.

    Every tag with a rule is evaluated vectorised on the profile frame; its
    confidence comes from the tag's confidence expression (clipped to
    ``[confidence_floor, 1]``; a missing value gives ``confidence_floor``) or
    constant. Tags are then rolled up: every ancestor of an assigned tag is
    assigned with confidence ``max(own, children's)``. Roll-up stops at the
    boundary between a sensitive tag and a non-sensitive ancestor unless
    ``rollup_sensitive=True``, so a non-sensitive tag (e.g. ``basic``) never
    reveals a sensitive one.

    Parameters
    ----------
    taxonomy : Taxonomy
    confidence_floor : float, default 0.01
        Smallest confidence of an assigned tag (a tagged user stays tagged).
    rollup_sensitive : bool, default False
        Whether sensitive tags also roll up into non-sensitive ancestors.

    Examples
    --------
    >>> import pandas as pd
    >>> tax = Taxonomy.from_dict({"tags": [
    ...     {"id": "value", "layer": "value"},
    ...     {"id": "high_value", "parent": "value", "rule": "m_score >= 5",
    ...      "confidence": "monetary / 1000"}]})
    >>> frame = pd.DataFrame({"m_score": [5, 2], "monetary": [800.0, 10.0]},
    ...                      index=pd.Index(["a", "b"], name="user_id"))
    >>> Tagger(tax).assign(frame).to_frame()
      user_id      tag_id  confidence
    0       a       value         0.8
    1       a  high_value         0.8
    """

    def __init__(self, taxonomy: Taxonomy, *, confidence_floor: float = 0.01,
                 rollup_sensitive: bool = False) -> None:
        check_instance(taxonomy, Taxonomy, "taxonomy must be a Taxonomy")
        self.taxonomy = taxonomy
        self.confidence_floor = check_number(confidence_floor, "confidence_floor", low=0, high=1,
                                             low_inclusive=False, owner="Tagger")
        self.rollup_sensitive = check_bool(rollup_sensitive, "rollup_sensitive", owner="Tagger")

    def _rollup_children(self) -> list[list[int]]:
        """For each tag column, the child columns that roll up into it."""
        tax = self.taxonomy
        index = {t: i for i, t in enumerate(tax.tag_ids)}
        kids: list[list[int]] = [[] for _ in tax.tag_ids]
        for t in tax.tag_ids:
            p = tax.parent_of(t)
            if p is None:
                continue
            if tax.is_sensitive(t) and not tax.is_sensitive(p) and not self.rollup_sensitive:
                continue
            kids[index[p]].append(index[t])
        return kids

    def assign(self, profiles: ProfileSource, *, verbose: bool | None = None) -> UserTags:
        """Tag every user of ``profiles``.

        Start and end are logged (logger ``persona_rec``, INFO).

        Parameters
        ----------
        profiles : Profiles or pandas.DataFrame
            Anything with ``.frame`` (indexed by user id) and optionally
            ``.affinities``/``.sensitive_columns``/``.as_of``; or a frame.
        verbose : bool, optional
            Progress bar over the tags; default: the process-wide switch
            (:func:`persona_rec.set_verbose`, off unless turned on).

        Returns
        -------
        UserTags
            Users whose ``known_at_as_of`` profile column is False (first
            seen after the profiles' ``as_of``) keep a row without tags.

        Raises
        ------
        TaxonomyError
            A rule does not fit the profiles (names the tag and the column).
        """
        tax = self.taxonomy
        ctx = RuleContext(profiles)
        if not ctx.frame.index.is_unique:
            dup = ctx.frame.index[ctx.frame.index.duplicated()].unique()
            raise InvalidValueError(
                f"profiles.frame must have one row per user; duplicated user ids: {example_values(dup)}."
            )
        tax.validate(profiles)
        n_users, n_tags = ctx.n, len(tax)
        _log.info("tagging %s users with %d tags (taxonomy %s)", f"{n_users:,}", n_tags,
                  tax.version)
        start = time.perf_counter()
        own: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for j, tid in progress(enumerate(tax.tag_ids), verbose=verbose, desc="tags",
                               total=n_tags):
            rule = tax.rule_of(tid)
            if rule is None:
                continue
            try:
                hit = _cond(rule._root, ctx)
                if ctx.known_mask is not None:  # users first seen after as_of get no tags
                    hit = hit & ctx.known_mask
                rows = np.flatnonzero(hit)
                conf_src = tax.confidence_of(tid)
                if isinstance(conf_src, Rule):
                    conf = conf_src.values(ctx)[rows]
                    conf = np.where(np.isfinite(conf), conf, self.confidence_floor)
                    conf = np.clip(conf, self.confidence_floor, 1.0)
                else:
                    conf = np.full(len(rows), conf_src)
            except (InvalidValueError, TypeError, ValueError) as err:
                raise TaxonomyError(f"Tag {tid!r}: cannot evaluate rule {rule.text!r} on the "
                                    f"profiles: {err}") from None
            own[j] = (rows, conf.astype(np.float32))
        # roll-up, deepest tags first: a column = max(own, rolled-up children) per user
        kids = self._rollup_children()
        final: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        empty = (np.array([], dtype=np.int64), np.array([], dtype=np.float32))
        for j in sorted(range(n_tags), key=lambda k: -tax.depth_of(tax.tag_ids[k])):
            sources = ([own[j]] if j in own else []) + [final[c] for c in kids[j] if len(final[c][0])]
            if not sources:
                final[j] = empty
            elif len(sources) == 1:
                final[j] = sources[0]
            else:
                acc = np.zeros(n_users, dtype=np.float32)
                for r, v in sources:
                    acc[r] = np.maximum(acc[r], v)
                r = np.flatnonzero(acc)
                final[j] = (r, acc[r])
        rows = np.concatenate([final[j][0] for j in range(n_tags)]) if n_tags else empty[0]
        vals = np.concatenate([final[j][1] for j in range(n_tags)]) if n_tags else empty[1]
        cols = np.repeat(np.arange(n_tags), [len(final[j][0]) for j in range(n_tags)])
        m = sp.csr_matrix((vals, (rows, cols)), shape=(n_users, n_tags), dtype=np.float32)
        _log.info("tagged %s users: %s assignments in %.1fs", f"{n_users:,}", f"{m.nnz:,}",
                  time.perf_counter() - start)
        return UserTags(m, ctx.frame.index.to_numpy(), tax.tag_ids, taxonomy=tax,
                        as_of=getattr(profiles, "as_of", None))
