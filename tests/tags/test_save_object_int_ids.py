"""UserTags.save accepts integer user ids held in an object array."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from persona_rec.exceptions import InvalidDtypeError
from persona_rec.tags import UserTags


def test_object_array_of_ints_round_trips(tmp_path) -> None:
    ut = UserTags(sp.csr_matrix(np.eye(2)), np.array([17850, np.int64(12583)], dtype=object), ["x", "y"])
    back = UserTags.load(ut.save(tmp_path / "tags"))
    assert back.user_ids.tolist() == [17850, 12583]
    assert (back.matrix != ut.matrix).nnz == 0


def test_mixed_ids_are_still_rejected(tmp_path) -> None:
    ut = UserTags(sp.csr_matrix(np.eye(2)), np.array([1, "a"], dtype=object), ["x", "y"])
    with pytest.raises(InvalidDtypeError, match="all integers or all strings, got \\[1\\]"):
        ut.save(tmp_path / "tags")
