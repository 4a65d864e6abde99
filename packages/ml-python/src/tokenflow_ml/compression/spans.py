"""Where the facts are: character spans a compressor must keep whole.

A reader of a compressed prompt needs "£412.6 million", not "£412.6"; "8 September
2024", not "8 2024"; "parse_config(path, strict=False)", not "parse_config(path,".
Each pattern below finds one kind of fact; overlapping and touching finds merge, so
"$296.0 million to $300.0 million" comes out as one span. The patterns cover English,
German, Spanish and French formats (decimal commas, "17. Oktober 2025",
"15 de diciembre de 2024", "4,87 Mio. €").
"""

import re
from dataclasses import dataclass

_MONTHS = (
    # en
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|"
    # de
    "Januar|Jänner|Februar|März|Mai|Juni|Juli|Oktober|Dezember|"
    # es
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|"
    "noviembre|diciembre|"
    # fr
    "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
)
_SCALE = (
    r"thousand|million|billion|trillion|bn|mn|m|k|"
    r"Tsd|Mio|Mrd|Millionen|Milliarden|"
    r"mil millones|millones|millón|mil|"
    r"millions|million|milliards|milliard"
)
_UNIT = (
    r"%|percent|per cent|percentage points?|pp|basis points|bps|Prozent|Prozentpunkte|"
    r"por ciento|puntos porcentuales|pour cent|points de pourcentage|"
    r"°C|°F|ºC|K|"
    r"ms|µs|ns|s|sec|secs|seconds?|min|mins|minutes?|h|hrs?|hours?|days?|weeks?|months?|"
    r"years?|Sekunden|Minuten|Stunden|Tage|Tagen|Wochen|Monate|Monaten|Jahre|Jahren|"
    r"segundos|minutos|horas|días|semanas|meses|años|secondes|heures|jours|semaines|mois|ans|"
    r"KB|MB|GB|TB|KiB|MiB|GiB|TiB|kB|Mbps|Gbps|req/s|rps|QPS|tokens?|"
    r"mm|cm|m|km|km/h|mph|kg|g|mg|µg|mcg|ml|mL|l|L|t|kWh|MWh|GWh|kW|MW|GW|W|V|A|m²|m³|ha|"
    r"kilometres|kilometers|metres|meters|miles|feet|ft|Kilometer|Meter|kilómetros|metros|"
    r"kilomètres|mètres|tonnes|tons|Tonnen|toneladas|litres|liters|Liter|litros|hectares|"
    r"HT|TTC|MwSt|IVA|VAT|netto|brutto|d'euros|d\u2019euros|de euros|of euros|"
    r"pence|p|cents?|céntimos|euros?|EUR|USD|GBP|CHF|JPY|dollars?|pounds?|Euro|"
    r"shares|Aktien|acciones|actions|employees|Mitarbeiter|empleados|users|customers|"
    r"per share|je Aktie|por acción|par action|x"
)
_CURRENCY = r"[$€£¥₹]|US\$|USD|EUR|GBP|CHF|R\$"
# 1,234.5 / 1.234,5 / 12 500 / -3.2 / 15 with a Unicode minus (U+2212)
_NUMBER = r"[-+\u2212±]?(?:\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+|\d+)(?:[.,]\d+)?"

_QUANTITY = (
    rf"(?:(?:{_CURRENCY})\s?)?{_NUMBER}"
    rf"(?:\s?(?:{_SCALE})(?![\w])\.?)?"
    rf"(?:\s?(?:{_UNIT}|{_CURRENCY})(?![\w])\.?){{0,2}}"
)

# Joins two facts into one: "$296.0 million to $300.0 million", "2 hours and 47 minutes".
_JOINERS = re.compile(
    r"\s*(?:-|\u2013|\u2014|to|and|und|bis|y|a|à|et|or|oder|o|ou|between|entre|zwischen|,)\s*",
    re.IGNORECASE,
)

