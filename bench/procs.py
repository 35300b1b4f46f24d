"""Resident memory of a process tree, read from Linux's /proc (the benches sample it while work runs)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def tree_rss_kib(root: int, exclude: Iterable[int] = ()) -> int:
    """Resident KiB of ``root`` and every process below it, less the ``exclude`` subtrees (0 without /proc).

    Shared pages (forked workers) count in each process, so the sum overstates what the tree really holds.
    """
    skip = set(exclude)
    parents: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(entry.parent.name)] = int(fields[1])
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree and pid not in skip:
                tree.add(pid)
                frontier.append(pid)
    total = 0
    for pid in tree:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total
