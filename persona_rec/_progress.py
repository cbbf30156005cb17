"""Logging and optional progress bars shared by every long-running stage.

Library code logs to ``logging.getLogger("persona_rec")`` (silent unless the
application configures logging) and wraps loops that can take seconds in
:func:`progress`, which shows a tqdm bar only when asked (``verbose=True`` on
the call, or :func:`set_verbose` for the whole process).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["logger", "get_logger", "progress", "set_verbose"]

T = TypeVar("T")

#: The package logger; child loggers are ``persona_rec.<module>``.
logger = logging.getLogger("persona_rec")
logger.addHandler(logging.NullHandler())

_VERBOSE = False


def get_logger(name: str) -> logging.Logger:
    """Return the ``persona_rec`` child logger for module ``name``.

    Parameters
    ----------
    name : str
        Usually ``__name__``; names outside the package are nested under it.

    Returns
    -------
    logging.Logger
    """
    if name == "persona_rec" or name.startswith("persona_rec."):
        return logging.getLogger(name)
    return logger.getChild(name)


def set_verbose(verbose: bool) -> None:
    """Switch progress bars on or off for every call that does not pass ``verbose=``.

    Parameters
    ----------
    verbose : bool
        ``True`` shows tqdm progress bars on stderr.
    """
    global _VERBOSE
    _VERBOSE = bool(verbose)


def progress(
    iterable: Iterable[T], *, verbose: bool | None = None, desc: str = "",
    total: int | None = None,
) -> Iterator[T]:
    """Iterate over ``iterable``, with a tqdm bar when verbose.

    Parameters
    ----------
    iterable : iterable
        What to iterate over.
    verbose : bool, optional
        Show a bar; ``None`` uses the process-wide switch (:func:`set_verbose`).
    desc : str
        Label of the bar.
    total : int, optional
        Length, when ``iterable`` has none.

    Yields
    ------
    object
        The items of ``iterable``.

    Examples
    --------
    >>> list(progress(range(3), verbose=False))
    [0, 1, 2]
    """
    show = _VERBOSE if verbose is None else bool(verbose)
    if not show:
        yield from iterable
        return
    from tqdm.auto import tqdm

    yield from tqdm(iterable, desc=desc, total=total, leave=False)
