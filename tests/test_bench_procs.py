"""bench.procs counts the CPU of every process a command starts, an orphaned grandchild included (the crawl's
fork server outlives the crawl's own wait): the figure bench/pipeline.py's CPU ratio rests on."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import REPO

# The command forks a grandchild and exits at once; the grandchild, re-parented, spins for 0.3 s of its own CPU
# time and writes what it used to a file.
ORPHAN = textwrap.dedent("""
    import os, sys, time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            start = time.process_time()
            while time.process_time() - start < 0.3:
                pass
            with open(sys.argv[1], "w") as out:
                out.write(str(time.process_time()))
            os._exit(0)
        os._exit(0)
    os.wait()
""")


def test_the_counter_waits_for_an_orphan_and_counts_its_cpu(tmp_path: Path) -> None:
    report = tmp_path / "orphan-cpu"
    result = subprocess.run([sys.executable, "-m", "bench.procs", "--", sys.executable, "-c", ORPHAN, str(report)],
                            capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stderr.strip().splitlines()[-1])
    assert figures["returncode"] == 0
    assert report.is_file(), "the counter returned before the orphan finished"
    assert figures["cpu_seconds"] >= float(report.read_text())


# A parent that touches 64 MiB, then forks a child that only reads them: both processes show the pages as
# resident, but they are held once.
SHARED = textwrap.dedent("""
    import os, sys
    block = bytearray(64 * 1024 * 1024)
    for offset in range(0, len(block), 4096):
        block[offset] = 1
    ready_read, ready_write = os.pipe()
    if os.fork() == 0:
        total = sum(block[offset] for offset in range(0, len(block), 4096))
        os.write(ready_write, b"x")
        os.read(0, 1)  # wait for the test
        os._exit(0)
    os.read(ready_read, 1)
    print("ready", flush=True)
    os.read(0, 1)
    os.wait()
""")


def test_summed_pss_counts_pages_shared_by_a_fork_once() -> None:
    from bench.procs import tree_memory_kib

    child = subprocess.Popen([sys.executable, "-c", SHARED], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        memory = tree_memory_kib(child.pid)
        without_parent = tree_memory_kib(child.pid, with_root=False)
    finally:
        child.communicate(b"xx", timeout=60)
    mib = {kind: kib / 1024 for kind, kib in memory.items()}
    assert mib["rss"] >= 2 * 64, mib  # both processes show the block as resident
    assert 64 <= mib["pss"] < 64 + 60, mib  # held once, plus two interpreters' own pages
    assert without_parent["rss"] < memory["rss"] and without_parent["pss"] < memory["pss"]
