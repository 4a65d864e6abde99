/**
 * The false-hit guard's vocabulary: general English and units, not fitted to
 * the evaluation set's test split (false-hit-guard.ts says how each is used).
 */

export const NUMBER_WORDS: Record<string, number> = {
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

export const OPERATOR_WORDS: Record<string, string> = {
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

export const NEGATIONS = new Set([
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
export const UNITS: Record<string, string> = {};
export const AFTER_NUMBER_ONLY = new Set(['m', 'g', 's', 'h', 'l', 'in', 'b', 'c', 'f', 'k', 'w', 'v', 'bar', 't']);
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
export const TECH_NAMES = new Set(
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
export const NOT_NAMES = new Set(
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

/**
 * Words that ask for the opposite of each other: one side of a pair in one
 * prompt and the other side in the other is a different question ("the
 * largest planet" and "the smallest planet").
 */
export const OPPOSITES: Array<[string[], string[]]> = (
  [
    [
      'largest biggest greatest maximum max most highest tallest heaviest',
      'smallest tiniest least minimum min lowest shortest lightest',
    ],
    ['larger bigger greater more higher taller heavier', 'smaller fewer less lower shorter lighter'],
    ['longest longer lengthen expand extend', 'shortest shorter shorten condense trim'],
    ['increase increases increasing raise grow', 'decrease decreases decreasing reduce lower shrink'],
    ['ascending asc', 'descending desc'],
    ['before earlier earliest prior', 'after later latest'],
    ['first', 'last'],
    ['best better', 'worst worse'],
    ['fastest faster quicker quickest', 'slowest slower'],
    ['cheapest cheaper cheap inexpensive', 'expensive priciest pricier costliest'],
    ['oldest older', 'newest newer youngest younger'],
    ['pros advantages benefits upsides strengths', 'cons disadvantages drawbacks downsides weaknesses'],
    [
      'encrypt encrypting encryption encode encoding compress compression',
      'decrypt decrypting decryption decode decoding decompress decompression',
    ],
    ['upload uploading push export exporting', 'download downloading pull import importing'],
    ['enable enabling enabled allow allowed', 'disable disabling disabled deny denied block'],
    ['add adding insert inserting', 'remove removing delete deleting'],
    ['formal formally', 'informal informally casual casually'],
    ['beginner beginners basic simple easy', 'advanced expert complex hard difficult'],
    ['hot warm warmer hotter', 'cold cool colder cooler'],
    ['true', 'false'],
    ['positive', 'negative'],
    ['uppercase upper', 'lowercase'],
    ['left', 'right'],
    ['north northern', 'south southern'],
    ['east eastern', 'west western'],
    ['above', 'below'],
    ['inner inside internal', 'outer outside external'],
    ['buy buying purchase', 'sell selling'],
    ['win winning won', 'lose losing lost'],
    ['start starting begin beginning', 'end ending finish finishing stop'],
    ['open opening', 'close closing'],
    ['agree agreeing accept accepting', 'disagree disagreeing reject rejecting refuse decline declining'],
    ['love', 'hate'],
    ['import', 'export'],
    ['input', 'output'],
    ['singular', 'plural'],
    ['male', 'female'],
    ['morning sunrise', 'evening sunset night'],
    ['summer', 'winter'],
    ['synonym synonyms', 'antonym antonyms opposite'],
    ['optimistic', 'pessimistic'],
    ['happy cheerful', 'sad gloomy'],
    ['funny humorous', 'serious'],
  ] as Array<[string, string]>
).map(([one, other]) => [one.split(' '), other.split(' ')]);

/**
 * What a prompt asks to be done with its text, by family: two prompts that
 * each name a task, and no task in common, ask for different answers
 * ("Summarise this email" and "Translate this email").
 */
export const TASKS: Record<string, string> = {};
for (const [task, words] of Object.entries({
  summarize: 'summarize summarise summary summarizing summarising tldr recap gist',
  translate: 'translate translation translating translated',
  explain: 'explain explanation explaining describe description',
  critique: 'critique criticize criticise review evaluate assess feedback',
  rewrite: 'rewrite rephrase paraphrase reword rewording',
  shorten: 'shorten condense trim',
  expand: 'expand elaborate lengthen',
  proofread: 'proofread grammar spelling typos',
  continue: 'continue finish',
  debug: 'bug bugs debug',
  optimize: 'optimize optimise faster performance',
  test: 'test tests unittest unittests',
  document: 'document docstring docstrings comment comments',
  poem: 'poem haiku limerick sonnet lyrics',
  story: 'story tale',
  title: 'title headline tagline slogan',
  outline: 'outline',
  classify: 'classify categorize categorise',
  extract: 'extract',
  reply: 'reply respond response answer',
  sentiment: 'sentiment tone mood',
  social: 'tweet caption hashtag hashtags',
  todo: 'todo to-do checklist action',
  email: 'email letter memo',
  quiz: 'quiz quizzes flashcard flashcards',
})) {
  for (const word of words.split(' ')) TASKS[word] = task;
}
