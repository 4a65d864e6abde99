/**
 * Which parts of a message's text compression may shorten. Only prose: a
 * fenced code block, or a text that is JSON as a whole (a tool result, most
 * often), goes to the model exactly as written, because dropping one token of
 * it changes what it means or breaks it.
 */
export interface Segment {
  text: string;
  prose: boolean;
}

/** A fenced block (``` or ~~~, to the matching fence or the end of the text). */
const FENCE = /(^|\n)(```|~~~)[^\n]*\n[\s\S]*?(\n\2[^\n]*(?=\n|$)|$)/g;

function isJson(text: string) {
  const trimmed = text.trim();
  if (!/^[[{]/.test(trimmed)) return false;
  try {
    JSON.parse(trimmed);
    return true;
  } catch {
    return false;
  }
}

/** The text cut into prose and protected segments; joined back they are the text itself. */
export function segments(text: string): Segment[] {
  if (isJson(text)) return [{ text, prose: false }];
  const out: Segment[] = [];
  let at = 0;
  for (const match of text.matchAll(FENCE)) {
    // Keep the newline before a fence with the prose, so the fence starts its own segment.
    const start = match.index + (match[1]?.length ?? 0);
    if (start > at) out.push({ text: text.slice(at, start), prose: true });
    out.push({ text: text.slice(start, match.index + match[0].length), prose: false });
    at = match.index + match[0].length;
  }
  if (at < text.length) out.push({ text: text.slice(at), prose: true });
  return out;
}

/** Whether a segment is worth sending to the compressor (the ML service refuses blank text). */
export const compressible = (segment: Segment) => segment.prose && segment.text.trim().length > 0;
