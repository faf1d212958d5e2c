"""What both benchmark children measure of their own process. Standard library only: the LiteLLM child
imports it from inside LiteLLM's virtual environment."""

from __future__ import annotations

import resource
from pathlib import Path


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def peak_rss_mib() -> float:
    """This process image's peak RSS: VmHWM. (`ru_maxrss` keeps the forking parent's peak across exec.)"""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)  # kB
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux
