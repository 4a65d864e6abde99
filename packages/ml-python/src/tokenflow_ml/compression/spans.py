"""Where the facts are: character spans a compressor must keep whole.

A reader of a compressed prompt needs "£412.6 million", not "£412.6"; "8 September
2024", not "8 2024"; "parse_config(path, strict=False)", not "parse_config(path,".
Each pattern of fact_patterns.py finds one kind of fact; an amount, a code or a version
takes its label along (labels.py: "EBITDA margin of 14.8%", "commit a3f9c1e"), and
overlapping, touching and joined finds merge, so "$296.0 million to $300.0 million"
comes out as one span.
"""

import re
from dataclasses import dataclass

from .fact_patterns import JOINERS, ORG_SUFFIX, PATTERNS
from .labels import is_stop_or_link, label_end, label_start

# Capitalised words that start sentences rather than names.
_NOT_NAMES = frozenset(
    "The A An In On At For To Of And But Or If When We I It This That These Those Our Your "
    "He She They His Her Their Yes No So As By From With Also Then Thanks Thank Hi Hello Dear "
    "Der Die Das Ein Eine Und Wir Ich Es Sie Er Bei Im Am Zum Zur Für Mit Von Auf "
    "El La Los Las Un Una Y En Con Por Para Del Al Hola Gracias Nosotros "
    "Le Les Une Et Dans Sur Pour Avec Nous Je Il Elle Bonjour Merci "
    "Lo Gli Ciao Grazie Het Een De Wij Ik Hallo Bedankt O Os Um Uma Olá Obrigado".split()
)
# Kinds that take the words naming them along, and those that also take what they count.
_LABELLED = frozenset({"quantity", "identifier", "version"})
_COUNTED = frozenset({"quantity"})
_JOINABLE = frozenset({"quantity", "date", "time", "version"})
_MAX_JOINED = 200
# A year counts nothing: "In 2024 revenue grew" has no "2024 revenue".
_YEAR = re.compile(r"(?:1[89]|20)\d\d")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str


def _trim_name(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Drops sentence-opening words ("The Harbour Authority" → "Harbour Authority")."""
    words = text[start:end].split()
    while words and words[0].rstrip(".") in _NOT_NAMES:
        start = text.index(words[0], start) + len(words[0])
        while start < end and text[start].isspace():
            start += 1
        words = words[1:]
    return (start, end) if len(words) >= 2 else None


def _is_dotted_name(found: str) -> bool:
    # "psycopg2.OperationalError", not "e.g" or "z.B".
    parts = found.split(".")
    return len(found) >= 6 and max(len(p) for p in parts) >= 3


def find_spans(text: str) -> list[Span]:
    """Every fact span of `text`, merged where they overlap, touch or are joined ("to")."""
    found: list[Span] = []
    for kind, pattern in PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if kind == "quantity" and not any(c.isdigit() for c in match.group()):
                continue
            if kind == "identifier" and "." in match.group() and not _is_dotted_name(match.group()):
                continue
            if kind == "command":
                # The command words before the flag: "kubectl rollout undo … -n prod".
                start = label_start(text, start, command=True)
            if kind == "name":
                trimmed = _trim_name(text, start, end)
                if trimmed is None:
                    continue
                start, end = trimmed
                suffix = ORG_SUFFIX.match(text, end)
                end = suffix.end() if suffix else end
            if end > start:
                found.append(Span(start, end, kind))
    if not _capitalises_nouns(text):
        found += _places(text)
    return _with_labels(text, _merge(text, found))


# A proper noun inside a sentence, with the nouns it qualifies: "the Hamburg office",
# "(Site Manager, Brackmills depot)", "into the Rotterdam distribution hub".
_PLACE = re.compile(r"(?<=[\w,;(] )[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]{2,}((?:[ ][a-zà-öø-ÿ][\w-]{2,}){1,2})")
_MID_SENTENCE_CAPITAL = re.compile(r"(?<=[a-zà-öø-ÿ,] )[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]")
# German capitalises every noun: a capital inside a sentence says nothing there.
# Measured on the development documents: 17-26% of words in German, under 11% in the others.
_NOUN_CAPITALS = 0.14


# And it is German only if German's commonest words are there too: a short English line
# with two names in it has as many capitals.
_GERMAN_WORDS = frozenset("der die das und ist nicht mit für wir sie ein eine den dem auf".split())
_GERMAN_SHARE = 0.03


_VERB_FORM = re.compile(r"(?:ed|ing)[,.;:!?]*$")


def _capitalises_nouns(text: str) -> bool:
    words = text.split()
    if not words:
        return False
    german = sum(word.lower() in _GERMAN_WORDS for word in words)
    capitals = len(_MID_SENTENCE_CAPITAL.findall(text))
    return capitals / len(words) > _NOUN_CAPITALS and german >= max(2, _GERMAN_SHARE * len(words))


def _places(text: str) -> list[Span]:
    found = []
    for match in _PLACE.finditer(text):
        if match.group().split()[0] in _NOT_NAMES:
            continue
        previous = text[max(0, match.start() - 40) : match.start()].split()
        if previous and previous[-1][:1].isupper():
            continue  # the end of a longer name ("Harbour Authority"): the name pattern's
        # The nouns after it, up to a function word ("the Hamburg office in May") or an
        # English verb form ("the Brexit team answered").
        end = match.start(1)
        for word in re.finditer(r"\S+", match.group(1)):
            if is_stop_or_link(word.group()) or _VERB_FORM.search(word.group()):
                break
            end = match.start(1) + word.end()
        if end > match.start(1):
            found.append(Span(match.start(), end, "name"))
    return found


def _with_labels(text: str, spans: list[Span]) -> list[Span]:
    """Each amount, code and version with its label; a label stops at the fact before or
    after it, so labels never chain facts into one long span."""
    labelled: list[Span] = []
    for i, span in enumerate(spans):
        start, end = span.start, span.end
        if span.kind in _LABELLED:
            start = max(label_start(text, start), labelled[-1].end if labelled else 0)
            while start < span.start and text[start].isspace():
                start += 1
        if span.kind in _COUNTED and not _YEAR.fullmatch(text[span.start : span.end]):
            following = spans[i + 1].start if i + 1 < len(spans) else len(text)
            end = min(label_end(text, end), following)
        labelled.append(Span(start, end, span.kind))
    return labelled


def _merge(text: str, spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged:
            last = merged[-1]
            gap = text[last.end : span.start]
            joinable = (
                # Joined facts stay facts: "1-1-1-…" is not one 50,000-character span.
                span.end - last.start <= _MAX_JOINED
                and last.kind in _JOINABLE
                and span.kind in _JOINABLE
            )
            joined = span.start <= last.end or (
                joinable
                and (
                    # A date and its time: "Tue, 4 Nov 2025 09:14:52 +0000".
                    (not gap.strip() and last.kind == "date" and span.kind == "time")
                    or (len(gap) <= 12 and JOINERS.fullmatch(gap) is not None)
                )
            )
            if joined:
                kind = last.kind if last.end - last.start >= span.end - span.start else span.kind
                merged[-1] = Span(last.start, max(last.end, span.end), kind)
                continue
        merged.append(span)
    return merged
