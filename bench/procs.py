"""Resident memory of a process tree, read from Linux's /proc (the benches sample it while work runs)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def descendants(root: int, exclude: Iterable[int] = ()) -> dict[int, int]:
    """Every process below ``root`` but the ``exclude`` subtrees: pid -> depth (1 for a child; empty without
    /proc)."""
    skip = set(exclude)
    parents: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(entry.parent.name)] = int(fields[1])
    found: dict[int, int] = {}
    frontier = [(root, 0)]
    while frontier:
        parent, depth = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid != root and pid not in found and pid not in skip:
                found[pid] = depth + 1
                frontier.append((pid, depth + 1))
    return found


def tree_rss_kib(root: int, exclude: Iterable[int] = ()) -> int:
    """Resident KiB of ``root`` and every process below it, less the ``exclude`` subtrees (0 without /proc).

    Shared pages (forked workers) count in each process, so the sum overstates what the tree really holds.
    """
    total = 0
    for pid in {root, *descendants(root, exclude)}:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total