# "Dr." and "J." end in a full stop; a longer word's full stop ends the sentence.
_NAME_WORD = r"(?:[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]{0,2}\.|[A-ZÀ-ÖØ-Þ][A-Za-zÀ-ÖØ-öø-ÿ'\u2019\-]*)"
# Lowercase words inside names ("María José Sánchez y Robles", "Bank of England"); not
# German "und"/"für"/"der", which would join capitalised nouns into false names.
_PARTICLE = r"(?:de|del|de la|la|van|van der|von|von der|da|di|du|le|y|bin|al|&|of)"
# Capitalised words that start sentences rather than names.
_NOT_NAMES = frozenset(
    "The A An In On At For To Of And But Or If When We I It This That These Those Our Your "
    "He She They His Her Their Yes No So As By From With Also Then Thanks Thank Hi Hello Dear "
    "Der Die Das Ein Eine Und Wir Ich Es Sie Er Bei Im Am Zum Zur Für Mit Von Auf "
    "El La Los Las Un Una Y En Con Por Para Del Al Hola Gracias Nosotros "
    "Le Les Un Une Et Dans Sur Pour Avec Nous Je Il Elle Bonjour Merci".split()
)

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("inline_code", re.compile(r"`[^`\n]{1,200}`")),
    ("url", re.compile(r"\b(?:https?|ftp|wss?)://[^\s<>\"'`]+[^\s<>\"'`.,;:!?)\]]")),
    ("email", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("path", re.compile(r"(?<![\w/])(?:~|\.{1,2})?/(?:[\w.@+-]+/)*[\w.@+-]+/?")),
    ("path", re.compile(r"\b[A-Za-z]:\\(?:[\w .-]+\\)*[\w.-]+")),
    ("path", re.compile(r"\b[\w.-]+(?:/[\w.-]+)+\.[A-Za-z0-9]{1,6}\b")),
    (
        "file",
        re.compile(
            r"\b[\w-]+\.(?:so|py|js|ts|json|ya?ml|toml|ini|cfg|conf|txt|md|csv|log|sh|xml|html|"
            r"sql|lock|env|pdf|docx?|xlsx?|zip|gz|tar|dll|exe|jar|whl)(?:\.[\w]+)*\b"
        ),
    ),
    # A product with its version: "Python 3.9", "PostgreSQL 15.4".
    ("version", re.compile(r"\b[A-Z][\w+#-]*\s+v?\d+(?:\.\d+)+\b")),
    ("call", re.compile(r"\b[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*\([^()\n]{0,120}\)")),
    ("env", re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")),
    ("identifier", re.compile(r"\b[A-Za-z]+[0-9]*(?:[-_][A-Za-z0-9]+)*[-_][A-Za-z0-9]*\d[\w-]*")),
    ("identifier", re.compile(r"#\d+\b|\b[A-Z]{2,}\d+[A-Z0-9]*\b|\b\d+[A-Z]{2,}[A-Z0-9]*\b")),
    ("identifier", re.compile(r"\b(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{6,}\b")),
    ("version", re.compile(r"\bv?\d+(?:\.\d+){1,3}(?:[-+][0-9A-Za-z.]+)?\b")),
    (
        "date",
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
            r"|\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b"
        ),
    ),
    (
        "date",
        re.compile(
            rf"\b\d{{1,2}}(?:st|nd|rd|th|er|\.|º)?\s+(?:de\s+)?(?:{_MONTHS})\b\.?"
            rf"(?:,?\s+(?:de\s+)?\d{{4}})?"
            rf"|\b(?:{_MONTHS})\b\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
            rf"|\b(?:{_MONTHS})\b\s+(?:de\s+)?\d{{4}}",
            re.IGNORECASE,
        ),
    ),
    ("date", re.compile(r"\b(?:Q[1-4]|H[12])\s?(?:FY)?\s?\d{2,4}\b|\bFY\s?\d{2,4}\b")),
    (
        "time",
        re.compile(
            r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?(?:[ap]\.?m\.?|Uhr|h))?"
            r"(?:\s(?:UTC|GMT|CET|CEST|EST|EDT|PST|PDT|BST|IST|JST)(?:[+-]\d{1,2})?)?"
            r"|\b\d{1,2}\s?(?:[ap]\.?m\.?)(?!\w)",
            re.IGNORECASE,
        ),
    ),
    ("quantity", re.compile(rf"(?<![\w.,]){_QUANTITY}(?![\w])")),
    (
        "name",
        # Within a line: a heading above a name is not part of it.
        re.compile(rf"\b{_NAME_WORD}(?:[ \t]+(?:{_PARTICLE}[ \t]+)?{_NAME_WORD})+"),
    ),
]

_ORG_SUFFIX = re.compile(r"\s+(?:GmbH|AG|Inc\.?|Ltd\.?|LLC|plc|S\.A\.|S\.L\.|SAS|SARL|Co\.)")


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


def find_spans(text: str) -> list[Span]:
    """Every fact span of `text`, merged where they overlap, touch or are joined ("to")."""
    found: list[Span] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if kind == "quantity" and not any(c.isdigit() for c in match.group()):
                continue
            if kind == "name":
                trimmed = _trim_name(text, start, end)
                if trimmed is None:
                    continue
                start, end = trimmed
                suffix = _ORG_SUFFIX.match(text, end)
                end = suffix.end() if suffix else end
            if end > start:
                found.append(Span(start, end, kind))
    return _merge(text, found)


def _merge(text: str, spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged:
            last = merged[-1]
            gap = text[last.end : span.start]
            joined = span.start <= last.end or (
                len(gap) <= 12
                and _JOINERS.fullmatch(gap) is not None
                and last.kind in _JOINABLE
                and span.kind in _JOINABLE
            )
            if joined:
                kind = last.kind if last.end - last.start >= span.end - span.start else span.kind
                merged[-1] = Span(last.start, max(last.end, span.end), kind)
                continue
        merged.append(span)
    return merged


_JOINABLE = frozenset({"quantity", "date", "time", "version"})
