"""The language of an article, read from its text (py3langid), the page's own declaration breaking ties.

Pages often declare the site's language rather than the article's (a Russian service's English story, a
template left at "en"), so the text decides when the model is sure of it.
"""

from __future__ import annotations

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from newsmon.words import count_words

_SAMPLE = 3000  # characters: enough to be sure, and the model's time grows with the text
_SURE = 0.9  # probability above which the text overrules the page's declaration
_identifier: LanguageIdentifier | None = None


def detect_language(text: str, declared: str | None) -> str | None:
    """ISO 639-1 code of ``text``'s language; ``declared`` when the text is too short or the model unsure."""
    sample = " ".join(text[:_SAMPLE].split())
    if count_words(sample) < 5:
        return declared
    language, probability = classify(load_model(), sample)
    if declared is None or language == declared or probability >= _SURE:
        return language
    return declared


def classify(model: LanguageIdentifier, text: str) -> tuple[str, float]:
    """The most likely language of ``text`` and its probability: py3langid's ``classify``, computed sparsely.

    py3langid counts features into a dense vector of 7,480, multiplies it by the whole 7,480 x 97 table, and
    normalises with a 97 x 97 step; a 3,000-character sample has a few hundred distinct features, so this sums
    only their rows, and the winner's probability needs one pass over the 97 scores (a quarter less time; most
    of what is left is reading the bytes; tests/crawler/test_language.py checks both give the same answers).
    """
    nextmove, output = model.tk_nextmove, model.tk_output
    state, found = 0, []
    for byte in text.encode("utf8", errors="surrogatepass"):
        state = nextmove[(state << 8) + byte]
        if state in output:
            found.extend(output[state])
    if not found:
        scores = model.nb_pc
    else:
        features, counts = np.unique(np.asarray(found, dtype=np.intp), return_counts=True)
        scores = counts.astype(np.float32) @ model.nb_ptc[features] + model.nb_pc
    best = int(np.argmax(scores))
    with np.errstate(over="ignore"):  # a far less likely language's exp() overflows to inf: probability 0
        probability = 1.0 / float(np.exp(scores - scores[best]).sum())
    return model.nb_classes[best], probability


def load_model() -> LanguageIdentifier:
    global _identifier
    if _identifier is None:  # loaded once per process (about 50 ms)
        _identifier = LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)
    return _identifier
