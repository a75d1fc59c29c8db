"""What the benchmarks share: the best of a few runs, the figure a noisy machine gives most truly."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best(action: Callable[[], Any], repeat: int) -> float:
    """The shortest of ``repeat`` runs of ``action``, in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)
