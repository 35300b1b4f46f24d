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
