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
    return sum(_status_kib(pid, "VmRSS:") for pid in {root, *descendants(root, exclude)})


def tree_memory_kib(root: int, exclude: Iterable[int] = (), with_root: bool = True) -> dict[str, int]:
    """{"rss", "pss"}: resident KiB of ``root`` (unless ``with_root`` is false) and every process below it,
    less the ``exclude`` subtrees; zeros without /proc.

    "rss" counts a page shared by forked workers once in each of them; "pss" (proportional set size) splits
    it between the processes sharing it, so its sum is what the tree really holds in memory (what a cgroup
    would charge, page cache aside). Reading PSS costs more: the kernel walks each process's page tables.
    """
    pids = set(descendants(root, exclude))
    if with_root:
        pids.add(root)
    totals = {"rss": 0, "pss": 0}
    for pid in pids:
        totals["rss"] += _status_kib(pid, "VmRSS:")
        totals["pss"] += _status_kib(pid, "Pss:", "smaps_rollup")
    return totals


def _status_kib(pid: int, field: str, name: str = "status") -> int:
    """The KiB figure of one ``field`` in ``/proc/<pid>/<name>`` (0 once the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


# Counting every process a command starts ----------------------------------------------------------------
#
# A crawl starts a fork server and workers below it. getrusage(RUSAGE_CHILDREN) counts a descendant only once
# its parent waited for it, and a fork server left to exit on its own is never waited for by the crawl: its CPU
# time would go to init. The counter runs the command as a *subreaper* (Linux prctl), so every orphan below it
# is re-parented to the counter, which waits for all of them before reading its children's CPU time.

_PR_SET_CHILD_SUBREAPER = 36


def count_tree(command: list[str]) -> dict[str, float]:
    """Run ``command`` (its stdout and stderr inherited), wait for it and every process it started, and return
    {"returncode", "wall_seconds", "user_seconds", "system_seconds", "cpu_seconds"} of the whole tree."""
    import ctypes
    import os
    import resource
    import subprocess
    import time

    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    child = subprocess.Popen(command)
    returncode = child.wait()
    while True:  # the orphans re-parented to us: wait until there is no child left
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    return {
        "returncode": returncode,
        "wall_seconds": wall,
        "user_seconds": user,
        "system_seconds": system,
        "cpu_seconds": user + system,
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.procs -- COMMAND ...``: run COMMAND and print its whole tree's figures as JSON on the
    last line of stderr (its own output passes through)."""
    import json
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        print("usage: python -m bench.procs -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    figures = count_tree(args)
    print(json.dumps(figures), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
