"""Deprecated alias of :mod:`persona_rec.sample_data` (renamed so that it is not confused with
:mod:`persona_rec.dataset`, home of :class:`~persona_rec.dataset.Dataset`).

``persona_rec.datasets`` and its submodules (``persona_rec.datasets.synthetic`` ...) import
the same objects as before and emit a :class:`DeprecationWarning`; the alias is removed in 0.3.
"""

from __future__ import annotations

from .._deprecation import alias_submodules, warn_renamed
from ..sample_data import *  # noqa: F403 - the alias re-exports every public name
from ..sample_data import __all__

warn_renamed("persona_rec.datasets", "persona_rec.sample_data")
alias_submodules(__name__, "persona_rec.sample_data",
                 ("movielens", "online_retail", "sample", "social", "synthetic"))
