"""The text as words: what each belongs to (fact span, code block, line, paragraph), and back.

`layout` cuts a text into words and marks their units; `render` puts the kept words back
with the line and paragraph breaks, list markers and speaker labels they stood with.
budget.py decides which words stay.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .spans import Span

WORD = re.compile(r"\S+")
BLANK_LINE = re.compile(r"\n[ \t]*\n")
FENCE_LINE = re.compile(r"^[ \t]*(```|~~~)", re.MULTILINE)
LIST_MARK = re.compile(r"^(?:[-*•+>]|\d{1,3}[.)]|[a-zA-Z][.)]|#{1,6}|\|)$")
SPEAKER = re.compile(r"^[A-ZÀ-ÖØ-Þ][\w.'\u2019-]*(?:\s+[A-ZÀ-ÖØ-Þ][\w.'\u2019-]*){0,3}:")


@dataclass
class Layout:
    """The text cut into words, with what each belongs to."""

    text: str
    starts: np.ndarray
    ends: np.ndarray
    line: np.ndarray  # line number of each word
    group: np.ndarray  # -1, or the fact span / code block the word is part of
    structural: np.ndarray  # bool: list marker, table pipe, speaker label
    groups: list[tuple[str, int, int]]  # (kind, first word, last word + 1)


def word_range(doc: "Layout", start: int, end: int) -> tuple[int, int]:
    """[first, last) of the words that overlap the characters [start, end)."""
    first = int(np.searchsorted(doc.ends, start, side="right"))
    return first, max(first, int(np.searchsorted(doc.starts, end, side="left")))


def fenced_blocks(text: str) -> list[tuple[int, int]]:
    """Character ranges of ``` (or ~~~) blocks, fences included; an unclosed one runs to the end."""
    blocks = []
    fences = list(FENCE_LINE.finditer(text))
    i = 0
    while i < len(fences):
        opening = fences[i]
        closing = next((f for f in fences[i + 1 :] if f.group(1) == opening.group(1)), None)
        if closing is None:
            blocks.append((opening.start(), len(text)))
            break
        end = text.find("\n", closing.end())
        blocks.append((opening.start(), len(text) if end < 0 else end))
        i = fences.index(closing) + 1
    return blocks


def layout(text: str, spans: Sequence[Span]) -> Layout:
    matches = list(WORD.finditer(text))
    starts = np.fromiter((m.start() for m in matches), dtype=np.int64, count=len(matches))
    ends = np.fromiter((m.end() for m in matches), dtype=np.int64, count=len(matches))
    breaks = np.flatnonzero(np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32) == 10)
    line = np.searchsorted(breaks, starts)
    group = np.full(len(matches), -1, dtype=np.int64)
    groups: list[tuple[str, int, int]] = []
    doc = Layout(text, starts, ends, line, group, np.zeros(len(matches), dtype=bool), groups)

    def claim(kind: str, start: int, end: int) -> None:
        first, last = word_range(doc, start, end)
        if first >= last:
            return
        taken = group[first:last]
        if (taken >= 0).any():
            # Overlaps an earlier group (a fact inside a code block): join it.
            index = int(taken[taken >= 0][0])
            kind_, a, b = groups[index]
            groups[index] = (kind_, min(a, first), max(b, last))
            group[min(a, first) : max(b, last)] = index
            return
        group[first:last] = len(groups)
        groups.append((kind, first, last))

    for start, end in fenced_blocks(text):
        claim("code", start, end)
    for span in spans:
        claim(span.kind, span.start, span.end)

    structural = doc.structural
    first_of_line = np.ones(len(matches), dtype=bool)
    first_of_line[1:] = line[1:] != line[:-1]
    for i in np.flatnonzero(first_of_line):
        if group[i] >= 0 and groups[group[i]][0] == "code":
            continue
        word = matches[i].group()
        if LIST_MARK.match(word):
            structural[i] = True
        line_end = text.find("\n", starts[i])
        head = text[starts[i] : line_end if line_end >= 0 else len(text)]
        label = SPEAKER.match(head)
        if label:
            j = i
            while j < len(matches) and ends[j] <= starts[i] + label.end():
                structural[j] = True
                j += 1
    structural |= np.fromiter((m.group() == "|" for m in matches), dtype=bool, count=len(matches))
    return doc


def render(doc: Layout, keep: np.ndarray) -> str:
    """The kept words in order; breaks between lines kept, a blank line where there was one."""
    text = doc.text
    shown = keep.copy()
    # A line's structure words come along when any other word of the line is kept.
    content = keep & ~doc.structural
    lines_with_content = np.unique(doc.line[content])
    shown |= doc.structural & np.isin(doc.line, lines_with_content)
    out: list[str] = []
    previous = -1
    for i in np.flatnonzero(shown).tolist():
        if previous >= 0:
            gap = text[doc.ends[previous] : doc.starts[i]]
            same_group = doc.group[i] >= 0 and doc.group[i] == doc.group[previous]
            if i == previous + 1 and (same_group or "\n" not in gap):
                out.append(gap)  # inside a fact or a code block, or adjacent words: as written
            elif "\n" in gap:
                out.append("\n\n" if BLANK_LINE.search(gap) else "\n")
            else:
                out.append(" ")
        out.append(text[doc.starts[i] : doc.ends[i]])
        previous = i
    return "".join(out)
