"""The regular expressions that find each kind of fact (spans.py runs and merges them).

They cover the formats of English, German, Spanish, French, Italian, Dutch and
Portuguese documents: decimal commas, "17. Oktober 2025", "15 de dezembro de 2025",
"4,87 Mio. €", "vrijdag 14 november 2025", weekday-first e-mail dates.
"""

import re

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
    "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|"
    # it
    "gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre|"
    # nl
    "januari|februari|maart|mei|augustus|"
    # pt
    "janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|novembro|dezembro"
)
_WEEKDAYS = (
    "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Mon|Tue|Tues|Wed|Thu|Thurs|"
    "Fri|Sat|Sun|Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag|"
    "lunes|martes|miércoles|jueves|viernes|sábado|domingo|"
    "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|"
    "lunedì|martedì|mercoledì|giovedì|venerdì|sabato|"
    "maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag|"
    "segunda-feira|terça-feira|quarta-feira|quinta-feira|sexta-feira"
)
_SCALE = (
    r"thousand|million|billion|trillion|bn|mn|m|k|"
    r"Tsd|Mio|Mrd|Millionen|Milliarden|"
    r"mil millones|millones|millón|mil|"
    r"millions|million|milliards|milliard|"
    r"mila|milioni|milione|miliardi|miljoen|miljard|mln|mld|"
    r"milhões|milhão|bilhões|bilhão|mil milhões"
)
_UNIT = (
    r"%|percent|per cent|percentage points?|pp|basis points|bps|Prozent|Prozentpunkte|"
    r"por ciento|puntos porcentuales|pour cent|points de pourcentage|per cento|"
    r"punti percentuali|procent|procentpunt|por cento|pontos percentuais|"
    r"°C|°F|ºC|K|"
    r"ms|µs|ns|s|sec|secs|seconds?|min|mins|minutes?|h|hrs?|hours?|days?|weeks?|months?|"
    r"years?|Sekunden|Minuten|Stunden|Tage|Tagen|Wochen|Monate|Monaten|Jahre|Jahren|"
    r"segundos|minutos|horas|días|semanas|meses|años|secondes|heures|jours|semaines|mois|ans|"
    r"secondi|minuti|ore|giorni|settimane|mesi|anni|seconden|uur|dagen|weken|maanden|jaar|"
    r"dias|anos|"
    r"p50|p90|p95|p99|p99\.9|"
    r"KB|MB|GB|TB|KiB|MiB|GiB|TiB|kB|Mbps|Gbps|req/s|rps|QPS|tokens?|"
    r"mmHg|mmol/L|µmol/L|mEq/L|mg/dL|mg/kg|mL/min(?:/1\.73\s?m²)?|bpm|IU|IV|"
    r"mm|cm|m|km|km/h|mph|kg|g|mg|µg|mcg|ml|mL|l|L|t|kWh|MWh|GWh|kW|MW|GW|W|V|A|m²|m³|ha|"
    r"kilometres|kilometers|metres|meters|miles|feet|ft|Kilometer|Meter|kilómetros|metros|"
    r"kilomètres|mètres|tonnes|tons|Tonnen|toneladas|litres|liters|Liter|litros|hectares|"
    r"HT|TTC|MwSt|IVA|VAT|btw|netto|brutto|d'euros|d\u2019euros|de euros|of euros|"
    r"zzgl\. USt|zzgl\. MwSt|inkl\. MwSt|USt|"
    r"pence|p|cents?|céntimos|euros?|EUR|USD|GBP|CHF|JPY|SEK|NOK|DKK|BRL|dollars?|pounds?|"
    r"Euro|reais|kr|"
    r"shares|Aktien|acciones|actions|employees|Mitarbeiter|empleados|users|customers|"
    r"per share|je Aktie|por acción|par action|x"
)
_CURRENCY = r"[$€£¥₹]|US\$|A\$|C\$|R\$|USD|EUR|GBP|CHF|SEK|BRL"
# 1,234.5 / 1.234,5 / 12 500 / -3.2 / 15 with a Unicode minus (U+2212) or an en dash
# used as one; "~40" and "≈40" are approximate amounts.
_NUMBER = r"[~≈]?[-+\u2212\u2013±]?(?:\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+|\d+)(?:[.,]\d+)?"

QUANTITY = (
    rf"(?:(?:{_CURRENCY})\s?)?{_NUMBER}(?:/\d+(?:[.,]\d+)?)?"
    rf"(?:\s?(?:{_SCALE})(?![\w])\.?)?"
    rf"(?:\s?(?:{_UNIT}|{_CURRENCY})(?![\w])\.?){{0,2}}"
)

