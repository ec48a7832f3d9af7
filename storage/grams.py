"""Two-character grams: how a search finds a two-character Chinese word without reading
every row.

Most Chinese words have two characters (食堂, 停车, 体检), and trigram indexes (SQLite's FTS5
trigram table, PostgreSQL's pg_trgm) cannot look up anything shorter than three. So a text is
also indexed by its bigrams: every pair of neighbouring characters that are both CJK
ideographs or ASCII letters and digits, ASCII lower-cased. A two-character word of those
characters occurs in a text exactly when its one bigram is among the text's; a longer one
only if all of its bigrams are, which narrows the rows a substring match then confirms.

The same function exists three times and must agree: here for Python, registered on every
SQLite connection as `unionbot_bigrams` (its triggers call it; see `storage.db`), and
`POSTGRES_FUNCTION` for PostgreSQL's expression index. `tests/test_search.py` compares them.
"""

from __future__ import annotations

import re

# CJK Unified Ideographs and Extension A, ASCII letters and digits.
_GRAM_CHAR = "0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff"
_PAIR = re.compile(f"(?=([{_GRAM_CHAR}][{_GRAM_CHAR}]))")
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
GRAM_WORD = re.compile(f"[{_GRAM_CHAR}]{{2,}}")


def bigrams(text: str | None) -> list[str]:
    """The distinct bigrams of `text`, sorted (so the same text always gives the same)."""
    if not text:
        return []
    return sorted(set(_PAIR.findall(text.translate(_LOWER))))


def sqlite_bigrams(text: str | None) -> str:
    """`bigrams` as the space-separated words SQLite's FTS5 table indexes."""
    return " ".join(bigrams(text))


def searchable(word: str) -> bool:
    """Whether the bigram index can narrow a search for `word`: two or more characters,
    all of them ideographs or ASCII letters and digits."""
    return GRAM_WORD.fullmatch(word) is not None


# The same, in SQL. Its COST tells the planner that it is dear (about 0.7 ms for a proposal
# of 1,500 characters): without it, a list ordered by number was read newest first with
# the function run on each row, 850 ms for a common word at 10,000 proposals, instead of
# taking the rows from its index. The characters in order, each with the next, kept when
# both are gram characters; `translate` lowers ASCII only, as `_LOWER` does (`lower` would
# follow the collation and fold more).
POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION unionbot_bigrams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT COST 100000 AS $$
  SELECT coalesce(array_agg(DISTINCT g ORDER BY g), '{{}}') FROM (
    SELECT translate(c || n, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS g
    FROM (
      SELECT c, lead(c) OVER (ORDER BY i) AS n
      FROM unnest(string_to_array(t, NULL)) WITH ORDINALITY AS u(c, i)
    ) pairs
    WHERE c ~ '^[{_GRAM_CHAR}]$' AND n ~ '^[{_GRAM_CHAR}]$'
  ) grams
$$
"""
