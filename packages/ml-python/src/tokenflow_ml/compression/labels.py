"""What an amount or a code is *of*: the words next to it that a reader needs with it.

"14.8%" alone is number soup; "EBITDA margin of 14.8%" is a fact. The same goes for
"commit a3f9c1e", "firmware 3.8.1", "levering van 12 pallets", "120 requêtes par minute"
and "kubectl rollout undo deployment/billing-api -n prod". A label is up to three
content words on the same line, joined by the prepositions that link a noun to its
amount; function words, punctuation and other numbers end it.
"""

import re

from .fact_patterns import COMMAND_WORD

# Function words of the languages the patterns cover: a label never reaches past one.
_STOP = frozenset(
    # en
    "a an the is are was were be been being am has have had do does did will would shall "
    "should can could may might must this that these those it its he she they we you i me "
    "him her them us our your their his my and or but if then than so as at by on in to "
    "into from with without about over under after before since until while when where "
    "which who whom whose what why how not no nor only also just very more most less least "
    "up down out off again all any both each few other some such own same too here there "
    "now around approx approximately roughly nearly almost we're it's that's "
    "run use type execute call see last next every today yesterday tomorrow "
    # de
    "die das den dem ein eine einer eines einem einen und oder aber ist sind war "
    "waren wird werden wurde wurden hat haben hatte sein bei mit nach seit zu zum zur im am "
    "um auf aus an in für über unter vor durch gegen ohne wir ich sie er es ihr uns nicht "
    "auch nur noch schon sehr mehr etwa rund ca. circa "
    # es / pt
    "el la los las un una unos unas y o pero es son fue fueron ser está están ha han en con "
    "por para sin sobre entre hasta desde que se su sus lo le les al nos este esta estos "
    "estas ese esa muy más menos unos aproximadamente cerca os as um uma e é são foi com "
    "sem não na no nas nos pelo pela seu sua seus suas mais cerca "
    # fr
    "le les une et ou mais est sont était été être avec sans sur sous dans pour vers chez "
    "ce cet cette ces se sa son ses leur leurs nous vous ils elle elles pas plus moins "
    "environ "
    # it
    "il lo gli i una ed è sono era con senza su nel nella nei per tra fra che si suo sua "
    "suoi loro non più meno circa "
    # nl
    "het een en of maar is zijn was waren wordt worden werd heeft hebben had met zonder op "
    "in voor naar bij uit aan dat deze dit die er niet ook nog meer minder ongeveer".split()
)
# Link a label to its amount: "margin of", "margen EBITDA del", "ordine n.", "Nr.".
_LINKS = frozenset(
    "of for per de del della dello dei degli delle di da do du des d' van von der "
    "par por pour n. nr. no. nº n° nr #".split()
)
# After an amount, only the links of a rate or a share: "requêtes par minute",
# "0,5 % des monatlichen Entgelts" (not "30 dagen vanaf de …").
_COUNT_LINKS = frozenset("per par por pro des je".split())
_MAX_LABEL_WORDS = 3
_MAX_LINKS = 2
_WINDOW = 200
_MAX_COMMAND_WORDS = 4
_WORD = re.compile(r"\S+")
# An elided article or preposition glued to the noun: "l'ordine", "dell'ordine", "d'euros".
_ELIDED = re.compile(r"^(?:[cdjlmnst]|dell|dall|all|nell|sull|qu|un)['\u2019](?=\w)", re.IGNORECASE)
_TRAILING = ",.;:!?)]}\"'\u201d\u2019"
_LETTERS = re.compile(r"^[^\W\d_][\w'\u2019&/.-]*$")


def is_stop_or_link(word: str) -> bool:
    """A function word or a link word: either ends a run of nouns."""
    return word.lower() in _STOP or word.lower() in _LINKS


def _label_words(words: list[re.Match[str]], limit: int) -> int:
    """How many of `words` (nearest first) form a label: content words and links, never
    a link at the far end."""
    taken = content = links = 0
    for i, word in enumerate(words):
        raw = word.group()
        lower = raw.lower()
        if lower in _LINKS:
            links += 1
            if links > _MAX_LINKS:
                break
            continue
        if i and raw[-1] in _TRAILING:
            break  # ends a clause before ours
        if lower in _STOP or not _LETTERS.match(raw.rstrip(_TRAILING)):
            break
        content += 1
        taken = i + 1
        if content == limit or _ELIDED.match(raw):
            break  # "dell'ordine": the label starts inside the word
    return taken


def label_start(text: str, start: int, *, command: bool = False) -> int:
    """Where the fact at `start` begins once its label (or command line) is included."""
    # A label is a few words: look no further back than a window (a 50k-character line
    # would otherwise be split into words once per fact on it).
    line_start = max(text.rfind("\n", max(0, start - _WINDOW), start) + 1, start - _WINDOW)
    before = list(_WORD.finditer(text, line_start, start))[::-1]
    if line_start > 0 and line_start == start - _WINDOW and before:
        before = before[:-1]  # the window may have cut its first word
    if before and before[0].group()[-1] in _TRAILING and before[0].group().lower() not in _LINKS:
        return start  # "…, 14.8%": a clause break right before the fact
    if command:
        words = [w.group() for w in before[:_MAX_COMMAND_WORDS]]
        n = next(
            (i for i, w in enumerate(words) if w.lower() in _STOP or not COMMAND_WORD.match(w)),
            len(words),
        )
    else:
        n = _label_words(before, _MAX_LABEL_WORDS)
    if not n:
        return start
    first = before[n - 1]
    elided = _ELIDED.match(first.group())
    return first.start() + (elided.end() if elided else 0)


def label_end(text: str, end: int) -> int:
    """Where an amount at `end` stops once what it counts is included: up to two words
    ("12 pallets", "CHF 250 million green bond"), or a rate or share ("120 requêtes par
    minute", "0,5 % des monatlichen Entgelts")."""
    if end and text[end - 1] in _TRAILING:
        return end  # "48,500 dollars.": the sentence ends with the amount
    line_end = text.find("\n", end, end + _WINDOW)
    after = list(
        _WORD.finditer(text, end, min(len(text), end + _WINDOW) if line_end < 0 else line_end)
    )
    after = after[:3]
    if not after or after[0].start() != end + 1:
        return end  # punctuation or nothing right after the amount
    words = [w.group() for w in after]

    def content(i: int) -> bool:
        bare = words[i].rstrip(_TRAILING) if i < len(words) else ""
        return bool(bare) and bare.lower() not in _STOP and bool(_LETTERS.match(bare))

    def ends_clause(i: int) -> bool:
        return words[i] != words[i].rstrip(_TRAILING)

    def link(i: int) -> bool:
        return i < len(words) and words[i].lower() in _COUNT_LINKS

    taken = 0
    if link(0):
        if content(1):
            taken = 3 if not ends_clause(1) and content(2) else 2
    elif content(0) and not ends_clause(0) and link(1):
        taken = 3 if content(2) else 1
    elif content(0):
        taken = 2 if not ends_clause(0) and content(1) else 1
    if not taken:
        return end
    last = after[taken - 1]
    return last.start() + len(last.group().rstrip(_TRAILING))
