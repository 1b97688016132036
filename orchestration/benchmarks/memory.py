"""Where a run's memory peaks: the process's resident memory sampled in a background thread, then attributed to
the steps that were running (events.step_intervals), so that a benchmark names the step behind its peak rather
than the peak alone. Linux only (/proc/self/statm); elsewhere nothing is sampled and no step is named."""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

GIB = 1024**3
STATM, STATUS = Path("/proc/self/statm"), Path("/proc/self/status")


def peak_resident_bytes() -> int:
    """This process's own peak resident memory. Linux's ru_maxrss would not do for a child process: it carries the
    parent's resident memory at the fork over the exec (a benchmark parent that generated a large world made every
    run's peak at least its own), while VmHWM is the peak of the process's own address space."""
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, kilobytes elsewhere


def resident_bytes() -> int | None:
    """The process's resident memory now (None where /proc is not available)."""
    try:
        return int(STATM.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class ResidentSampler:
    """Samples resident memory every `interval` seconds while in use: `samples` holds (epoch seconds, bytes)."""

    interval: float = 0.1
    samples: list[tuple[float, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _sample(self) -> None:
        while not self._stop.is_set():
            rss = resident_bytes()
            if rss is None:
                return
            self.samples.append((time.time(), rss))
            self._stop.wait(self.interval)

    def __enter__(self) -> ResidentSampler:
        self._thread = threading.Thread(target=self._sample, name="resident-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def peak_by_step(samples: Iterable[tuple[float, int]],
                 intervals: Mapping[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """Per step with samples in its (start, end) interval: its peak resident memory and how much it rose over the
    memory when the step started (the last sample before it, else its first), both in GiB."""
    ordered = sorted(samples)
    out: dict[str, tuple[float, float]] = {}
    for step, (start, end) in intervals.items():
        inside = [rss for t, rss in ordered if start <= t <= end]
        if not inside:
            continue
        before = [rss for t, rss in ordered if t < start]
        base = before[-1] if before else inside[0]
        peak = max(inside)
        out[step] = (peak / GIB, max(peak - base, 0) / GIB)
    return out


def largest_peaks(peaks: Mapping[str, tuple[float, float]], n: int = 4) -> str:
    """The n steps with the highest peaks, `step peak (+rise)` in GiB, highest first."""
    top = sorted(peaks.items(), key=lambda item: -item[1][0])[:n]
    return ", ".join(f"{step} {peak:.2f} (+{rise:.2f})" for step, (peak, rise) in top)
