"""SMS text: the GSM 03.38 (GSM-7) alphabet and one-segment messages.

An SMS in GSM-7 holds 160 characters; one character outside it switches the whole message
to UCS-2 and 70 characters, and a provider bills (and may drop) multi-part messages. So the
renderer replaces look-alikes (typographic quotes, dashes, Afrikaans ê/ë/ô) with GSM-7
ones and cuts the text to one segment; the full text is in the app.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# The GSM 03.38 basic character set (one septet each; ESC is not a character).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: still GSM-7, but each costs two septets (ESC + character).
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7_SEGMENT = 160
UCS2_SEGMENT = 70

# Look-alikes with no GSM-7 decomposition. Letters with accents (ê, ë, ï, ô, û, á, ...) are
# handled by Unicode decomposition below; those GSM-7 already has (é, è, à, ä, ö, ü, ñ, ...)
# are kept as they are.
_GSM7_LOOKALIKES = {
    "\u201c": '"',  # left double quotation mark
    "\u201d": '"',  # right double quotation mark
    "\u201e": '"',  # double low-9 quotation mark
    "\u00ab": '"',  # left-pointing double angle quotation mark
    "\u00bb": '"',  # right-pointing double angle quotation mark
    "\u2033": '"',  # double prime
    "\u2018": "'",  # left single quotation mark
    "\u2019": "'",  # right single quotation mark (the typographic apostrophe)
    "\u201a": "'",  # single low-9 quotation mark
    "\u2032": "'",  # prime
    "\u02bc": "'",  # modifier letter apostrophe
    "\u0060": "'",  # grave accent
    "\u00b4": "'",  # acute accent
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2012": "-",  # figure dash
    "\u2015": "-",  # horizontal bar
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2212": "-",  # minus sign
    "\u2026": "...",  # horizontal ellipsis
    "\u2022": "-",  # bullet
    "\u2044": "/",  # fraction slash (from decomposing 1/2)
    "\u00a0": " ",  # no-break space
    "\u2007": " ",  # figure space
    "\u2009": " ",  # thin space
    "\u202f": " ",  # narrow no-break space
    "\t": " ",
    "\u0149": "'n",  # the Afrikaans "'n" as one character
}
# Pharmacists write "mcg" rather than "µg" anyway: a misread µ is a thousand-fold dose error.
_MICROGRAMS = re.compile("[µμ]g")


def _is_gsm7(character: str) -> bool:
    return character in GSM7_BASIC or character in GSM7_EXTENSION


@functools.lru_cache(maxsize=1024)
def _gsm7_character(character: str) -> str:
    if _is_gsm7(character):
        return character
    if character in _GSM7_LOOKALIKES:
        return _GSM7_LOOKALIKES[character]
    decomposed = "".join(
        _GSM7_LOOKALIKES.get(part, part)
        for part in unicodedata.normalize("NFKD", character)
        if not unicodedata.combining(part)
    )
    if decomposed and all(_is_gsm7(part) for part in decomposed):
        return decomposed
    # No close GSM-7 character (an emoji, a script GSM-7 lacks): kept, and the SMS goes
    # out in UCS-2 rather than losing what was written.
    return character


def gsm7(text: str) -> str:
    """``text`` with characters outside GSM 03.38 replaced by close GSM-7 ones where they
    exist (ê→e, typographic quotes and apostrophes→" and ', dashes→-, the ellipsis→...), so
    an SMS is billed as 160-character segments rather than 70-character UCS-2 ones."""
    text = _MICROGRAMS.sub("mcg", text)
    return "".join(_gsm7_character(character) for character in text)


def _sms_cost(character: str, *, unicode: bool) -> int:
    if unicode:
        return 2 if ord(character) > 0xFFFF else 1  # UTF-16 code units
    return 2 if character in GSM7_EXTENSION else 1


def fit_single_sms(text: str) -> str:
    """``text`` cut at a word, with "...", to fit one SMS segment: 160 GSM-7 septets, or 70
    UCS-2 characters when something outside GSM-7 remains. Providers bill and may drop
    multi-part messages; the app holds the full text."""
    unicode = not all(_is_gsm7(character) for character in text)
    limit = UCS2_SEGMENT if unicode else GSM7_SEGMENT
    if sum(_sms_cost(character, unicode=unicode) for character in text) <= limit:
        return text
    ellipsis = "..."
    budget = limit - len(ellipsis)
    kept: list[str] = []
    used = 0
    for character in text:
        cost = _sms_cost(character, unicode=unicode)
        if used + cost > budget:
            break
        kept.append(character)
        used += cost
    cut = "".join(kept)
    # Prefer ending at a word unless that throws away most of the message.
    word_end = cut.rfind(" ")
    if word_end > budget // 2:
        cut = cut[:word_end]
    return cut.rstrip(" ,;:-") + ellipsis
