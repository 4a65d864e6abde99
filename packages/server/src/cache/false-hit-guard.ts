import {
  AFTER_NUMBER_ONLY,
  NEGATIONS,
  NOT_NAMES,
  NUMBER_WORDS,
  OPERATOR_WORDS,
  OPPOSITES,
  TASKS,
  TECH_NAMES,
  UNITS,
} from './guard-vocabulary.ts';

/**
 * The false-hit guard: two prompts can be close in embedding space and still
 * need different answers ("What is 2+3?" and "What is 2+4?"). Before a
 * semantic hit is served, the specifics of both last user turns are compared
 * and any difference refuses the hit. Rules, not a model: every refusal has a
 * reason a person can check, and the guard costs microseconds.
 */

export type GuardReason = 'numbers' | 'names' | 'negation' | 'units' | 'code' | 'opposites' | 'task' | 'direction';

export interface Specifics {
  /** Numbers in order (number words as digits), with the arithmetic operators between them. */
  numbers: string[];
  /** Capitalised names and known technology names, lower-cased. */
  names: Set<string>;
  /**
   * Capitalised words that open a sentence and are not common words we know:
   * perhaps a name ("France has..."), perhaps a verb ("Schedule a call").
   * They count as a difference only against another unmatched name.
   */
  openers: Set<string>;
  /** Every word of the text, lower-cased: a name of one side that is a word of the other is no difference. */
  words: Set<string>;
  negations: number;
  units: string[];
  /** The task family of each word that names one (summarize, translate, ...). */
  tasks: Map<string, string>;
  /** Word stems ("encrypts" and "encrypted" are "encrypt"), for the opposites. */
  stems: Set<string>;
  /** "from X to Y", "X to Y" and "X ... than Y" pairs, lower-cased: what goes into what, what beats what. */
  directions: Set<string>;
  /** Code spans, quoted strings and code-like tokens (snake_case, calls, a.b, operators). */
  code: string[];
}

const WORD = /[\p{L}\p{N}][\p{L}\p{N}+#'’-]*/gu;

function numbersOf(text: string): string[] {
  let normalised = text
    .toLowerCase()
    // "multiply 17 by 23" asks what "17 times 23" does; likewise divide and add.
    .replace(/\bmultiply\s+(\S+)\s+(?:by|and)\s+(?=\S)/g, '$1 * ')
    .replace(/\bdivide\s+(\S+)\s+by\s+(?=\S)/g, '$1 / ')
    .replace(/\badd\s+(\S+)\s+(?:and|to)\s+(?=\S)/g, '$1 + ')
    // "subtract 38 from 91" is "91 minus 38".
    .replace(/\bsubtract\s+(\d[\d,.]*\d|\d)\s+from\s+(\d[\d,.]*\d|\d)/g, '$2 - $1');
  for (const [phrase, symbol] of Object.entries(OPERATOR_WORDS)) {
    normalised = normalised.replace(new RegExp(`(\\d|\\b\\w+)\\s+${phrase}\\s+(?=\\d|\\w)`, 'g'), `$1 ${symbol} `);
  }
  normalised = normalised.replace(/\b[a-z]+\b/g, (word) => (word in NUMBER_WORDS ? String(NUMBER_WORDS[word]) : word));
  const out: string[] = [];
  // A number (thousands separators dropped), or an operator written between two numbers.
  const token = /(\d[\d,]*(?:\.\d+)?)|(?<=\d\s*)([-+*/×÷^%=<>]+)(?=\s*\d)/g;
  for (const match of normalised.matchAll(token)) {
    if (match[1]) out.push(match[1].replace(/,(?=\d{3}\b)/g, '').replace(/,$/, ''));
    else if (match[2]) out.push(match[2].replace('×', '*').replace('÷', '/'));
  }
  return out;
}

function unitsOf(text: string): string[] {
  const found: Array<[number, string]> = [];
  // "a 7-year-old" names years as "a 7 year old" does; "day-to-day" names no day.
  const lower = text.toLowerCase().replace(/(\d)\s*-\s*(?=[a-z])/g, '$1 ');
  // Symbols glued to numbers: 5km, 30°C, $20, 15%.
  for (const match of lower.matchAll(/(\d)\s*(°[cf]|%|[a-z]+(?:\/[a-z]+)?)|([$€£¥])\s*\d/g)) {
    const unit = match[2] ?? match[3] ?? '';
    const canonical = UNITS[unit];
    if (canonical) found.push([(match.index ?? 0) + 1, canonical]);
  }
  for (const match of lower.matchAll(/[a-z°$€£¥%µ][a-z/-]*/g)) {
    const canonical = UNITS[match[0]];
    if (canonical && !AFTER_NUMBER_ONLY.has(match[0])) found.push([match.index ?? 0, canonical]);
  }
  // A set: "how many miles is 5 km" asks what "5 km in miles" does; which way a conversion goes is
  // the direction rule's to judge.
  return [...new Set(found.map(([, unit]) => unit))].sort();
}

function codeOf(text: string): string[] {
  const code: string[] = [];
  const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
  let rest = text.replace(/```[\s\S]*?```|`[^`\n]+`/g, (span) => {
    // A fence may name its language; an inline span is all code.
    code.push(squash(span.startsWith('```') ? span.replace(/^```[\w+#-]*\n?|```$/g, '') : span.slice(1, -1)));
    return ' ';
  });
  // Quoted text, in double, curly or single quotes (a single quote must open and close at a word's edge,
  // so "don't" and "users' names" are no quotes).
  rest = rest.replace(
    /"[^"\n]{1,200}"|“[^”\n]{1,200}”|‘[^’\n]{1,200}’|(?<![\p{L}\p{N}])'[^'\n]{1,200}'(?![\p{L}\p{N}])/gu,
    (span) => {
      code.push(squash(span.slice(1, -1)));
      return ' ';
    },
  );
  // snake_case, a.b, calls(), camelCase, operators.
  const tokens =
    /[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+(?:\(\))?|[A-Za-z_$][\w$]*\([^)]{0,80}\)|\b[a-z]+_[\w]+\b|\b[a-z]+[A-Z]\w*\b|===?|!==?|=>|->|::|&&|\|\||<=|>=|\+=|-=|\+\+|--|<<|>>/g;
  for (const match of rest.matchAll(tokens)) code.push(match[0]);
  return code.sort();
}

