"""Near-duplicate fingerprints: a MinHash of a story's 3-word phrases, its LSH bands, and the similarity of two.

Two texts are the same story when most of the shorter one's 3-word phrases ("shingles") are in the other: a wire
copy under another template, a changed headline, a paragraph added or cut, typos, a rewritten lead. Different
stories on one subject share words, but few phrases (at most 0.31 of the shorter's shingles among the 300 most
alike AEB pairs). The shares are estimated from 128-value MinHash signatures (datasketch), so a story is
compared with another in microseconds and without its text.

Candidates are found through locality-sensitive hashing: the signature cut into 42 bands of 3 values; two
stories sharing a band key are compared. A pair with a Jaccard similarity of 0.43 shares a band with
probability 0.97 (0.87 at 0.36); unrelated stories (Jaccard about 0.02) almost never do. The bands are
stored in the database (db.clusters), so every crawl process and worker machine sees the same index.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import sys
import types
from dataclasses import dataclass
from typing import TYPE_CHECKING

from newsmon.words import fold_words

# numpy is imported where a signature is read: a command that only reads the archive (search, show) imports
# this module through the clusters and must not wait for numpy.
if TYPE_CHECKING:
    import numpy as np


@functools.cache
def load_minhash() -> tuple[type, np.ndarray]:
    """datasketch's MinHash and its permutations, loaded on first use, and without the rest of datasketch.

    datasketch's package imports every sketch it has when it is imported: its LSH classes import SciPy (half
    a second and 40 MB in each process that fingerprints: the crawl's fork server, so every extraction worker
    holds it) and, where redis is installed, the Redis client. Only ``datasketch.minhash`` is needed (it
    imports numpy and datasketch's hash functions), so it is loaded from the package's folder without running
    the package's ``__init__``; a later ``import datasketch`` anywhere loads the package as usual and finds the
    same MinHash class (tests/db/test_neardup.py checks both).
    """
    if "datasketch" in sys.modules:
        from datasketch.minhash import MinHash
    else:
        spec = importlib.util.find_spec("datasketch")
        if spec is None or spec.submodule_search_locations is None:
            raise ImportError("datasketch is not installed")
        package = types.ModuleType("datasketch")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules["datasketch"] = package
        try:
            from datasketch.minhash import MinHash
        finally:
            del sys.modules["datasketch"]  # the submodules stay loaded; the package itself loads when asked for
    return MinHash, MinHash(num_perm=NUM_PERM, seed=_SEED, scheme=_SCHEME).permutations


SHINGLE_WORDS = 3
NUM_PERM = 128
BANDS, ROWS = 42, 3  # datasketch's optimal split of 128 values for a Jaccard threshold near 0.3
# Fixed forever, like datasketch's permutation scheme: signatures stored by one version of newsmon must
# compare with the next one's (datasketch 2.0 changed its default scheme).
_SEED = 1
_SCHEME = "affine32"
# A signature is stored as NUM_PERM little-endian uint32 (datasketch's hash values are below 2**32).
_DTYPE = "<u4"


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What near-duplicate detection keeps of a text: its MinHash signature and its number of shingles."""

    signature: bytes  # NUM_PERM uint32, little-endian
    shingles: int

    def bands(self) -> list[int]:
        """The LSH band keys: a signed 64-bit hash of (band number, its ROWS values), one per band."""
        keys = []
        for band in range(BANDS):
            chunk = self.signature[band * ROWS * 4 : (band + 1) * ROWS * 4]
            digest = hashlib.blake2b(bytes([band]) + chunk, digest_size=8).digest()
            keys.append(int.from_bytes(digest, "little", signed=True))
        return keys

    def values(self) -> np.ndarray:
        import numpy as np

        return np.frombuffer(self.signature, dtype=_DTYPE)


def title_band(title: str, min_words: int = 4) -> list[int]:
    """A band key of the headline (its folded words), for titles of ``min_words`` or more: a short and
    common one ("Live updates") would make every such story a candidate of every other."""
    words = fold_words(title)
    if len(words) < min_words:
        return []
    digest = hashlib.blake2b(b"title " + " ".join(words).encode(), digest_size=8).digest()
    return [int.from_bytes(digest, "little", signed=True)]


def shingles(text: str) -> set[bytes]:
    """The text's distinct 3-word phrases, folded (a text of fewer words is one shingle)."""
    words = fold_words(text)
    if len(words) < SHINGLE_WORDS:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i : i + SHINGLE_WORDS]).encode() for i in range(len(words) - SHINGLE_WORDS + 1)}


def fingerprint(text: str) -> Fingerprint:
    """The fingerprint of a story's cleaned text."""
    phrases = shingles(text)
    minhash_class, permutations = load_minhash()
    minhash = minhash_class(num_perm=NUM_PERM, seed=_SEED, scheme=_SCHEME, permutations=permutations)
    minhash.update_batch(list(phrases))
    signature = minhash.hashvalues.astype(_DTYPE).tobytes()
    return Fingerprint(signature, len(phrases))


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """Estimated share of the shorter text's shingles that are also in the other (0.0 to 1.0).

    From the MinHash estimate of the Jaccard similarity J and the two sizes: |A & B| = J (|A| + |B|) / (1 + J).
    """
    if not a.shingles or not b.shingles:
        return 0.0
    import numpy as np

    jaccard = float(np.count_nonzero(a.values() == b.values())) / NUM_PERM
    common = jaccard * (a.shingles + b.shingles) / (1 + jaccard)
    return min(1.0, common / min(a.shingles, b.shingles))
