"""The API against its own OpenAPI description: schemathesis (its command, in a child process) generates requests
from /api/openapi.json, a bounded number and the same ones every run, and sends them to the real app on a
loopback port over a real archive. No answer may be a 5xx, and every answer must conform to the description
(status codes, content types, headers, bodies), and refused input must be refused with a 4xx.

Not checked: that every request the description allows is accepted (schemathesis' positive_data_acceptance).
``since`` and ``until`` are a duration or an ISO date, which the description states in words, not as a
pattern, so most generated strings are rightly refused with a 400.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.web.conftest import Served

EXAMPLES = 25  # per operation in the fuzzing phase, after the coverage phase's boundary values


def test_no_generated_request_fails_the_api_or_breaks_its_description(served: Served, tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{served.url}/api/openapi.json",
        "--phases", "examples,coverage,fuzzing", "--max-examples", str(EXAMPLES), "--generation-deterministic",
        "--checks", "all", "--exclude-checks", "positive_data_acceptance",
        "--workers", "1", "--request-timeout", "30", "--no-color",
    ]
    environment = {**os.environ, "NO_PROXY": "*", "no_proxy": "*"}  # loopback only, whatever proxy is set
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=environment,
                            check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout
