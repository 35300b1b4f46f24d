"""db.neardup loads datasketch's MinHash alone: no SciPy in the processes that fingerprint, the same signatures."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import REPO

CHECK = textwrap.dedent("""
    import sys

    import numpy as np

    from db.neardup import NUM_PERM, fingerprint, shingles

    text = "Ukraine and Russia resumed talks in Geneva on Tuesday, officials from both delegations said."
    ours = fingerprint(text)
    print("scipy loaded:", "scipy" in sys.modules)

    import datasketch  # the whole package, loaded as usual after ours

    reference = datasketch.MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32")
    reference.update_batch(list(shingles(text)))
    print("same class:", datasketch.MinHash is sys.modules["datasketch.minhash"].MinHash)
    print("same signature:", np.array_equal(ours.values(), reference.hashvalues.astype("<u4")))
""")


def test_fingerprints_without_scipy_and_match_the_whole_package() -> None:
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, cwd=REPO, check=False,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["scipy loaded: False", "same class: True", "same signature: True"]
