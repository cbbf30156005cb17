"""Hierarchical tag taxonomy: declarative tags with rules over profile columns."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._types import ProfileSource
from .. import persistence
from ..exceptions import (
    CorruptFileError,
    InvalidDtypeError,
    InvalidValueError,
    MissingColumnError,
    RuleSyntaxError,
    TaxonomyError,
    UnknownIdError,
)
from .expressions import RESERVED_WORDS, TAG_ID_CHARS, is_valid_tag_id
from .rules import Rule, RuleContext, parse_rule

__all__ = ["LAYERS", "Tag", "Taxonomy"]



class _UnreadableTaxonomy(TaxonomyError, CorruptFileError):
    """Taxonomy JSON that cannot be parsed (caught by either parent class)."""


#: The tag layers, in display order.
LAYERS: tuple[str, ...] = ("basic", "behaviour", "interest", "preference", "value", "lifecycle")
_FIELDS = ("id", "name", "parent", "layer", "description", "sensitive", "rule", "confidence")


@dataclass(frozen=True)
class Tag:
    """One tag of a :class:`Taxonomy`.

    Parameters
    ----------
    id : str
        Unique id; letters, digits, ``/ _ - .`` (usable in tag expressions).
    name : str, optional
        Human-readable name (defaults to the id).
    parent : str or None
        Parent tag id; None for a root.
    layer : str or None
        One of :data:`LAYERS`; required on roots, inherited when None.
    description : str
        What the tag means.
    sensitive : bool
        Whether the tag reveals a sensitive attribute (gender, age, ...).
        Descendants of a sensitive tag are sensitive too.
    rule : str or None
        Condition over profile columns (see :mod:`persona_rec.tags.rules`);
        None for a pure grouping node (assigned only through roll-up).
    confidence : str, float or None
        Value expression or constant giving the confidence in [0, 1] of the
        tag for users that satisfy ``rule``; None means 1.0.
    """

    id: str
    name: str = ""
    parent: str | None = None
    layer: str | None = None
    description: str = ""
    sensitive: bool = False
    rule: str | None = None
    confidence: str | float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict with every field (JSON/YAML-able)."""
        return {f: getattr(self, f) for f in _FIELDS}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Tag":
        """Build a tag from a mapping; unknown keys are an error.

        Raises
        ------
        TaxonomyError
            Not a mapping, no ``id``, an unknown key or a field of the wrong type.
        """
        if not isinstance(d, Mapping):
            raise TaxonomyError(f"Each tag must be a mapping, got {type(d).__name__} ({d!r}).")
        tid = d.get("id")
        if tid is None:
            raise TaxonomyError(f"A tag has no 'id': {dict(d)!r}.")
        extra = sorted(set(d) - set(_FIELDS))
        if extra:
            raise TaxonomyError(
                f"Tag {tid!r} has unknown field(s) {extra}; allowed fields are {list(_FIELDS)}."
            )
        return cls(**{k: d[k] for k in _FIELDS if k in d})


def _check_tag_fields(t: Tag) -> None:
    if not is_valid_tag_id(t.id):
        reason = (
            "it is a reserved word" if isinstance(t.id, str) and t.id.lower() in RESERVED_WORDS
            else f"ids must be non-empty strings of letters, digits and {sorted(TAG_ID_CHARS)}"
        )
        raise TaxonomyError(f"Tag id {t.id!r} is invalid: {reason}.")
    for name in ("name", "description"):
        if not isinstance(getattr(t, name), str):
            raise TaxonomyError(f"Tag {t.id!r}: '{name}' must be a str, got {getattr(t, name)!r}.")
    if t.parent is not None and not isinstance(t.parent, str):
        raise TaxonomyError(f"Tag {t.id!r}: 'parent' must be a str or None, got {t.parent!r}.")
    if t.parent == t.id:
        raise TaxonomyError(f"Tag {t.id!r} is its own parent (a cycle).")
    if t.layer is not None and t.layer not in LAYERS:
        raise TaxonomyError(f"Tag {t.id!r}: 'layer' must be one of {list(LAYERS)}, got {t.layer!r}.")
    if not isinstance(t.sensitive, bool):
        raise TaxonomyError(f"Tag {t.id!r}: 'sensitive' must be a bool, got {t.sensitive!r}.")
    if t.rule is not None and not isinstance(t.rule, str):
        raise TaxonomyError(f"Tag {t.id!r}: 'rule' must be a str or None, got {t.rule!r}.")
    c = t.confidence
    if c is not None:
        if isinstance(c, bool) or not isinstance(c, (str, int, float)):
            raise TaxonomyError(
                f"Tag {t.id!r}: 'confidence' must be an expression (str), a number in (0, 1] "
                f"or None, got {c!r}."
            )
        if not isinstance(c, str) and not 0 < float(c) <= 1:
            raise TaxonomyError(f"Tag {t.id!r}: a constant 'confidence' must be in (0, 1], got {c!r}.")
        if t.rule is None:
            raise TaxonomyError(
                f"Tag {t.id!r} has a 'confidence' but no 'rule'; grouping nodes take their "
                "confidence from their children."
            )


