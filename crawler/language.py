"""The language of an article, read from its text (py3langid), the page's own declaration breaking ties.

Pages often declare the site's language rather than the article's (a Russian service's English story, a
template left at "en"), so the text decides when the model is sure of it.
"""

from __future__ import annotations

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
    language, probability = load_model().classify(sample)
    if declared is None or language == declared or probability >= _SURE:
        return language
    return declared


def load_model() -> LanguageIdentifier:
    global _identifier
    if _identifier is None:  # loaded once per process (about 50 ms)
        _identifier = LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)
    return _identifier