# Joins two facts into one: "$296.0 million to $300.0 million", "2 hours and 47 minutes",
# "11/03/2025 at 14:20".
JOINERS = re.compile(
    r"\s*(?:-|\u2013|\u2014|to|and|und|bis|y|a|à|et|or|oder|o|ou|between|entre|zwischen|"
    r"e|tra|en|tot|at|um|alle|om|às|a las|,)\s*",
    re.IGNORECASE,
)

# "Dr." and "J." end in a full stop; a longer word's full stop ends the sentence.
_NAME_WORD = r"(?:[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]{0,2}\.|[A-ZÀ-ÖØ-Þ][A-Za-zÀ-ÖØ-öø-ÿ'\u2019\-]*)"
# Lowercase words inside names ("María José Sánchez y Robles", "Bank of England"); not
# German "und"/"für"/"der", which would join capitalised nouns into false names.
_PARTICLE = r"(?:de|del|de la|la|van|van der|von|von der|da|di|du|le|y|bin|al|&|of)"
# A word of a shell command line: "kubectl", "deployment/billing-api", "tidemark==2.0.1".
_COMMAND_WORD = r"[a-z./~][\w./:@=~+-]*"

# Every repetition is bounded: each match attempt then reads at most a few hundred
# characters, so an adversarial input (50,000 characters of "a-a-a-…") costs linear time
# instead of minutes of backtracking (tests/test_compression_facts.py times them).
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("inline_code", re.compile(r"`[^`\n]{1,200}`")),
    ("url", re.compile(r"\b(?:https?|ftp|wss?)://[^\s<>\"'`]+[^\s<>\"'`.,;:!?)\]]")),
    ("email", re.compile(r"\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,6}\b")),
    # A container image or a host's path: "ghcr.io/pagaja/conciliador:3.8.0-alpine".
    (
        "path",
        re.compile(
            r"\b[\w-]{1,63}(?:\.[\w-]{1,63}){0,4}\.[a-z]{2,12}(?:/[\w.-]{1,80}){1,8}(?::[\w.-]{1,40})?"
        ),
    ),
    ("path", re.compile(r"(?<![\w/])(?:~|\.{1,2})?/(?:[\w.@+-]+/)*[\w.@+-]+/?")),
    ("path", re.compile(r"\b[A-Za-z]:\\(?:[\w .-]+\\)*[\w.-]+")),
    ("path", re.compile(r"\b[\w.-]{1,80}(?:/[\w.-]{1,80}){1,12}\.[A-Za-z0-9]{1,6}\b")),
    (
        "file",
        re.compile(
            r"\b[\w-]{1,80}\.(?:so|py|js|ts|json|ya?ml|toml|ini|cfg|conf|txt|md|csv|log|sh|xml|html|"
            r"sql|lock|env|pdf|docx?|xlsx?|zip|gz|tar|dll|exe|jar|whl)(?:\.\w{1,12}){0,3}\b"
        ),
    ),
    # A product with its version: "Python 3.9", "PostgreSQL 15.4".
    ("version", re.compile(r"\b[A-Z][\w+#-]{0,40}\s{1,4}v?\d{1,6}(?:\.\d{1,6}){1,4}\b")),
    (
        "call",
        re.compile(
            r"\b(?:(?:async\s+)?def\s+|function\s+|func\s+|fn\s+)?"
            r"[A-Za-z_]\w{0,63}(?:\.[A-Za-z_]\w{0,63}){0,6}\([^()\n]{0,120}\)"
            r"(?:\s*->\s*[\w.]+(?:\[[\w., \[\]]*\])?)?"
        ),
    ),
    # A flag or a pinned requirement; spans.py takes the command words before it along.
    (
        "command",
        re.compile(
            r"(?<=\s)(?:-[A-Za-z](?:\s(?!-)[\w./:@~+-]*\w)?|--[A-Za-z][\w-]*(?:=[\w./:@~+-]+)?)"
            r"(?!\S)|(?<!\S)[\w.\[\],-]{1,64}==[\w.]{0,32}\w"
        ),
    ),
    ("env", re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")),
    # Dotted names: "psycopg2.OperationalError", "payments-gw-02.eu-west-1".
    ("identifier", re.compile(r"\b[A-Za-z_][\w-]{0,63}(?:\.[A-Za-z_][\w-]{0,63}){1,6}\b")),
    (
        "identifier",
        re.compile(
            r"\b[A-Za-z]{1,40}[0-9]{0,12}(?:[-_][A-Za-z0-9]{1,40}){0,6}[-_][A-Za-z0-9]{0,40}\d[\w-]{0,40}"
        ),
    ),
    (
        "identifier",
        re.compile(
            r"\b\d{1,12}(?:-[A-Za-z0-9]{1,16}){0,4}-[A-Za-z]{1,16}(?:-[A-Za-z0-9]{1,16}){0,4}\b"
        ),
    ),
    ("identifier", re.compile(r"#\d+\b|\b[A-Z]{2,}\d+[A-Z0-9]*\b|\b\d+[A-Z]{2,}[A-Z0-9]*\b")),
    ("identifier", re.compile(r"\b(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{6,}\b")),
    # IBANs in groups of four: "NL91 ABNA 0417 1643 00".
    ("identifier", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")),
    # A register, record or week number: "HRB 214876", "MRN 00482-7731", "KW 47".
    ("identifier", re.compile(r"\b[A-Z]{2,5}\s\d{2,}(?:[-/]\d+)*\b")),
    # Paragraphs and clauses: "§ 4 Abs. 2", "Art. 6 Abs. 1", "Section 12.3".
    (
        "identifier",
        re.compile(
            r"§{1,2}\s?\d+[a-z]?(?:\s(?:Abs\.|Satz|Nr\.|S\.|lit\.)\s?\d+[a-z]?)*|"
            r"\b(?:Art\.|Artikel|Article|Artículo|Artigo|Articolo|Clause|Section|Sec\.)"
            r"\s\d+(?:\.\d+)*(?:\s?\([a-z0-9]\))?"
        ),
    ),
    ("phone", re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){1,5}(?![\w])")),
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
            # The weekday and the Romance article belong to the date: "vrijdag 14 november
            # 2025", "Tue, 4 Nov 2025", "le 14 février 2026", "il 3 maggio 2025".
            rf"(?:\b(?:{_WEEKDAYS})\b\.?,?\s+)?(?:\b(?:le|il|el)\s+)?"
            rf"(?:\b\d{{1,2}}(?:st|nd|rd|th|er|\.|º)?\s+(?:de\s+)?(?:{_MONTHS})\b\.?"
            rf"(?:,?\s+(?:de\s+)?\d{{4}})?"
            rf"|\b(?:{_MONTHS})\b\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
            rf"|\b(?:{_MONTHS})\b\s+(?:de\s+)?\d{{4}})",
            re.IGNORECASE,
        ),
    ),
    (
        "date",
        re.compile(
            r"\b(?:Q[1-4]|H[12])\s?(?:FY)?\s?\d{2,4}\b|\bFY\s?\d{2,4}\b|"
            r"\b(?:KW|week|Woche|semana|semaine|settimana)\s\d{1,2}\b"
        ),
    ),
    (
        "time",
        re.compile(
            r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?(?:[ap]\.?m\.?|Uhr|h))?"
            r"(?:\s(?:UTC|GMT|CET|CEST|EST|EDT|PST|PDT|BST|IST|JST)(?:[+-]\d{1,2})?|\s[+-]\d{4})?"
            r"|\b\d{1,2}\s?(?:[ap]\.?m\.?)(?!\w)",
            re.IGNORECASE,
        ),
    ),
    ("quantity", re.compile(rf"(?<![\w.,]){QUANTITY}(?![\w])")),
    # A range with its opening word: "between 4 and 6 weeks", "tra 5 e 7 giorni".
    (
        "quantity",
        re.compile(
            rf"\b(?:between|from|entre|zwischen|von|tra|fra|tussen|van|de|du)\s+{_NUMBER}"
            rf"\s*(?:and|to|und|bis|y|a|e|et|en|tot|à|-|\u2013)\s*{QUANTITY}(?![\w])",
            re.IGNORECASE,
        ),
    ),
    (
        "name",
        # Within a line: a heading above a name is not part of it.
        re.compile(
            rf"\b{_NAME_WORD}(?:[ \t]{{1,3}}(?:{_PARTICLE}[ \t]{{1,3}})?{_NAME_WORD}){{1,6}}"
        ),
    ),
]

COMMAND_WORD = re.compile(rf"^{_COMMAND_WORD}$")
ORG_SUFFIX = re.compile(
    r"\s+(?:GmbH|AG|Inc\.?|Ltd\.?|LLC|plc|S\.A\.|S\.L\.|SAS|SARL|Co\.|BV|B\.V\.|NV|S\.p\.A\.|Srl|Lda\.?)"
)