class Taxonomy:
    """A validated hierarchy of tags (a forest), each with an optional rule.

    Validation on construction: tag fields have the right types, ids are
    unique and expression-safe, every parent exists, there is no cycle, every
    root has a layer and children agree with their parent's layer, rules are
    conditions and confidences value expressions that parse. Column
    existence is checked by :meth:`validate` against a Profiles. Every error
    names the offending tag.

    Parameters
    ----------
    tags : iterable of Tag or mapping
        The tags, in any order.
    version : str, default "1"
        Version of the taxonomy (record it with the tags you export).

    Raises
    ------
    TaxonomyError
        A structural problem (duplicate id, unknown parent, cycle, ...).
    RuleSyntaxError
        A rule or confidence expression is malformed (message names the tag).

    Examples
    --------
    >>> tax = Taxonomy.from_dict({"version": "2", "tags": [
    ...     {"id": "behaviour", "layer": "behaviour"},
    ...     {"id": "price_sensitive", "parent": "behaviour", "rule": "price_sensitivity >= 0.6"},
    ... ]})
    >>> tax.tag_ids, tax.layer_of("price_sensitive"), tax.ancestors("price_sensitive")
    (['behaviour', 'price_sensitive'], 'behaviour', ['behaviour'])
    >>> Taxonomy.from_dict(tax.to_dict()) == tax
    True
    """

    def __init__(self, tags: Iterable[Tag | Mapping[str, Any]], *, version: str = "1") -> None:
        if isinstance(tags, (str, bytes, Mapping)):
            raise InvalidDtypeError(
                f"tags must be an iterable of Tag or mappings, got {type(tags).__name__}; "
                "use Taxonomy.from_dict for a {'version': ..., 'tags': [...]} mapping."
            )
        if not isinstance(version, str) or not version:
            raise TaxonomyError(f"The taxonomy 'version' must be a non-empty str, got {version!r}.")
        items = [t if isinstance(t, Tag) else Tag.from_dict(t) for t in tags]
        by_id: dict[str, Tag] = {}
        for t in items:
            _check_tag_fields(t)
            if t.id in by_id:
                raise TaxonomyError(f"Tag id {t.id!r} is defined more than once (duplicate id).")
            by_id[t.id] = t
        for t in items:
            if t.parent is not None and t.parent not in by_id:
                raise TaxonomyError(
                    f"Tag {t.id!r} has unknown parent {t.parent!r}; define the parent tag first "
                    "or set parent to None."
                )
        # cycles: walk up from every tag with memo of finished tags
        depth: dict[str, int] = {}
        for t in items:
            path: list[str] = []
            on_path: set[str] = set()
            cur: str | None = t.id
            while cur is not None and cur not in depth:
                if cur in on_path:
                    cycle = path[path.index(cur):] + [cur]
                    raise TaxonomyError(
                        f"Tag {cur!r} is in a parent cycle: {' -> '.join(cycle)} (child -> parent)."
                    )
                path.append(cur)
                on_path.add(cur)
                cur = by_id[cur].parent
            base = -1 if cur is None else depth[cur]
            for k, tid in enumerate(reversed(path)):
                depth[tid] = base + 1 + k
        order = sorted(range(len(items)), key=lambda i: depth[items[i].id])
        # layers (resolved top-down), sensitivity (inherited)
        layer: dict[str, str] = {}
        sensitive: dict[str, bool] = {}
        for i in order:
            t = items[i]
            if t.parent is None:
                if t.layer is None:
                    raise TaxonomyError(
                        f"Root tag {t.id!r} needs a 'layer', one of {list(LAYERS)}."
                    )
                layer[t.id] = t.layer
                sensitive[t.id] = t.sensitive
            else:
                plyr = layer[t.parent]
                if t.layer is not None and t.layer != plyr:
                    raise TaxonomyError(
                        f"Tag {t.id!r} has layer {t.layer!r} but its parent {t.parent!r} is in "
                        f"layer {plyr!r}; a subtree stays in one layer."
                    )
                layer[t.id] = plyr
                sensitive[t.id] = t.sensitive or sensitive[t.parent]
        rules: dict[str, Rule] = {}
        confidences: dict[str, Rule] = {}
        for t in items:
            if t.rule is not None:
                rules[t.id] = _parse_for(t, "rule", t.rule, condition=True)
            if isinstance(t.confidence, str):
                confidences[t.id] = _parse_for(t, "confidence", t.confidence, condition=False)
        children: dict[str, list[str]] = {t.id: [] for t in items}
        for t in items:
            if t.parent is not None:
                children[t.parent].append(t.id)
        self._tags = by_id
        self._order = [t.id for t in items]
        self._depth = depth
        self._layer = layer
        self._sensitive = sensitive
        self._children = children
        self._rules = rules
        self._confidences = confidences
        self._version = version

    # ------------------------------------------------------------------ (de)serialisation
    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Taxonomy":
        """Build from ``{"version": str, "tags": [tag mappings]}``.

        Raises
        ------
        TaxonomyError
            Wrong structure or any validation error (see the class docs).
        """
        if not isinstance(d, Mapping):
            raise TaxonomyError(f"A taxonomy dict must be a mapping, got {type(d).__name__}.")
        extra = sorted(set(d) - {"version", "tags"})
        if extra:
            raise TaxonomyError(f"A taxonomy dict has unknown key(s) {extra}; allowed: ['tags', 'version'].")
        tags = d.get("tags")
        if not isinstance(tags, (list, tuple)):
            raise TaxonomyError(f"A taxonomy dict needs a 'tags' list, got {type(tags).__name__}.")
        version = d.get("version", "1")
        return cls(tags, version=str(version) if isinstance(version, (int, float)) else version)

    def to_dict(self) -> dict[str, Any]:
        """``{"version": ..., "tags": [...]}`` of plain values (JSON/YAML-able), definition order."""
        return {"version": self._version, "tags": [self._tags[t].to_dict() for t in self._order]}

    @classmethod
    def from_json(cls, source: str | Path) -> "Taxonomy":
        """Build from JSON text or a path to a JSON file.

        JSON nested deeper than :data:`persona_rec.persistence.MAX_JSON_DEPTH`
        is refused without being parsed.

        Raises
        ------
        TaxonomyError
            The JSON is unreadable or describes an invalid taxonomy (an
            unreadable document raises an error that is also a
            :class:`~persona_rec.exceptions.CorruptFileError`).
        """
        if isinstance(source, Path):
            try:
                text = source.read_text(encoding="utf-8")
            except UnicodeDecodeError as err:
                raise _UnreadableTaxonomy(f"The taxonomy file {source} is not UTF-8: {err}.") \
                    from None
        elif isinstance(source, str):
            text = source
        else:
            raise InvalidDtypeError(f"source must be JSON text or a Path, got {type(source).__name__}.")
        try:
            d = persistence.loads_json(text, "The taxonomy")
        except CorruptFileError as err:
            raise _UnreadableTaxonomy(str(err).replace("is not valid JSON", "JSON is invalid")) \
                from None
        return cls.from_dict(d)

    def to_json(self, path: str | Path | None = None, *, indent: int | None = 2) -> str:
        """Serialise to JSON text; also write it to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def save(self, path: str | Path, *, key: bytes | str | None = None) -> Path:
        """Write to the package's ``.npz`` file format (checksummed, optionally signed).

        :meth:`to_json` writes a human-editable definition; this writes the
        same definition in the format every persona_rec object uses (see
        ``docs/persistence.md``), e.g. to sign it with ``key``.

        Parameters
        ----------
        path : str or Path
            Target file; ``.npz`` is appended when missing.
        key : bytes or str, optional
            Secret used to sign the file with HMAC-SHA256.

        Returns
        -------
        Path

        Examples
        --------
        >>> import tempfile, os
        >>> tax = Taxonomy([{"id": "vip", "layer": "value", "rule": "monetary > 100"}])
        >>> p = tax.save(os.path.join(tempfile.mkdtemp(), "tax"), key="secret")
        >>> Taxonomy.load(p, key="secret") == tax
        True
        """
        return persistence.write_file(path, "taxonomy", {"taxonomy": self.to_dict()}, {},
                                      key=key)

    @classmethod
    def load(cls, path: str | Path, *, key: bytes | str | None = None) -> "Taxonomy":
        """Read a file written by :meth:`save`.

        Raises
        ------
        FileNotFoundError
            ``path`` does not exist.
        CorruptFileError
            The file is unreadable, not a taxonomy, describes an invalid
            taxonomy, or its signature does not match ``key``.
        """
        header, _ = persistence.read_file(path, "taxonomy", key=key)
        try:
            return cls.from_dict(header["taxonomy"])
        except (KeyError, ValueError, TypeError, RecursionError) as err:
            raise CorruptFileError(f"{path} holds an invalid taxonomy: {err}") from None

    def with_tags(self, tags: Iterable[Tag | Mapping[str, Any]], *, replace: bool = False,
                  version: str | None = None) -> "Taxonomy":
        """A new taxonomy with ``tags`` added (or replacing same-id tags when ``replace``).

        Raises
        ------
        TaxonomyError
            A tag id already exists and ``replace`` is False, or the result is invalid.
        """
        new = [t if isinstance(t, Tag) else Tag.from_dict(t) for t in tags]
        if replace:
            ids = {t.id for t in new}
            kept = [self._tags[t] for t in self._order if t not in ids]
            return Taxonomy(kept + new, version=version or self._version)
        return Taxonomy([self._tags[t] for t in self._order] + new, version=version or self._version)

    def without(self, tag_ids: Iterable[str], *, version: str | None = None) -> "Taxonomy":
        """A new taxonomy without ``tag_ids`` and all their descendants.

        Raises
        ------
        UnknownIdError
            A tag id does not exist.
        """
        drop: set[str] = set()
        for tid in ([tag_ids] if isinstance(tag_ids, str) else tag_ids):
            self._get(tid)
            drop.add(tid)
            drop.update(self.descendants(tid))
        return Taxonomy([self._tags[t] for t in self._order if t not in drop],
                        version=version or self._version)

    # ------------------------------------------------------------------ access
    def __len__(self) -> int:
        return len(self._order)

    def __iter__(self) -> Iterator[Tag]:
        return (self._tags[t] for t in self._order)

    def __contains__(self, tag_id: object) -> bool:
        return tag_id in self._tags

    def __getitem__(self, tag_id: str) -> Tag:
        return self._get(tag_id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Taxonomy) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"Taxonomy(version={self._version!r}, n_tags={len(self)})"

    def _get(self, tag_id: str) -> Tag:
        try:
            return self._tags[tag_id]
        except (KeyError, TypeError):
            raise UnknownIdError(f"Unknown tag id {tag_id!r}; the taxonomy has {len(self)} tags.") from None

    @property
    def version(self) -> str:
        """The taxonomy version."""
        return self._version

    @property
    def tag_ids(self) -> list[str]:
        """All tag ids, in definition order."""
        return list(self._order)

    @property
    def roots(self) -> list[str]:
        """Ids of tags without a parent."""
        return [t for t in self._order if self._tags[t].parent is None]

    @property
    def sensitive_ids(self) -> frozenset[str]:
        """Ids of sensitive tags (flagged, or below a flagged tag)."""
        return frozenset(t for t, s in self._sensitive.items() if s)

    def is_sensitive(self, tag_id: str) -> bool:
        """Whether ``tag_id`` is sensitive (itself or through an ancestor)."""
        self._get(tag_id)
        return self._sensitive[tag_id]

    def layer_of(self, tag_id: str) -> str:
        """The (inherited) layer of ``tag_id``."""
        self._get(tag_id)
        return self._layer[tag_id]

    def depth_of(self, tag_id: str) -> int:
        """0 for a root, 1 for its children, ..."""
        self._get(tag_id)
        return self._depth[tag_id]

    def parent_of(self, tag_id: str) -> str | None:
        """The parent id or None."""
        return self._get(tag_id).parent

    def children(self, tag_id: str) -> list[str]:
        """Direct children of ``tag_id`` in definition order."""
        self._get(tag_id)
        return list(self._children[tag_id])

    def ancestors(self, tag_id: str) -> list[str]:
        """Parent, grandparent, ... up to the root."""
        out = []
        cur = self._get(tag_id).parent
        while cur is not None:
            out.append(cur)
            cur = self._tags[cur].parent
        return out

    def descendants(self, tag_id: str) -> list[str]:
        """All tags below ``tag_id`` (depth-first)."""
        self._get(tag_id)
        out: list[str] = []
        stack = list(reversed(self._children[tag_id]))
        while stack:
            t = stack.pop()
            out.append(t)
            stack.extend(reversed(self._children[t]))
        return out

    def rule_of(self, tag_id: str) -> Rule | None:
        """The parsed rule of ``tag_id`` (None for a grouping node)."""
        self._get(tag_id)
        return self._rules.get(tag_id)

    def confidence_of(self, tag_id: str) -> Rule | float:
        """Parsed confidence expression, or the constant (1.0 by default)."""
        t = self._get(tag_id)
        if tag_id in self._confidences:
            return self._confidences[tag_id]
        return 1.0 if t.confidence is None else float(t.confidence)

    def in_layer(self, layer: str) -> list[str]:
        """Tag ids of one layer."""
        if layer not in LAYERS:
            raise InvalidValueError(f"layer must be one of {list(LAYERS)}, got {layer!r}.")
        return [t for t in self._order if self._layer[t] == layer]

    # ------------------------------------------------------------------ validation against data
    def validate(self, profiles: ProfileSource) -> "Taxonomy":
        """Check every rule against a Profiles (or look-alike / frame).

        Checks that referenced columns and affinity values exist, literal
        types fit the columns, and that no non-sensitive tag is derived from a
        sensitive profile column (``profiles.sensitive_columns``).

        Parameters
        ----------
        profiles : Profiles or pandas.DataFrame

        Returns
        -------
        Taxonomy
            ``self``.

        Raises
        ------
        TaxonomyError
            Naming the tag, the rule and the problem (e.g. the unknown column).
        """
        ctx = profiles if isinstance(profiles, RuleContext) else RuleContext(profiles)
        sensitive_cols = frozenset(getattr(profiles, "sensitive_columns", ()) or ())
        for tid in self._order:
            for what, rule in (("rule", self._rules.get(tid)), ("confidence", self._confidences.get(tid))):
                if rule is None:
                    continue
                try:
                    rule.check(ctx, owner=f"Tag {tid!r}", as_condition=(what == "rule"))
                except (MissingColumnError, UnknownIdError, InvalidValueError) as err:
                    msg = str(err)
                    if what == "confidence":
                        msg = msg.replace(": rule ", ": confidence ", 1)
                    raise TaxonomyError(msg) from None
                used = sorted(rule.columns & sensitive_cols)
                if used and not self._sensitive[tid]:
                    raise TaxonomyError(
                        f"Tag {tid!r} is derived from sensitive profile column(s) {used} by its "
                        f"{what} {rule.text!r} but is not flagged sensitive; set sensitive=True."
                    )
        return self

    # ------------------------------------------------------------------ default
    @classmethod
    def default(cls, profiles: ProfileSource | None = None, **options: Any) -> "Taxonomy":
        """The default e-commerce taxonomy (see ``docs/tags.md`` for every tag).

        Parameters
        ----------
        profiles : Profiles, optional
            When given, interest tags are generated from its category
            affinities, and demographic/preference tags only for columns and
            values it has.
        **options
            Thresholds, see :func:`persona_rec.tags.default.default_taxonomy_tags`.

        Returns
        -------
        Taxonomy

        Examples
        --------
        >>> tax = Taxonomy.default()
        >>> tax.roots
        ['basic', 'behaviour', 'interest', 'preference', 'value', 'lifecycle']
        >>> tax["price_sensitive"].rule
        'price_sensitivity >= 0.6'
        """
        from .default import DEFAULT_VERSION, default_taxonomy_tags

        return cls(default_taxonomy_tags(profiles, **options), version=DEFAULT_VERSION)


def _parse_for(t: Tag, what: str, text: str, *, condition: bool) -> Rule:
    try:
        rule = parse_rule(text)
    except RuleSyntaxError as err:
        raise RuleSyntaxError(f"Tag {t.id!r} has a malformed {what}: {err}") from None
    if condition and not rule.is_condition:
        raise RuleSyntaxError(
            f"Tag {t.id!r}: the rule {text!r} is a value, not a condition; compare it, e.g. "
            f"'{text} >= 0.5'."
        )
    if not condition and _is_condition_only(rule):
        raise RuleSyntaxError(
            f"Tag {t.id!r}: the confidence {text!r} is a condition; give a value in [0, 1] "
            "such as a column or 'quantile(monetary)'."
        )
    return rule


def _is_condition_only(rule: Rule) -> bool:
    # a bare column may serve as either; anything built with comparisons is a condition
    return rule.is_condition and not (len(rule.columns) == 1 and rule.text.strip().strip("`") in rule.columns)
