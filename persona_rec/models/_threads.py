"""Keep BLAS single-threaded while ``implicit`` trains (it warns and slows down otherwise)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

_controller: Any = None
_lock = threading.Lock()


def _get_controller() -> Any:
    """One ``ThreadpoolController`` per process (finding the libraries costs ~2 ms a call)."""
    global _controller
    if _controller is None:
        with _lock:
            if _controller is None:
                from threadpoolctl import ThreadpoolController

                _controller = ThreadpoolController()
    return _controller


@contextlib.contextmanager
def limit_blas_threads(n: int = 1) -> Iterator[None]:
    """Limit BLAS/OpenMP thread pools to ``n`` threads inside the block."""
    try:
        controller = _get_controller()
    except ImportError:  # pragma: no cover - threadpoolctl < 3 (no controller object)
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # threadpoolctl ships with scikit-learn
            yield
            return
        with threadpool_limits(limits=n, user_api="blas"):
            yield
        return
    with controller.limit(limits=n, user_api="blas"):
        yield
