"""Old import paths kept working for a release: one warning, one wording.

A renamed module leaves a thin alias behind that re-exports the new module's
public names and calls :func:`warn_renamed` when it is imported; a renamed
package also registers its submodules under the old name
(:func:`alias_submodules`), so ``import persona_rec.datasets.synthetic`` keeps
working.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Iterable

__all__ = ["alias_submodules", "warn_renamed"]

#: The release in which the deprecated aliases are removed.
REMOVED_IN = "0.3"


def warn_renamed(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn that ``old`` was renamed ``new`` (a :class:`DeprecationWarning` at the caller's import).

    Parameters
    ----------
    old, new : str
        The old and the new dotted name.
    stacklevel : int, default 3
        Frames up from this function to the user's code (3: the alias module's
        caller; import machinery frames are not counted).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_renamed("persona_rec.old", "persona_rec.new")
    >>> print(caught[0].message)
    persona_rec.old is deprecated: it is now persona_rec.new (the old name is removed in 0.3).
    """
    warnings.warn(f"{old} is deprecated: it is now {new} (the old name is removed in {REMOVED_IN}).",
                  DeprecationWarning, stacklevel=stacklevel)


def alias_submodules(old: str, new: str, names: Iterable[str]) -> None:
    """Make ``old.<name>`` import as the module ``new.<name>`` for each of ``names``.

    Parameters
    ----------
    old, new : str
        The old and the new dotted package name.
    names : iterable of str
        The submodules to alias.
    """
    for name in names:
        sys.modules.setdefault(f"{old}.{name}", importlib.import_module(f"{new}.{name}"))
