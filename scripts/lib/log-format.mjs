// Turns the gateway's JSON log lines into one readable line for the terminal;
// anything that is not a JSON log line passes through untouched.
const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLORS = { WARN: 33, ERROR: 31, FATAL: 31 };
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service']);

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
/** Wraps text in an ANSI color when writing to a terminal, leaves it plain otherwise. */
export const paint = (code, text) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);

export function formatLogLine(line) {
  if (!line.startsWith('{')) return line;
  let record;
  try {
    record = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof record.msg !== 'string') return line;
  const level = LEVELS[record.level] ?? String(record.level ?? '');
  const time = new Date(record.time ?? Date.now()).toISOString().slice(11, 19);
  const fields = Object.entries(record)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  const color = COLORS[level] ?? 2;
  return `${paint(2, time)} ${paint(color, level.padEnd(5))} ${record.msg}${fields ? ` ${paint(2, fields)}` : ''}`;
}
