// Turns the services' JSON log lines into one readable line each for the terminal:
// the gateway's pino lines (numeric level, `msg`) and the ML service's lines (level
// name, `message`, `request_id`). Anything that is not a JSON log line passes through untouched.
const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_NAMES = { debug: 'DEBUG', info: 'INFO', warning: 'WARN', error: 'ERROR', critical: 'FATAL' };
const COLORS = { WARN: 33, ERROR: 31, FATAL: 31 };
// Fields that have their own place in the line, or are noise in a terminal.
const PINO_HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service']);
const ML_HIDDEN = new Set(['level', 'time', 'message', 'logger', 'exception']);

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
/** Wraps text in an ANSI color when writing to a terminal, leaves it plain otherwise. */
export const paint = (code, text) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);

/** Message, level and fields of a gateway or ML service record; undefined for anything else. */
function describe(record) {
  if (typeof record.msg === 'string') {
    const fields = Object.entries(record).filter(([key]) => !PINO_HIDDEN.has(key));
    return { message: record.msg, level: LEVELS[record.level] ?? String(record.level ?? ''), fields };
  }
  if (typeof record.message === 'string' && typeof record.level === 'string') {
    // Python's None (a field with no value this time) says nothing in a terminal.
    const fields = Object.entries(record).filter(([key, value]) => !ML_HIDDEN.has(key) && value !== null);
    const level = LEVEL_NAMES[record.level] ?? record.level.toUpperCase();
    return { message: record.message, level, fields, exception: record.exception };
  }
  return undefined;
}

/** One readable line; an ML record's traceback follows on indented lines. */
export function formatLogLine(line) {
  if (!line.startsWith('{')) return line;
  let record;
  try {
    record = JSON.parse(line);
  } catch {
    return line;
  }
  const described = record !== null && typeof record === 'object' ? describe(record) : undefined;
  if (!described) return line;
  const { message, level, exception } = described;
  const moment = new Date(record.time ?? Date.now());
  const time = Number.isNaN(moment.getTime()) ? String(record.time) : moment.toISOString().slice(11, 19);
  const fields = described.fields
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  const color = COLORS[level] ?? 2;
  const text = `${paint(2, time)} ${paint(color, level.padEnd(5))} ${message}${fields ? ` ${paint(2, fields)}` : ''}`;
  if (typeof exception !== 'string') return text;
  return [text, ...exception.split('\n').map((row) => `    ${row}`)].join('\n');
}
