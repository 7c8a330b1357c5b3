"""Folding for partial-match search, as MAMIS's `text::search_key` does:
width (NFKC), hiragana to katakana, long-vowel look-alikes to ー, no spaces
or middle dots, lower case."""
import unicodedata

_HIRAGANA_TO_KATAKANA = {c: c + 0x60 for c in range(0x3041, 0x3097)}
_HIRAGANA_TO_KATAKANA.update({0x309D: 0x30FD, 0x309E: 0x30FE})
for _c in "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d\uff70\u301c\uff5e":
    _HIRAGANA_TO_KATAKANA[ord(_c)] = ord("ー")
for _c in "・･ \u3000\t":
    _HIRAGANA_TO_KATAKANA[ord(_c)] = None


def search_key(s: str) -> str:
    s = unicodedata.normalize("NFKC", s)
    return "".join(s.translate(_HIRAGANA_TO_KATAKANA).split()).lower()


def halfwidth(s: str) -> str:
    """Full-width ASCII typed in a half-width field counts as half-width."""
    return unicodedata.normalize("NFKC", s).strip()
