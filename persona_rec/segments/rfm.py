"""RFM segment maps: named regions of the (recency score, frequency/monetary score) grid."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._types import ProfileSource
from .._validation import check_choice, check_instance, example_values
from ..exceptions import (
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    MissingColumnError,
    UnknownIdError,
)
from ._result import SUPPRESSED, Segmentation, _profile_frame

__all__ = ["RFMSegmentMap", "rfm_segments", "DEFAULT_RFM_REGIONS"]

#: Default segment map: segment -> regions ``"<r><x>"`` of the 5 x 5 grid of
#: recency score (first character) by the x score (second; by default
#: ``fm`` = (f_score + m_score) / 2 rounded half up). ``[a-b]`` is a range.
#: Order = display order, best customers first.
DEFAULT_RFM_REGIONS: dict[str, tuple[str, ...]] = {
    "champions": ("5[4-5]",),
    "loyal": ("[3-4][4-5]",),
    "potential": ("[4-5][2-3]", "33"),
    "new": ("[4-5]1",),
    "at_risk": ("[1-2][3-5]",),
    "hibernating": ("3[1-2]", "2[1-2]"),
    "lost": ("1[1-2]",),
}

_SPEC = r"(?:[1-5]|\[[1-5]-[1-5]\]|\[[1-5]+\])"
_PATTERN = re.compile(rf"^({_SPEC})({_SPEC})$")
_X_CHOICES = ("fm", "f", "m")


def _expand(spec: str) -> list[int]:
    if len(spec) == 1:
        return [int(spec)]
    body = spec[1:-1]
    if "-" in body:
        lo, hi = int(body[0]), int(body[2])
        return list(range(lo, hi + 1))
    return sorted({int(c) for c in body})


class RFMSegmentMap:
    """A configurable map from RFM scores to named segments.

    The classic RFM "segment map" draws recency score (R, 1-5, 5 = most
    recent) against a frequency/monetary score and names regions of the
    5 x 5 grid. Each segment lists one or more region patterns
    ``"<r><x>"`` where each side is a digit ``1``-``5``, a range ``[a-b]``
    or a set ``[abc]``: ``"5[4-5]"`` is R = 5 and x in {4, 5}. Together the
    patterns must cover the 25 cells exactly once.

    The default map (:data:`DEFAULT_RFM_REGIONS`), with x = FM =
    (f_score + m_score) / 2 rounded half up::

                 FM=1         FM=2         FM=3       FM=4       FM=5
        R=5      new          potential    potential  champions  champions
        R=4      new          potential    potential  loyal      loyal
        R=3      hibernating  hibernating  potential  loyal      loyal
        R=2      hibernating  hibernating  at_risk    at_risk    at_risk
        R=1      lost         lost         at_risk    at_risk    at_risk

    Users without any purchase have no scores (NaN); they get
    ``no_purchase`` (``"prospect"`` by default, or no segment when None).

    Parameters
    ----------
    regions : mapping of str to str or sequence of str, optional
        Segment name -> region pattern(s), in display order. Default
        :data:`DEFAULT_RFM_REGIONS`.
    x : {"fm", "f", "m"}, default "fm"
        The horizontal score: mean of f_score and m_score rounded half up,
        f_score alone or m_score alone.
    no_purchase : str or None, default "prospect"
        Segment of users with no recency score (no purchase); None leaves
        them unassigned (NaN).

    Raises
    ------
    InvalidParameterError
        A pattern is malformed, a cell is covered twice or not at all, or a
        name is empty / reserved.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame(
    ...     {"r_score": [5, 1, 3, None], "f_score": [5, 1, 4, None], "m_score": [4, 2, 5, None]},
    ...     index=pd.Index(["a", "b", "c", "d"], name="user_id"))
    >>> RFMSegmentMap().assign(frame).labels.tolist()
    ['champions', 'lost', 'loyal', 'prospect']
    >>> RFMSegmentMap({"recent": "[4-5][1-5]", "lapsed": "[1-3][1-5]"}, x="f").segments
    ['recent', 'lapsed', 'prospect']
    """

    def __init__(
        self,
        regions: Mapping[str, str | Sequence[str]] | None = None,
        *,
        x: str = "fm",
        no_purchase: str | None = "prospect",
    ) -> None:
        self.x = check_choice(x, "x", _X_CHOICES, owner="RFMSegmentMap")
        if no_purchase is not None and (not isinstance(no_purchase, str) or not no_purchase):
            raise InvalidParameterError(
                f"The 'no_purchase' parameter of RFMSegmentMap must be a non-empty str or None, "
                f"got {no_purchase!r}."
            )
        self.no_purchase = no_purchase
        if regions is None:
            regions = DEFAULT_RFM_REGIONS
        if not isinstance(regions, Mapping) or not regions:
            raise InvalidParameterError(
                f"The 'regions' parameter of RFMSegmentMap must be a non-empty mapping "
                f"segment -> pattern(s), got {regions!r}."
            )
        grid = np.full((5, 5), None, dtype=object)  # grid[r-1, x-1]
        normalised: dict[str, tuple[str, ...]] = {}
        for name, patterns in regions.items():
            if not isinstance(name, str) or not name or name == SUPPRESSED:
                raise InvalidParameterError(
                    f"RFMSegmentMap segment names must be non-empty str other than "
                    f"'{SUPPRESSED}', got {name!r}."
                )
            if name == no_purchase:
                raise InvalidParameterError(
                    f"RFMSegmentMap segment {name!r} clashes with no_purchase={no_purchase!r}."
                )
            pats = (patterns,) if isinstance(patterns, str) else tuple(patterns)
            if not pats:
                raise InvalidParameterError(f"RFMSegmentMap segment {name!r} has no region pattern.")
            for pat in pats:
                m = _PATTERN.match(pat) if isinstance(pat, str) else None
                if m is None:
                    raise InvalidParameterError(
                        f"RFMSegmentMap region {pat!r} of segment {name!r} is malformed: expected "
                        f"'<r><x>' with each side a digit 1-5, a range like [4-5] or a set like "
                        f"[135], e.g. '5[4-5]'."
                    )
                for r in _expand(m.group(1)):
                    for xv in _expand(m.group(2)):
                        other = grid[r - 1, xv - 1]
                        if other is not None:
                            raise InvalidParameterError(
                                f"RFMSegmentMap cell R={r}, {self.x.upper()}={xv} is claimed by both "
                                f"{other!r} and {name!r} (region {pat!r}); regions must not overlap."
                            )
                        grid[r - 1, xv - 1] = name
            normalised[name] = pats
        holes = [f"R={r + 1},{self.x.upper()}={c + 1}" for r, c in zip(*np.nonzero(grid == None))]  # noqa: E711
        if holes:
            raise InvalidParameterError(
                f"RFMSegmentMap regions leave {len(holes)} cell(s) of the 5x5 grid uncovered, "
                f"e.g. {holes[:5]}; every (R, {self.x.upper()}) cell needs a segment."
            )
        self.regions = normalised
        self._grid = grid

    @classmethod
    def default(cls, **options: Any) -> RFMSegmentMap:
        """The default map (see the class docstring); ``options`` go to ``__init__``."""
        return cls(None, **options)

    @property
    def segments(self) -> list[str]:
        """Segment names in display order (``no_purchase`` last)."""
        names = list(self.regions)
        if self.no_purchase is not None:
            names.append(self.no_purchase)
        return names

    def grid(self) -> pd.DataFrame:
        """The 5 x 5 map as a DataFrame (rows R = 5..1, columns x = 1..5).

        Examples
        --------
        >>> RFMSegmentMap().grid().loc[5].tolist()
        ['new', 'potential', 'potential', 'champions', 'champions']
        """
        out = pd.DataFrame(
            self._grid[::-1],
            index=pd.Index([5, 4, 3, 2, 1], name="R"),
            columns=pd.Index([1, 2, 3, 4, 5], name=self.x.upper()),
        )
        return out

    def rename(self, mapping: Mapping[str, str]) -> RFMSegmentMap:
        """Return a map with segments renamed; names mapped to the same new name merge.

        Raises
        ------
        UnknownIdError
            A key is not a segment of this map.

        Examples
        --------
        >>> RFMSegmentMap().rename({"lost": "hibernating"}).segments
        ['champions', 'loyal', 'potential', 'new', 'at_risk', 'hibernating', 'prospect']
        """
        unknown = [k for k in mapping if k not in self.segments]
        if unknown:
            raise UnknownIdError(
                f"rename names unknown RFM segment label(s) {unknown}; known: {self.segments}."
            )
        regions: dict[str, list[str]] = {}
        for name, pats in self.regions.items():
            regions.setdefault(str(mapping.get(name, name)), []).extend(pats)
        no_purchase = self.no_purchase
        if no_purchase is not None:
            no_purchase = str(mapping.get(no_purchase, no_purchase))
        return RFMSegmentMap(regions, x=self.x, no_purchase=no_purchase)

    def __repr__(self) -> str:
        return f"RFMSegmentMap(segments={self.segments}, x={self.x!r})"

    def _scores(self, frame: pd.DataFrame, column: str) -> np.ndarray:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            raise InvalidDtypeError(
                f"profiles['{column}'] must be numeric (1-5 or NaN), got dtype {frame[column].dtype}."
            )
        values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
        ok = np.isnan(values) | np.isin(values, [1.0, 2.0, 3.0, 4.0, 5.0])
        if not ok.all():
            raise InvalidValueError(
                f"profiles['{column}'] must hold integer scores 1-5 (or NaN for users without "
                f"purchases); {int((~ok).sum())} value(s) break this, e.g. "
                f"{example_values(values[~ok])}."
            )
        return values

    def assign(self, profiles: ProfileSource) -> Segmentation:
        """Assign every user of ``profiles`` to a segment.

        Parameters
        ----------
        profiles : Profiles or pandas.DataFrame
            ``.frame`` (or the frame itself) indexed by ``user_id`` with
            ``r_score`` and ``f_score``/``m_score`` (as ``x`` needs).

        Returns
        -------
        Segmentation
            ``method="rfm"``; ``info`` holds the grid.

        Raises
        ------
        MissingColumnError
            A score column is missing.
        InvalidValueError
            A score is not an integer 1-5, or R is known but x is NaN.
        """
        frame = _profile_frame(profiles)
        needed = ["r_score"] + (["f_score", "m_score"] if self.x == "fm" else [f"{self.x}_score"])
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise MissingColumnError(
                f"profiles is missing RFM score column(s) {missing} needed by RFMSegmentMap(x="
                f"{self.x!r}); it has {list(frame.columns)}."
            )
        r = self._scores(frame, "r_score")
        no_r = np.isnan(r)
        parts = {c: self._scores(frame, c) for c in needed[1:]}
        if "m_score" in parts and (bad_m := ~no_r & np.isnan(parts["m_score"])).any():
            raise InvalidValueError(
                f"profiles has no m_score for {int(bad_m.sum())} of {int((~no_r).sum())} buyer(s) "
                f"(e.g. {example_values(frame.index[bad_m])}): their monetary value is unknown "
                f"because (some of) their purchases have no price. RFMSegmentMap(x={self.x!r}) needs "
                f"the monetary score: give the purchase events a 'price' column (unit price "
                f"paid) or the items a 'price' attribute (list price), or segment without it: "
                f"RFMSegmentMap(x='f') (recency x frequency only)."
            )
        if self.x == "fm":
            xs = np.floor((parts["f_score"] + parts["m_score"]) / 2.0 + 0.5)
        else:
            xs = parts[f"{self.x}_score"]
        bad = ~no_r & np.isnan(xs)
        if bad.any():
            raise InvalidValueError(
                f"profiles has {int(bad.sum())} user(s) with r_score but no "
                f"{'f_score/m_score' if self.x == 'fm' else self.x + '_score'}, e.g. "
                f"{example_values(frame.index[bad])}."
            )
        names = self.segments
        code_of = {n: i for i, n in enumerate(names)}
        code_grid = np.vectorize(lambda n: code_of[n])(self._grid).astype(np.int64)
        codes = np.full(len(frame), -1, dtype=np.int64)
        has = ~no_r
        codes[has] = code_grid[r[has].astype(np.int64) - 1, xs[has].astype(np.int64) - 1]
        if self.no_purchase is not None:
            codes[no_r] = code_of[self.no_purchase]
        labels = pd.Series(pd.Categorical.from_codes(codes, categories=names), index=frame.index)
        return Segmentation(
            labels, segments=names, method="rfm", info={"x": self.x, "grid": self.grid()}
        )


def rfm_segments(profiles: ProfileSource, segment_map: RFMSegmentMap | None = None) -> Segmentation:
    """Segment users with an RFM segment map (default :class:`RFMSegmentMap`).

    Parameters
    ----------
    profiles : Profiles or pandas.DataFrame
        Profiles with ``r_score``, ``f_score``, ``m_score``.
    segment_map : RFMSegmentMap, optional
        Default ``RFMSegmentMap()``.

    Returns
    -------
    Segmentation

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"r_score": [4], "f_score": [1], "m_score": [1]}, index=[7])
    >>> rfm_segments(frame).labels.tolist()
    ['new']
    """
    if segment_map is None:
        segment_map = RFMSegmentMap()
    check_instance(segment_map, RFMSegmentMap, "segment_map must be an RFMSegmentMap")
    return segment_map.assign(profiles)