/** A crude English stem: enough that "encrypts", "encrypted" and "encrypting" meet "encrypt". */
function stem(word: string): string {
  if (word.length <= 4) return word;
  return word.replace(/(?:ing|ed|es|s)$/, '');
}

/** "from X to Y" and "X to/into Y" (one or two words each side) as "x > y". */
function directionsOf(text: string): Set<string> {
  const lower = text.toLowerCase();
  const pairs = new Set<string>();
  const side = "([a-z][a-z+#'-]*(?: [a-z][a-z+#'-]*)?)";
  const article = '(?:(?:an?|the) )?';
  for (const match of lower.matchAll(new RegExp(`from ${article}${side} (?:to|into) ${article}${side}`, 'g'))) {
    pairs.add(`${match[1]} > ${match[2]}`);
  }
  // "a list to a tuple", and "a Markdown file to PDF" (the word before the noun too).
  for (const match of lower.matchAll(
    /([a-z][a-z+#'-]*)(?: ([a-z][a-z+#'-]*))? (?:to|into) (?:(?:an?|the) )?([a-z][a-z+#'-]*)/g,
  )) {
    pairs.add(`${match[2] ?? match[1]} > ${match[3]}`);
    if (match[2]) pairs.add(`${match[1]} > ${match[3]}`);
  }
  // "How many miles is 5 km?" converts km into miles.
  for (const match of lower.matchAll(/how many ([a-z]+) (?:is|are|in|make|makes) (?:an? )?(?:[\d.,]+ )?([a-z]+)/g)) {
    pairs.add(`${match[2]} > ${match[1]}`);
  }
  // "Is Python faster than Java?": the thing compared, then what it is compared with.
  for (const match of lower.matchAll(
    /([a-z][a-z+#'-]*) (?:is |are )?(?:[a-z]+er|more [a-z]+|less [a-z]+) than ([a-z][a-z+#'-]*)/g,
  )) {
    pairs.add(`${match[1]} > ${match[2]}`);
  }
  return pairs;
}

/** Where each sentence's first word starts: capitalised by grammar, perhaps not a name. */
function sentenceStarts(text: string): Set<number> {
  const starts = new Set<number>();
  for (const match of text.matchAll(/(?:^|[.!?:;]\s+|\n\s*)["'“(]?(?=[\p{L}\p{N}])/gu)) {
    starts.add((match.index ?? 0) + match[0].length);
  }
  return starts;
}

export function specificsOf(text: string): Specifics {
  const names = new Set<string>();
  const openers = new Set<string>();
  const words = new Set<string>();
  const tasks = new Map<string, string>();
  const stems = new Set<string>();
  let negations = 0;
  // Code spans are the code rule's: an identifier such as `useEffect` is not a name.
  const prose = text.replace(/```[\s\S]*?```|`[^`\n]+`/g, (span) => ' '.repeat(span.length));
  const starts = sentenceStarts(prose);
  for (const match of prose.matchAll(WORD)) {
    const word = match[0].replaceAll('’', "'").replace(/'+$/, '');
    const lower = word.toLowerCase().replace(/'s$/, '');
    words.add(lower);
    stems.add(stem(lower));
    const task = TASKS[lower] ?? TASKS[stem(lower)];
    if (task) tasks.set(lower, task);
    if (NEGATIONS.has(lower) || /n['’]t$/.test(lower) || /^non-/.test(lower)) negations += 1;
    if (TECH_NAMES.has(lower)) names.add(lower);
    const capitalised = /^\p{Lu}/u.test(word) || /\p{Ll}\p{Lu}/u.test(word);
    // I, I'm, I'll, I'd, I've.
    if (!capitalised || /^i('|$)/.test(lower)) continue;
    const acronym = /^\p{Lu}{2,}$/u.test(word.replace(/'s$/, ''));
    // A common word capitalised (a sentence's first word, a title) is not a name.
    if (!acronym && NOT_NAMES.has(lower)) continue;
    if (UNITS[lower] && !acronym) continue;
    if (!acronym && starts.has(match.index ?? -1)) openers.add(lower);
    else names.add(lower);
  }
  return {
    numbers: numbersOf(text),
    names,
    openers,
    words,
    negations,
    units: unitsOf(text),
    tasks,
    stems,
    directions: directionsOf(text),
    code: codeOf(text),
  };
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * A name of one side that the other does not have, even as a plain word; the
 * names both have, in another order; or an unknown
 * sentence opener of each side that the other lacks (one name put for
 * another at the start of a sentence).
 */
function namesDiffer(a: Specifics, b: Specifics) {
  const missing = (names: Set<string>, other: Specifics) => [...names].filter((name) => !other.words.has(name));
  if (missing(a.names, b).length > 0 || missing(b.names, a).length > 0) return true;
  // The names both have, in another order: "9 AM in New York, what time in Tokyo" and the other way round.
  const shared = (one: Specifics, other: Specifics) => [...one.names].filter((name) => other.names.has(name));
  if (!sameList(shared(a, b), shared(b, a))) return true;
  return missing(a.openers, b).length > 0 && missing(b.openers, a).length > 0;
}

/** One side of an opposite pair in one prompt, the other side in the other. */
function oppositesDiffer(a: Specifics, b: Specifics) {
  const has = (s: Specifics, words: string[]) => words.some((word) => s.stems.has(stem(word)));
  return OPPOSITES.some(
    ([one, other]) =>
      (has(a, one) && !has(a, other) && has(b, other) && !has(b, one)) ||
      (has(a, other) && !has(a, one) && has(b, one) && !has(b, other)),
  );
}

/**
 * Each prompt names a task in words the other does not have, and they name
 * none in common. Words both share (the text the task is about) say nothing.
 */
function tasksDiffer(a: Specifics, b: Specifics) {
  const own = (one: Specifics, other: Specifics) =>
    new Set([...one.tasks].filter(([word]) => !other.words.has(word)).map(([, task]) => task));
  const mine = own(a, b);
  const theirs = own(b, a);
  if (mine.size === 0 || theirs.size === 0) return false;
  return ![...mine].some((task) => theirs.has(task));
}

/** A pair of one prompt reversed in the other: "from marketing to data analysis" and back. */
function directionsDiffer(a: Specifics, b: Specifics) {
  const reversed = (pair: string) => pair.split(' > ').reverse().join(' > ');
  return [...a.directions].some((pair) => b.directions.has(reversed(pair)) && !b.directions.has(pair));
}

/** Why two prompts must not share an answer, or null when nothing specific differs. */
export function falseHitReason(a: Specifics, b: Specifics): GuardReason | null {
  if (!sameList(a.numbers, b.numbers)) return 'numbers';
  if (!sameList(a.units, b.units)) return 'units';
  if (!sameList(a.code, b.code)) return 'code';
  if (a.negations !== b.negations) return 'negation';
  if (namesDiffer(a, b)) return 'names';
  if (oppositesDiffer(a, b)) return 'opposites';
  if (tasksDiffer(a, b)) return 'task';
  if (directionsDiffer(a, b)) return 'direction';
  return null;
}
