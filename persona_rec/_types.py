"""Types shared by the packages that consume profiles.

Tags, segments, social tags and campaign plans read a profile table the same
way: a :class:`~persona_rec.profiles.Profiles` (or anything shaped like it,
with a ``frame`` indexed by user id and optionally ``affinities``,
``sensitive_columns`` and ``as_of``), or a bare ``pandas.DataFrame``. This
module names that hand-off once, on the ground floor, so the consumers need
not import the profiles package to say what they take.
"""

from __future__ import annotations

from typing import Protocol, Union, runtime_checkable

import pandas as pd

__all__ = ["ProfilesLike", "ProfileSource"]


@runtime_checkable
class ProfilesLike(Protocol):
    """What a profile consumer reads: a ``frame`` indexed by user id (one row per user).

    :class:`~persona_rec.profiles.Profiles` satisfies it; so does any object
    with a ``frame`` attribute.

    Examples
    --------
    >>> import pandas as pd
    >>> class Table:
    ...     frame = pd.DataFrame({"frequency": [3]}, index=pd.Index(["u1"], name="user_id"))
    >>> isinstance(Table(), ProfilesLike)
    True
    """

    frame: pd.DataFrame


#: A profile table as the consumers accept it: Profiles (or a look-alike) or a DataFrame.
ProfileSource = Union[ProfilesLike, pd.DataFrame]
