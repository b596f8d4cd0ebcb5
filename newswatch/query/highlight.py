"""Where a query matched in a text: `highlight` (snippets), `matched_forms`."""

from __future__ import annotations

import re
from typing import Sequence

from ..names import fold_word, variant_key
from .batch import name_evidence, name_flag
from .compile import Form, Query, Term
from .tokens import tokenize

ELLIPSIS = "…"
_SPACES = re.compile(r"\s+")


def _find(tokens: list[tuple[int, int, str]], terms: Sequence[Term]) -> list[tuple[int, int]]:
    """Character spans of every occurrence of a term, merged where they overlap."""
    folded = [t[2] for t in tokens]
    n = len(folded)
    spans = []
    for term in terms:
        want, last = term.tokens, len(term.tokens) - 1
        if not want:
            continue
        first = want[0]
        for i in range(n - last):
            tok = folded[i]
            if last == 0:
                ok = tok.startswith(first) if term.prefix else tok == first
            else:
                ok = (tok == first
                      and all(folded[i + k] == want[k] for k in range(1, last))
                      and (folded[i + last].startswith(want[last]) if term.prefix
                           else folded[i + last] == want[last]))
            if ok:
                spans.append((tokens[i][0], tokens[i + last][1]))
    return _merge(spans)


def _find_forms(tokens: list[tuple[int, int, str]], forms: Sequence[Form],
                text: str, evidence: frozenset[str] | None = None) -> list[tuple[int, int]]:
    """Like `_find`, for the folded forms of a compiled query (`text`: the tokens' text,
    for their case, as the batch index folds them; `evidence`: the article's
    `name_evidence`)."""
    cols = {"o": [t[2] for t in tokens]}
    if any(p[0] != "o" for f in forms for p in f.parts):
        if evidence is None:
            evidence = name_evidence(text)
        cols["f"] = [fold_word(t, name_flag(text, s, e, evidence)) for s, e, t in tokens]
    if any(p[0] == "k" for f in forms for p in f.parts):
        cols["k"] = [variant_key(t) for t in cols["f"]]
        lower = [text[s].islower() for s, _, _ in tokens]
    n = len(tokens)
    spans = []
    for form in forms:
        last = len(form.parts) - 1
        if last < 0:
            continue
        for i in range(n - last):
            ok = True
            for k, part in enumerate(form.parts):
                space, want = part[0], part[1]
                got = cols[space][i + k]
                if space == "k":  # a capitalised variant, or the spelling typed in lower case
                    hit = got == want and (not lower[i + k] or cols["f"][i + k] == part[2])
                else:
                    hit = got.startswith(want) if form.prefix and k == last else got == want
                if not hit:
                    ok = False
                    break
            if ok:
                spans.append((tokens[i][0], tokens[i + last][1]))
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching spans as one, in text order."""
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _spans(text: str, query: Query, evidence: frozenset[str] | None = None) -> list[tuple[int, int]]:
    tokens = tokenize(text)
    return (_find_forms(tokens, query.forms, text, evidence) if query.forms
            else _find(tokens, query.terms))


def matched_forms(query: Query, *texts: str) -> list[str]:
    """The surface forms in `texts` (a title, a text) that match `query`'s positive terms,
    in order of first appearance, each once: what `watch test`, `explain` and the email
    show as "matched as"."""
    out: list[str] = []
    evidence = name_evidence(*texts)  # as the index folds an article: title and text together
    for text in texts:
        for s, e in _spans(text or "", query, evidence):
            form = _squash(text[s:e])
            if form not in out:
                out.append(form)
    return out


def _squash(text: str) -> str:
    return _SPACES.sub(" ", text)


def highlight(text: str, query: Query, width: int = 240) -> list[tuple[str, bool]]:
    """About `width` characters of `text` around the first match, as (segment, is_match).

    Whitespace runs (paragraph breaks) become single spaces; "…" segments mark cuts.  A
    phrase is one segment even across a hyphen; a prefix term marks the whole word.  With
    no match, the snippet is the start of the text."""
    if not text:
        return []
    spans = _spans(text, query)
    n = len(text)
    if spans:
        m_start, m_end = spans[0]
        start = max(0, m_start - width // 4)
        if start > 0:  # begin at a word boundary, never after the match
            ws = _next_space(text, start, m_start)
            start = ws + 1 if ws is not None else m_start
    else:
        m_start = m_end = start = 0
    end = max(start + width, m_end)
    if end < n:
        ws = _prev_space(text, max(m_end, start + 1), end)
        if ws is not None:
            end = ws
    end = min(end, n)
    for s, e in spans:  # never cut through a match
        if s < end < e:
            end = e
    segments: list[tuple[str, bool]] = []
    pos = start
    for s, e in spans:
        if s < start or e > end:
            continue
        if s > pos:
            segments.append((text[pos:s], False))
        segments.append((text[s:e], True))
        pos = e
    if pos < end:
        segments.append((text[pos:end], False))
    segments = [(_squash(seg), hit) for seg, hit in segments]
    if segments and not segments[0][1]:
        segments[0] = (segments[0][0].lstrip(), False)
    if segments and not segments[-1][1]:
        segments[-1] = (segments[-1][0].rstrip(), False)
    segments = [(seg, hit) for seg, hit in segments if seg]
    if start > 0:
        segments.insert(0, (ELLIPSIS, False))
    if end < n and text[end:].strip():
        segments.append((ELLIPSIS, False))
    return segments


def _next_space(text: str, lo: int, hi: int) -> int | None:
    for i in range(lo, hi):
        if text[i].isspace():
            return i
    return None


def _prev_space(text: str, lo: int, hi: int) -> int | None:
    for i in range(hi, lo - 1, -1):
        if text[i].isspace():
            return i
    return None
