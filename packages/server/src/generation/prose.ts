/**
 * Which parts of a message's text compression may shorten. Only prose: a
 * fenced code block, or a text that is JSON (or JSON Lines) as a whole, a tool
 * result most often, goes to the model exactly as written, because dropping
 * one token of it changes what it means or breaks it.
 */
export interface Segment {
  text: string;
  prose: boolean;
}

function isJson(text: string) {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A JSON value, or JSON Lines: every non-blank line one JSON object or array. */
function isJsonText(text: string) {
  const trimmed = text.trim();
  if (!/^[[{]/.test(trimmed)) return false;
  if (isJson(trimmed)) return true;
  const lines = trimmed.split('\n').filter((line) => line.trim());
  return lines.length > 1 && lines.every((line) => /^\s*[[{]/.test(line) && isJson(line));
}

/** A fence line as CommonMark has it: up to 3 spaces, then 3 or more backticks or tildes. */
const FENCE_LINE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * The text cut into prose and protected segments; joined back they are the
 * text itself. A fenced block runs from its opening line to a closing line of
 * the same character at least as long (an inner shorter fence does not close
 * it), or to the end of the text when it is never closed.
 */
export function segments(text: string): Segment[] {
  if (isJsonText(text)) return [{ text, prose: false }];
  const out: Segment[] = [];
  const push = (piece: string, prose: boolean) => {
    if (!piece) return;
    const last = out.at(-1);
    if (last && last.prose === prose) last.text += piece;
    else out.push({ text: piece, prose });
  };
  // Lines keep their newline, so joining the pieces gives the text back byte for byte.
  const lines = text.split(/(?<=\n)/);
  let fence: string | null = null;
  for (const line of lines) {
    const marker = FENCE_LINE.exec(line)?.[1];
    if (fence === null) {
      if (marker) fence = marker;
      push(line, fence === null);
    } else {
      push(line, false);
      const closes =
        marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker;
      if (closes) fence = null;
    }
  }
  return out;
}

/** Whether a segment is worth sending to the compressor (the ML service refuses blank text). */
export const compressible = (segment: Segment) => segment.prose && segment.text.trim().length > 0;

/**
 * A prose segment as its leading whitespace, its words and its trailing
 * whitespace: the compressor returns words only, so the line breaks that keep
 * a fence on its own line must be put back around what it returns.
 */
export function padding(text: string): { before: string; core: string; after: string } {
  const before = /^\s*/.exec(text)?.[0] ?? '';
  const after = /\s*$/.exec(text.slice(before.length))?.[0] ?? '';
  return { before, core: text.slice(before.length, text.length - after.length), after };
}
