"""A module attribute that imports its module on first use (keeps ``import`` cheap)."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["lazy_module"]


class _LazyModule:
    """Stands for a module until an attribute is read, then imports it."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy_module(name: str) -> Any:
    """Return a stand-in for module ``name`` that imports it on first attribute access.

    Parameters
    ----------
    name : str
        Absolute module name, e.g. ``"scipy.stats"``.

    Returns
    -------
    object
        Attribute access is forwarded to the module.

    Examples
    --------
    >>> stats = lazy_module("statistics")
    >>> stats.median([3, 1, 2])
    2
    """
    return _LazyModule(name)
