"""File paths (and texts that quote them) as the index stores them.

A Linux file name is bytes; Python gives one that is not valid UTF-8 as a ``str`` with lone
surrogates (``os.fsdecode(b'b_\\xff.png') == 'b_\\udcff.png'``), which sqlite3 cannot bind.
The index stores such a string with each lone surrogate written as :data:`ESC` and its code
point in 4 hex digits (``'b_' + ESC + 'dcff.png'``), and :data:`ESC` itself doubled, and reads it
back as the very same string, so ``os.fsencode(path)`` gives the exact bytes again.

A valid UTF-8 path without :data:`ESC` (a private-use character no real name carries) is stored
as it is, so no existing row changes. The encoding works character by character: the encoded
form of a folder is a prefix of the encoded form of every path under it, and the folder range
queries (``path > folder/ AND path < folder0``) keep working.
"""

from __future__ import annotations

import re

ESC = "\U0010fffd"  # the last usable private-use character (plane 16)
_NEEDS_ENCODING = re.compile(f"[\ud800-\udfff{ESC}]")
_ENCODED = re.compile(f"{ESC}({ESC}|[dD][89a-fA-F][0-9a-fA-F]{{2}})")


def _encode_char(m: re.Match[str]) -> str:
    c = m.group(0)
    return ESC + ESC if c == ESC else f"{ESC}{ord(c):04x}"


def _decode_escape(m: re.Match[str]) -> str:
    code = m.group(1)
    return ESC if code == ESC else chr(int(code, 16))


def to_db(text: str) -> str:
    """``text`` as it is stored: bindable by sqlite3 (no lone surrogates), reversible."""
    if text.isascii() or _NEEDS_ENCODING.search(text) is None:
        return text
    return _NEEDS_ENCODING.sub(_encode_char, text)


def from_db(text: str) -> str:
    """What :func:`to_db` was given. A stray :data:`ESC` (not an escape) stays as it is."""
    if text.isascii() or ESC not in text:
        return text
    return _ENCODED.sub(_decode_escape, text)


def opt_from_db(text: str | None) -> str | None:
    return None if text is None else from_db(text)
