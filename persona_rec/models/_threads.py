"""Keep BLAS single-threaded while ``implicit`` trains (it warns and slows down otherwise)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def limit_blas_threads(n: int = 1) -> Iterator[None]:
    """Limit BLAS/OpenMP thread pools to ``n`` threads inside the block."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        yield
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield
