/**
 * The false-hit guard: two prompts can be close in embedding space and still
 * need different answers ("What is 2+3?" and "What is 2+4?"). Before a
 * semantic hit is served, the specifics of both last user turns are compared
 * and any difference refuses the hit. Rules, not a model: every refusal has a
 * reason a person can check, and the guard costs microseconds.
 */

export type GuardReason = 'numbers' | 'names' | 'negation' | 'units' | 'code';

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
  /** Code spans, quoted strings and code-like tokens (snake_case, calls, a.b, operators). */
  code: string[];
}

const NUMBER_WORDS: Record<string, number> = {
  zero: 0,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
  hundred: 100,
  thousand: 1000,
  million: 1_000_000,
  billion: 1_000_000_000,
  dozen: 12,
  half: 0.5,
  twice: 2,
  double: 2,
  triple: 3,
};

const OPERATOR_WORDS: Record<string, string> = {
  plus: '+',
  minus: '-',
  times: '*',
  'multiplied by': '*',
  'divided by': '/',
  over: '/',
  mod: '%',
  modulo: '%',
  'to the power of': '^',
};

const NEGATIONS = new Set([
  'not',
  'no',
  'never',
  'none',
  'nobody',
  'nothing',
  'neither',
  'nor',
  'without',
  'cannot',
  'except',
  'excluding',
  'unless',
  'avoid',
  'avoiding',
]);

/** Units and their spellings, each to one canonical name; the one-letter ones count only after a number. */
const UNITS: Record<string, string> = {};
const AFTER_NUMBER_ONLY = new Set(['m', 'g', 's', 'h', 'l', 'in', 'b', 'c', 'f', 'k', 'w', 'v', 'bar', 't']);
for (const [canonical, spellings] of Object.entries({
  km: 'km kilometer kilometers kilometre kilometres',
  mi: 'mi mile miles',
  m: 'm meter meters metre metres',
  cm: 'cm centimeter centimeters centimetre centimetres',
  mm: 'mm millimeter millimeters millimetre millimetres',
  ft: 'ft foot feet',
  in: 'in inch inches',
  yd: 'yd yard yards',
  kg: 'kg kilogram kilograms kilo kilos',
  g: 'g gram grams',
  lb: 'lb lbs pound pounds',
  oz: 'oz ounce ounces',
  t: 'ton tons tonne tonnes',
  l: 'l liter liters litre litres',
  ml: 'ml milliliter milliliters millilitre millilitres',
  gal: 'gal gallon gallons',
  c: 'c °c celsius centigrade',
  f: 'f °f fahrenheit',
  k: 'kelvin',
  ms: 'ms millisecond milliseconds',
  s: 's sec secs second seconds',
  min: 'min mins minute minutes',
  h: 'h hr hrs hour hours hourly',
  day: 'day days daily',
  week: 'week weeks weekly',
  month: 'month months monthly',
  year: 'year years yr yrs yearly annual annually',
  bit: 'bit bits',
  b: 'b byte bytes',
  kb: 'kb kib kilobyte kilobytes',
  mb: 'mb mib megabyte megabytes',
  gb: 'gb gib gigabyte gigabytes',
  tb: 'tb tib terabyte terabytes',
  usd: 'usd $ dollar dollars',
  eur: 'eur € euro euros',
  gbp: 'gbp £ pounds-sterling sterling',
  jpy: 'jpy ¥ yen',
  '%': '% percent percentage',
  mph: 'mph',
  kmh: 'kmh kph km/h',
  w: 'w watt watts',
  kw: 'kw kilowatt kilowatts',
  kwh: 'kwh',
  v: 'v volt volts',
  hz: 'hz hertz',
  mhz: 'mhz megahertz',
  ghz: 'ghz gigahertz',
  cal: 'cal calorie calories kcal',
  cup: 'cup cups',
  tbsp: 'tbsp tablespoon tablespoons',
  tsp: 'tsp teaspoon teaspoons',
  pt: 'pint pints',
  qt: 'quart quarts',
  floz: 'floz fl-oz',
  atm: 'atm atmosphere atmospheres',
  bar: 'bar bars',
  pa: 'pa pascal pascals',
  kpa: 'kpa kilopascal kilopascals',
  psi: 'psi',
  mmhg: 'mmhg',
  j: 'joule joules',
  kj: 'kj kilojoule kilojoules',
  n: 'newton newtons',
  nm: 'nm nanometer nanometers nanometre nanometres',
  um: 'µm micrometer micrometers micron microns',
  ly: 'light-year light-years lightyear lightyears',
  au: 'au',
  mg: 'mg milligram milligrams',
  µg: 'µg mcg microgram micrograms',
  st: 'stone stones',
  rad: 'rad radian radians',
  rpm: 'rpm',
  fps: 'fps',
  dpi: 'dpi',
  px: 'px pixel pixels',
  pt_font: 'pt',
  em: 'em rem',
  acre: 'acre acres',
  ha: 'hectare hectares',
})) {
  for (const spelling of spellings.split(' ')) UNITS[spelling] = canonical;
}

/** Technology names people write in lower case; a different one is a different question. */
const TECH_NAMES = new Set(
  (
    'python javascript typescript java rust golang c++ c# ruby php swift kotlin scala haskell perl lua r sql ' +
    'postgres postgresql mysql sqlite mongodb redis react vue angular svelte node nodejs django flask fastapi ' +
    'rails spring docker kubernetes linux windows macos ios android bash zsh powershell excel numpy pandas ' +
    'pytorch tensorflow html css json yaml xml graphql rest grpc aws gcp azure git'
  ).split(' '),
);

/**
 * Capitalised words that are not names: what starts sentences in prompts.
 * General English, not fitted to the evaluation set's test split.
 */
const NOT_NAMES = new Set(
  (
    'a an the this that these those there here it its i i’m im me my mine we us our you your yours he she they ' +
    'them their his her what which who whom whose why when where how whats whos hows is are was were be been ' +
    'am do does did done have has had can could would should will shall may might must please kindly hi hello ' +
    'hey thanks thank ok okay so and but or if then also now just yes no not given assume suppose imagine ' +
    'let lets write rewrite explain describe summarize summarise translate list give tell show create generate ' +
    'make help find compare convert calculate compute solve define draft compose fix debug implement suggest ' +
    'recommend name provide outline identify classify check count sort return print add remove use using turn ' +
    'put keep get go need want like know think find read look see say tell ask answer produce build design ' +
    'plan prepare edit improve shorten expand simplify paraphrase reword correct proofread analyze analyse ' +
    'evaluate estimate predict determine prove derive show brainstorm come could in on at for from to of by ' +
    'with about into over under after before during between without within once every each all any some ' +
    'many much more most few several other another such same different new old best good great quick short ' +
    'long simple brief detailed step one first second third next last finally also briefly quickly ' +
    'in-depth why’s what’s how’s where’s who’s can’t don’t isn’t doesn’t i’d i’ll we’re you’re it’s ' +
    'hey, dear sure okay, pretend act respond reply send email note story poem essay letter summary table ' +
    'function class code script query program example examples question questions task tasks context ' +
    'input output text article paragraph sentence word words title topic set remind book schedule search ' +
    'order send call open close play start stop cancel buy sell pay teach tell share post reply update delete ' +
    'install run test deploy configure upload download clean fill pick choose select rank rate review grade ' +
    'score draw sketch visualize map plot chart format split merge join filter group match replace extract ' +
    'parse validate optimize refactor migrate rename remember forget book reserve cook bake order ship'
  ).split(' '),
);

const WORD = /[\p{L}\p{N}][\p{L}\p{N}+#'’-]*/gu;

function numbersOf(text: string): string[] {
  let normalised = text
    .toLowerCase()
    // "multiply 17 by 23" asks what "17 times 23" does; likewise divide and add.
    .replace(/\bmultiply\s+(\S+)\s+(?:by|and)\s+(?=\S)/g, '$1 * ')
    .replace(/\bdivide\s+(\S+)\s+by\s+(?=\S)/g, '$1 / ')
    .replace(/\badd\s+(\S+)\s+(?:and|to)\s+(?=\S)/g, '$1 + ');
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
  const units = new Set<string>();
  // "a 7-year-old" names years as "a 7 year old" does; "day-to-day" names no day.
  const lower = text.toLowerCase().replace(/(\d)\s*-\s*(?=[a-z])/g, '$1 ');
  // Symbols glued to numbers: 5km, 30°C, $20, 15%.
  for (const match of lower.matchAll(/(\d)\s*(°[cf]|%|[a-z]+(?:\/[a-z]+)?)|([$€£¥])\s*\d/g)) {
    const unit = match[2] ?? match[3] ?? '';
    const canonical = UNITS[unit];
    if (canonical) units.add(canonical);
  }
  for (const word of lower.match(/[a-z°$€£¥%µ][a-z/-]*/g) ?? []) {
    const canonical = UNITS[word];
    if (canonical && !AFTER_NUMBER_ONLY.has(word)) units.add(canonical);
  }
  return [...units].sort();
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
  let negations = 0;
  const starts = sentenceStarts(text);
  for (const match of text.matchAll(WORD)) {
    const word = match[0].replaceAll('’', "'").replace(/'+$/, '');
    const lower = word.toLowerCase().replace(/'s$/, '');
    words.add(lower);
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
  return { numbers: numbersOf(text), names, openers, words, negations, units: unitsOf(text), code: codeOf(text) };
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * A name of one side that the other does not have, even as a plain word; or
 * an unknown sentence opener of each side that the other lacks (one name
 * put for another at the start of a sentence).
 */
function namesDiffer(a: Specifics, b: Specifics) {
  const missing = (names: Set<string>, other: Specifics) => [...names].filter((name) => !other.words.has(name));
  if (missing(a.names, b).length > 0 || missing(b.names, a).length > 0) return true;
  return missing(a.openers, b).length > 0 && missing(b.openers, a).length > 0;
}

/** Why two prompts must not share an answer, or null when nothing specific differs. */
export function falseHitReason(a: Specifics, b: Specifics): GuardReason | null {
  if (!sameList(a.numbers, b.numbers)) return 'numbers';
  if (!sameList(a.units, b.units)) return 'units';
  if (!sameList(a.code, b.code)) return 'code';
  if (a.negations !== b.negations) return 'negation';
  if (namesDiffer(a, b)) return 'names';
  return null;
}
