"""A user's search query, read into units and written as an FTS5 expression.

Nothing the user types is passed to FTS5 as syntax: every unit is a quoted phrase of the
normalised tokens, so ``C++``, ``42.50``, ``"``, ``a@b.com``, ``NEAR`` or ``(`` cannot error.
What the query understands:

- words separated by spaces must all match (AND); a word is split where its script changes
  (``iPhone手机`` → ``iphone`` AND ``手机``); punctuation inside a word keeps its parts together
  as a phrase (``42.50`` → the tokens ``42`` ``50`` adjacent, ``2024-0193``, ``a.b@x.com``);
- a CJK run matches as a substring (its bigrams as one phrase; one character by itself);
- ``"quoted words"`` match as one phrase; ``-word`` excludes (when something else is searched);
  ``OR`` in capitals between two words matches either;
- the last word also matches as a prefix (search as you type) unless the query ends in a space.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeAlias

from vlagent.index.segment import bigrams, tokens

_QUOTED = re.compile(r'(-?)"([^"]*)"|(\S+)')
# Shorter last words match whole: their prefix would merge thousands of doclists. The index
# keeps 3-letter prefixes; longer ones can be expanded into the words they start (see migrations).
MIN_PREFIX = 3
INDEXED_PREFIX = 3
Expand = Callable[[str], "list[str] | None"]
# A word or quoted phrase of a query as parse() reads it: (units, excluded, quoted); or the string "OR".
_Item: TypeAlias = "str | tuple[list[Unit], bool, bool]"


@dataclass(frozen=True)
class Unit:
    """One phrase to find: pieces in order, each a word (Latin etc.) or a CJK run."""

    pieces: tuple[tuple[str, bool], ...]  # (normalised text, is a CJK run)
    prefix: bool = False  # the last piece, a word, may be the start of a longer word

    def fts(self, expand: Expand | None = None) -> str:
        """The FTS5 phrase; ``expand`` may turn a one-word prefix into an OR of the words it starts."""
        words = [bigrams(text) if cjk else text for text, cjk in self.pieces]
        if self.prefix and expand is not None and len(words) == 1 and len(words[0]) > INDEXED_PREFIX:
            expanded = expand(words[0])
            if expanded:
                return "(" + " OR ".join(quote(w) for w in expanded) + ")"
        return quote(" ".join(words)) + ("*" if self.prefix else "")

    def atoms(self) -> list[Unit]:
        """Its single index tokens: each word, each bigram of a CJK run (for a relaxed search)."""
        out = []
        for text, cjk in self.pieces:
            grams = bigrams(text).split() if cjk else [text]
            out += [Unit(((g, cjk),)) for g in grams]
        if self.prefix:
            out[-1] = Unit(out[-1].pieces, prefix=True)
        return out


@dataclass
class Query:
    text: str
    clauses: list[list[list[Unit]]] = field(default_factory=list)  # AND of (OR of (AND of units))
    excluded: list[list[Unit]] = field(default_factory=list)
    quoted: bool = False  # the user asked for an exact phrase

    @property
    def units(self) -> list[Unit]:
        return [u for clause in self.clauses for alt in clause for u in alt]

    def match(self, expand: Expand | None = None) -> str:
        """The FTS5 expression ('' when nothing searchable was typed)."""
        if not self.clauses:
            return ""
        parts = []
        for clause in self.clauses:
            alts = [_and(alt, expand) for alt in clause]
            parts.append(alts[0] if len(alts) == 1 else "(" + " OR ".join(f"({a})" for a in alts) + ")")
        expr = " AND ".join(parts)
        for alt in self.excluded:
            expr = f"({expr}) NOT ({_and(alt)})"
        return expr

    def relaxed(self) -> Query | None:
        """Any of the query's tokens (for when the exact query finds nothing); None for a quoted
        phrase, which asks for exactly that, or when there is only one token."""
        if self.quoted:
            return None
        atoms = list(dict.fromkeys(a for u in self.units for a in u.atoms()))
        if len(atoms) < 2:
            return None
        return Query(self.text, [[[a] for a in atoms]], self.excluded)


def _and(units: list[Unit], expand: Expand | None = None) -> str:
    return " AND ".join(u.fts(expand) for u in units)


def quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def units_of(text: str, *, phrase: bool = False) -> list[Unit]:
    """The units of one word (split where the script changes) or, with ``phrase``, of a quoted phrase."""
    units: list[list[tuple[str, bool]]] = []
    prev = None
    for tok in tokens(text):
        if tok.cjk and prev is not None and prev.cjk and prev.end == tok.start:
            text_, _ = units[-1][-1]
            units[-1][-1] = (text_ + tok.norm, True)  # the CJK run goes on
        elif phrase and units:
            units[-1].append((tok.norm, tok.cjk))
        elif not tok.cjk and prev is not None and not prev.cjk:
            units[-1].append((tok.norm, False))  # 42.50, a.b@x.com: parts of one word
        else:
            units.append([(tok.norm, tok.cjk)])
        prev = tok
    return [Unit(tuple(p)) for p in units]


def parse(text: str) -> Query:
    # (units, excluded, quoted) per word or quoted phrase; "OR" kept aside for now.
    items: list[_Item] = []
    for m in _QUOTED.finditer(text.replace("\u201c", '"').replace("\u201d", '"')):
        neg, quoted, word = m.groups()
        if word == "OR":
            items.append(word)
        elif quoted is not None:
            items.append((units_of(quoted, phrase=True), bool(neg), True))
        else:
            excluded = len(word) > 1 and word[0] == "-" and not word[1].isdigit() and word[1] != "-"
            items.append((units_of(word), excluded, False))
    # OR is an operator between two searched words; anywhere else it is the word "or".
    is_op = [isinstance(it, str) and 0 < i < len(items) - 1 and _positive(items[i - 1]) and _positive(items[i + 1])
             for i, it in enumerate(items)]
    items = [it if not isinstance(it, str) or op else (units_of(it), False, False)
             for it, op in zip(items, is_op, strict=True)]
    items = [it for it in items if isinstance(it, str) or it[0]]
    if not any(_positive(it) for it in items):  # only exclusions: read them as words
        items = [(it[0], False, it[2]) for it in items if not isinstance(it, str)]
    q = Query(text, quoted=any(not isinstance(it, str) and it[2] for it in items))
    positive = [it for it in items if not isinstance(it, str) and _positive(it)]
    if positive and not positive[-1][2] and positive[-1] is items[-1] and text[-1:].isalnum():
        last = positive[-1][0]
        word, cjk = last[-1].pieces[-1]
        if not cjk and len(word) >= MIN_PREFIX:
            last[-1] = Unit(last[-1].pieces, prefix=True)
    join_next = False
    for it in items:
        if isinstance(it, str):  # OR
            join_next = True
        elif it[1]:
            q.excluded.append(it[0])
        elif join_next:
            q.clauses[-1].append(it[0])
            join_next = False
        else:
            q.clauses.append([it[0]])
    return q


def _positive(item: _Item) -> bool:
    return not isinstance(item, str) and not item[1] and bool(item[0])
