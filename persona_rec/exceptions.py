"""Typed errors raised by persona_rec.

Each error subclasses the builtin it refines, so ``except ValueError`` (or
``KeyError``, ``TypeError``) keeps working in caller code. Messages name the
argument or column, the rule that was broken and an example offending value.
"""

from __future__ import annotations

__all__ = [
    "PersonaRecError",
    "MissingColumnError",
    "InvalidValueError",
    "InvalidDtypeError",
    "EmptyInputError",
    "DuplicateIdError",
    "UnknownIdError",
    "NotFittedError",
    "InvalidParameterError",
    "CorruptFileError",
    "TaxonomyError",
    "RuleSyntaxError",
    "DuplicateRowWarning",
    "ImplausibleTimeWarning",
    "UnmatchedIdWarning",
    "MissingDependencyError",
    "AudienceTooSmallError",
]


class PersonaRecError(Exception):
    """Mixin marking every error raised by persona_rec.

    ``str(err)`` is the plain message, also for ``KeyError`` subclasses
    (the builtin would wrap it in quotes).
    """

    def __str__(self) -> str:  # KeyError.__str__ adds repr quotes otherwise
        return str(self.args[0]) if self.args else ""


class MissingColumnError(PersonaRecError, KeyError):
    """A required column is absent from an input frame."""


class InvalidValueError(PersonaRecError, ValueError):
    """A value breaks a rule (NaN id, negative price, unparseable timestamp, ...)."""


class AudienceTooSmallError(InvalidValueError):
    """An audience is below the privacy minimum size (``min_audience_size``).

    Raised by :func:`~persona_rec.marketing.select_audience` and
    :meth:`~persona_rec.content.ContentMatcher.audience`; also importable
    from :mod:`persona_rec.marketing`.
    """


class InvalidDtypeError(PersonaRecError, TypeError):
    """An argument or column has the wrong type."""


class EmptyInputError(PersonaRecError, ValueError):
    """An input that must hold rows holds none."""


class DuplicateIdError(PersonaRecError, ValueError):
    """An id that must be unique appears more than once."""


class UnknownIdError(PersonaRecError, KeyError):
    """An id is not known to the Dataset, model or taxonomy."""


class NotFittedError(PersonaRecError, ValueError, AttributeError):
    """A model or builder is used before ``fit``/``build``."""


class InvalidParameterError(PersonaRecError, ValueError):
    """A constructor or function parameter is outside its allowed range."""


class CorruptFileError(PersonaRecError, ValueError):
    """A saved file is unreadable, tampered with or of another kind/version."""


class TaxonomyError(PersonaRecError, ValueError):
    """A tag taxonomy definition is invalid (duplicate id, cycle, unknown parent ...)."""


class RuleSyntaxError(PersonaRecError, ValueError):
    """A rule or tag expression cannot be parsed."""


class DuplicateRowWarning(UserWarning):
    """Exact duplicate input rows were kept (``clean=False``); ``clean=True`` drops and counts them."""


class ImplausibleTimeWarning(UserWarning):
    """Every epoch number of a time column falls in 1970 (unit read from the magnitude).

    Usually the numbers are not epoch seconds at all (Excel serial days such as
    ``40513.35``, small counters); pass ``epoch_unit=`` to confirm the reading.
    """


class UnmatchedIdWarning(UserWarning):
    """A users (or items) frame shares not one id with the interactions.

    Almost always a join mistake (``"17850.0"`` vs ``"17850"``, ``"007"`` vs
    ``"7"``); attribute-only rows are allowed, so it is not an error.
    """


class MissingDependencyError(PersonaRecError, ImportError):
    """An optional dependency (an extra such as ``[plot]``) is not installed.

    The message names the feature, the missing module and the ``pip``
    command that installs it.
    """


def require(module: str, extra: str, what: str) -> None:
    """Raise :class:`MissingDependencyError` unless ``module`` can be imported.

    Parameters
    ----------
    module : str
        Top-level module name, e.g. ``"pyarrow"``.
    extra : str
        The persona-rec extra that installs it, e.g. ``"parquet"``.
    what : str
        What needs it, for the message.

    Examples
    --------
    >>> require("numpy", "core", "this example")
    >>> require("no_such_module_xyz", "demo", "Reading Parquet files")
    Traceback (most recent call last):
    ...
    persona_rec.exceptions.MissingDependencyError: Reading Parquet files requires the optional dependency 'no_such_module_xyz', which is not installed; install it with: pip install "persona-rec[demo]"
    """
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(
            f"{what} requires the optional dependency {module!r}, which is not installed; "
            f"install it with: pip install \"persona-rec[{extra}]\""
        ) from None
