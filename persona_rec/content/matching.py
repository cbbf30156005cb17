"""Content marketing: match articles, videos and posts to users by interest tags, with explanations.

A content catalogue has one row per piece: ``content_id``, ``tags`` (tag ids of
the taxonomy, ``|``-joined or a list, e.g. ``interest/home|interest/home/kitchen``),
optionally ``target_category`` (a category path such as ``"Home > Kitchen"``,
turned into ``interest/home/kitchen`` tags), ``title`` and ``text``.

:class:`ContentMatcher` represents each piece from the item side: TF-IDF over
its tag tokens (every tag plus its ancestors, so ``interest/home/kitchen`` also
counts as ``interest/home``) and, optionally, the words of its title/text
mapped onto the same tag vocabulary. A user is the vector of their tag
confidences (:class:`~persona_rec.tags.UserTags`) over that vocabulary. The
score is the dot product of the L2-normalised vectors (cosine), and the
explanation names the tags contributing most.

Privacy follows :func:`~persona_rec.marketing.select_audience`: tags flagged
sensitive in the taxonomy (``user_tags.sensitive_ids``) take no part in
matching and are never named unless ``allow_sensitive=True``, and
:meth:`ContentMatcher.audience` refuses audiences below
``min_audience_size`` (default 50) with
:class:`~persona_rec.exceptions.AudienceTooSmallError`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._text import slugify_values
from .._validation import (
    check_audience_size,
    check_bool,
    check_frame,
    check_int,
    check_number,
)
from ..columns import Columns
from ..exceptions import (
    InvalidDtypeError,
    InvalidValueError,
    NotFittedError,
    UnknownIdError,
)

__all__ = ["ContentMatcher"]


def _tag_lists(content: pd.DataFrame) -> list[list[str]]:
    out: list[list[str]] = []
    raw = content["tags"] if "tags" in content.columns else pd.Series([[]] * len(content))
    cats = content["target_category"] if "target_category" in content.columns else None
    for i, v in enumerate(raw.to_numpy()):
        if isinstance(v, str):
            tags = [t.strip() for t in v.split("|") if t.strip()]
        elif isinstance(v, (list, tuple, np.ndarray)):
            tags = [str(t) for t in v]
        elif v is None or (isinstance(v, float) and np.isnan(v)):
            tags = []
        else:
            raise InvalidDtypeError(
                f"content column 'tags' must hold '|'-joined strings or lists, got {v!r} in row {i}."
            )
        if cats is not None and isinstance(cats.iloc[i], str):
            parts = [p.strip() for p in cats.iloc[i].split(">")]
            slugs = slugify_values(parts)
            tags.append("interest/" + "/".join(slugs))
        # every ancestor counts too
        full: list[str] = []
        for t in tags:
            bits = t.split("/")
            full.extend("/".join(bits[: j + 1]) for j in range(1, len(bits)))
            if len(bits) == 1:
                full.append(t)
        out.append(sorted(set(full)))
    return out


class ContentMatcher:
    """Score content pieces for users by their tags (TF-IDF from the item side).

    Parameters
    ----------
    tag_prefixes : tuple of str, default ("interest/",)
        Only tags starting with one of these take part in matching.
    min_score : float, default 0.0
        Pairs scoring at or below this are never returned.

    Attributes
    ----------
    content_ids_ : numpy.ndarray
    vocabulary_ : list of str
        Tag ids used for matching.
    content_vectors_ : scipy.sparse.csr_matrix
        L2-normalised TF-IDF of the content over ``vocabulary_``.

    Examples
    --------
    >>> import numpy as np, pandas as pd, scipy.sparse as sp
    >>> from persona_rec.tags import UserTags
    >>> content = pd.DataFrame({"content_id": ["c1", "c2"], "tags": ["interest/home/kitchen", "interest/books"]})
    >>> ut = UserTags(sp.csr_matrix(np.array([[1.0, 0.9, 0.0], [0.0, 0.0, 1.0]])), ["u1", "u2"],
    ...               ["interest/home", "interest/home/kitchen", "interest/books"])
    >>> m = ContentMatcher().fit(content)
    >>> rec = m.recommend(ut, ["u1", "u2"], k=1)
    >>> rec[["user_id", "content_id", "rank"]].values.tolist()
    [['u1', 'c1', 1], ['u2', 'c2', 1]]
    >>> rec["reason"].tolist()
    ['matches interest/home (1.00), interest/home/kitchen (0.90)', 'matches interest/books (1.00)']
    """

    def __init__(self, *, tag_prefixes: tuple[str, ...] = ("interest/",), min_score: float = 0.0) -> None:
        if isinstance(tag_prefixes, str) or not all(isinstance(p, str) for p in tag_prefixes):
            raise InvalidDtypeError(f"tag_prefixes must be a tuple of str, got {tag_prefixes!r}.")
        self.tag_prefixes = tuple(tag_prefixes)
        self.min_score = check_number(min_score, "min_score", low=0, owner="ContentMatcher")

    def fit(self, content: pd.DataFrame) -> ContentMatcher:
        """Build the content vectors.

        Raises
        ------
        MissingColumnError, EmptyInputError
            No ``content_id`` column; no rows.
        InvalidValueError
            Repeated or missing content ids, or no tag to match on.
        """
        check_frame(content, "content", ["content_id"])
        ids = content["content_id"]
        if ids.isna().any() or not ids.is_unique:
            dup = ids[ids.duplicated() | ids.isna()].unique()[:3].tolist()
            raise InvalidValueError(f"content 'content_id' must be unique and not missing; got {dup}.")
        lists = _tag_lists(content)
        vocab = sorted({t for ts in lists for t in ts if t.startswith(self.tag_prefixes)})
        if not vocab:
            raise InvalidValueError(
                f"content has no tag starting with {list(self.tag_prefixes)}; nothing to match on."
            )
        pos = {t: j for j, t in enumerate(vocab)}
        rows = np.repeat(np.arange(len(lists)), [sum(t in pos for t in ts) for ts in lists])
        cols = np.array([pos[t] for ts in lists for t in ts if t in pos], dtype=np.int64)
        tf = sp.csr_matrix((np.ones(cols.size), (rows, cols)), shape=(len(lists), len(vocab)))
        df = np.bincount(cols, minlength=len(vocab))
        idf = np.log((1 + len(lists)) / (1 + df)) + 1.0  # sklearn's smooth idf
        x = tf @ sp.diags(idf)
        norm = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        self.content_vectors_ = sp.csr_matrix(sp.diags(1 / np.maximum(norm, 1e-12)) @ x)
        self.content_ids_ = ids.to_numpy()
        self.vocabulary_ = vocab
        self._titles = content["title"].to_numpy() if "title" in content.columns else None
        return self

    def _check(self) -> None:
        if not hasattr(self, "content_vectors_"):
            raise NotFittedError("ContentMatcher is not fitted; call fit(content) first.")

    def _users(self, user_tags: Any, user_ids: Any,
               allow_sensitive: bool) -> tuple[np.ndarray, sp.csr_matrix, sp.csr_matrix]:
        if not hasattr(user_tags, "matrix") or not hasattr(user_tags, "tag_index"):
            raise InvalidDtypeError(f"user_tags must be a UserTags, got {type(user_tags).__name__}.")
        all_ids = np.asarray(user_tags.user_ids, dtype=object)
        if user_ids is None:
            rows = np.arange(all_ids.size)
        else:
            want = np.asarray(list(user_ids), dtype=object)
            rows = pd.Index(all_ids).get_indexer(want)
            if (rows < 0).any():
                raise UnknownIdError(f"user_ids has ids without tags, e.g. {want[rows < 0][:3].tolist()}.")
        index = user_tags.tag_index
        hidden = set() if allow_sensitive else set(getattr(user_tags, "sensitive_ids", ()) or ())
        cols = np.array([-1 if t in hidden else index.get(t, -1) for t in self.vocabulary_])
        m = user_tags.matrix[rows].tocsc()
        have = cols >= 0
        u = sp.csr_matrix((rows.size, len(self.vocabulary_)), dtype=np.float64)
        if have.any():
            sub = m[:, cols[have]]
            u = sp.csr_matrix(sub @ sp.csr_matrix(
                (np.ones(int(have.sum())), (np.arange(int(have.sum())), np.flatnonzero(have))),
                shape=(int(have.sum()), len(self.vocabulary_))))
        norm = np.sqrt(np.asarray(u.multiply(u).sum(axis=1)).ravel())
        u_norm = sp.csr_matrix(sp.diags(1 / np.maximum(norm, 1e-12)) @ u)
        return all_ids[rows], u_norm, u

    def _reasons(self, u_raw: sp.csr_matrix, urow: np.ndarray, crow: np.ndarray, n: int = 2) -> list[str]:
        out = []
        cv = self.content_vectors_
        for i, j in zip(urow, crow):
            a = u_raw.getrow(i)
            c = cv.getrow(j)
            common = np.intersect1d(a.indices, c.indices)
            if common.size == 0:
                out.append("")
                continue
            contrib = c[:, common].toarray().ravel() * a[:, common].toarray().ravel()
            best = common[np.argsort(-contrib, kind="stable")[:n]]
            conf = a[:, best].toarray().ravel()
            out.append("matches " + ", ".join(f"{self.vocabulary_[b]} ({v:.2f})" for b, v in zip(best, conf)))
        return out

    def scores(self, user_tags: Any, user_ids: Any = None, *,
               allow_sensitive: bool = False) -> pd.DataFrame:
        """Dense users x content score matrix as a DataFrame (small audiences only).

        Parameters
        ----------
        user_tags : UserTags
        user_ids : array-like, optional
            Default every user of ``user_tags``.
        allow_sensitive : bool, default False
            Whether tags flagged sensitive (``user_tags.sensitive_ids``) take
            part in matching.

        Returns
        -------
        pandas.DataFrame
            Users (index ``user_id``) x content ids, cosine scores.
        """
        self._check()
        allow_sensitive = check_bool(allow_sensitive, "allow_sensitive", owner="ContentMatcher.scores")
        ids, u, _ = self._users(user_tags, user_ids, allow_sensitive)
        s = (u @ self.content_vectors_.T).toarray()
        return pd.DataFrame(s, index=pd.Index(ids, name=Columns.USER), columns=self.content_ids_)

    def recommend(self, user_tags: Any, user_ids: Any = None, *, k: int = 5,
                  exclude: pd.DataFrame | None = None,
                  allow_sensitive: bool = False) -> pd.DataFrame:
        """Top-``k`` content per user with the reason.

        Parameters
        ----------
        user_tags : UserTags
        user_ids : array-like, optional
            Default every user of ``user_tags``.
        k : int, default 5
        exclude : pandas.DataFrame, optional
            ``user_id, content_id`` pairs not to recommend (already seen).
        allow_sensitive : bool, default False
            Whether tags flagged sensitive (``user_tags.sensitive_ids``) take
            part in matching and may be named in ``reason``.

        Returns
        -------
        pandas.DataFrame
            ``user_id, content_id, score, rank, reason``; users without any
            matching tag get no rows.
        """
        self._check()
        k = check_int(k, "k", minimum=1, owner="ContentMatcher.recommend")
        allow_sensitive = check_bool(allow_sensitive, "allow_sensitive",
                                     owner="ContentMatcher.recommend")
        ids, u, raw = self._users(user_tags, user_ids, allow_sensitive)
        s = (u @ self.content_vectors_.T).toarray()
        if exclude is not None:
            check_frame(exclude, "exclude", [Columns.USER, "content_id"], allow_empty=True)
            r = pd.Index(ids).get_indexer(exclude[Columns.USER].to_numpy())
            c = pd.Index(self.content_ids_).get_indexer(exclude["content_id"].to_numpy())
            ok = (r >= 0) & (c >= 0)
            s[r[ok], c[ok]] = -np.inf
        kk = min(k, s.shape[1])
        top = np.argsort(-s, axis=1, kind="stable")[:, :kk]  # ties: catalogue order
        val = np.take_along_axis(s, top, axis=1)
        urow = np.repeat(np.arange(ids.size), kk)
        crow, score = top.ravel(), val.ravel()
        keep = score > self.min_score
        urow, crow, score = urow[keep], crow[keep], score[keep]
        out = pd.DataFrame({Columns.USER: ids[urow], "content_id": self.content_ids_[crow], Columns.SCORE: score})
        out[Columns.RANK] = out.groupby(Columns.USER, sort=False).cumcount() + 1
        out["reason"] = self._reasons(raw, urow, crow)
        return out.reset_index(drop=True)

    def audience(self, content_id: Any, user_tags: Any, *, n: int | None = 100,
                 expression: str | None = None, allow_sensitive: bool = False,
                 min_audience_size: int = 50) -> pd.DataFrame:
        """Who should get this piece: the best-matching users, optionally within a tag expression.

        Parameters
        ----------
        content_id : Any
        user_tags : UserTags
        n : int or None, default 100
            Audience size (None = every user scoring above ``min_score``).
        expression : str, optional
            Tag expression the users must match (e.g. ``"!feedback/detractor"``).
        allow_sensitive : bool, default False
            Whether tags flagged sensitive (``user_tags.sensitive_ids``) may
            be used in ``expression``, take part in matching and be named in
            ``reason`` (as in :func:`~persona_rec.marketing.select_audience`).
        min_audience_size : int, default 50
            Privacy floor: a smaller audience raises
            :class:`~persona_rec.exceptions.AudienceTooSmallError` (set 1 to
            disable).

        Returns
        -------
        pandas.DataFrame
            ``user_id, score, rank, reason``.

        Raises
        ------
        UnknownIdError
            ``content_id`` is not in the fitted catalogue.
        TaxonomyError
            ``expression`` uses a sensitive tag without ``allow_sensitive``.
        AudienceTooSmallError
            Fewer than ``min_audience_size`` users remain.
        """
        self._check()
        allow_sensitive = check_bool(allow_sensitive, "allow_sensitive",
                                     owner="ContentMatcher.audience")
        min_size = check_int(min_audience_size, "min_audience_size", minimum=1,
                             owner="ContentMatcher.audience")
        pos = np.flatnonzero(self.content_ids_ == content_id)
        if pos.size == 0:
            raise UnknownIdError(f"content_id {content_id!r} is not in the fitted catalogue.")
        ids = None if expression is None else user_tags.users_with(
            expression, allow_sensitive=allow_sensitive)
        uid, u, raw = self._users(user_tags, ids, allow_sensitive)
        s = np.asarray((u @ self.content_vectors_[pos[0]].T).todense()).ravel()
        order = np.lexsort((np.arange(s.size), -s))
        order = order[s[order] > self.min_score]
        if n is not None:
            order = order[: check_int(n, "n", minimum=1, owner="ContentMatcher.audience")]
        check_audience_size(
            int(order.size), min_size,
            f"content {content_id!r} matches too few users (privacy rule). Widen the expression "
            f"or target a broader piece.")
        out = pd.DataFrame({Columns.USER: uid[order], Columns.SCORE: s[order],
                            Columns.RANK: np.arange(1, order.size + 1)})
        out["reason"] = self._reasons(raw, order, np.full(order.size, pos[0]))
        return out
