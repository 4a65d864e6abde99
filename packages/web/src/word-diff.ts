/** One run of words in a diff of the original text against its compressed form. */
export interface DiffPart {
  kind: 'kept' | 'dropped' | 'added';
  text: string;
}

/** Above this many table cells (original words × compressed words) the exact LCS is too slow for a page. */
const MAX_LCS_CELLS = 4_000_000;

export const words = (text: string): string[] => text.split(/\s+/).filter((word) => word.length > 0);

/**
 * Which words of `original` compression dropped: a word-level diff over
 * whitespace-separated words, from their longest common subsequence. Adjacent
 * words of one kind are joined into one part. Compressors also rewrite words
 * (a subword dropped from "meeting" leaves "meet"); those show as the original
 * word dropped and the new one added.
 */
export function wordDiff(original: string, compressed: string): DiffPart[] {
  const a = words(original);
  const b = words(compressed);
  // Trim what both share at the ends: compressors often keep the first and last words.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA -= 1;
    endB -= 1;
  }
  const middle =
    (endA - start) * (endB - start) <= MAX_LCS_CELLS
      ? lcsDiff(a.slice(start, endA), b.slice(start, endB))
      : greedyDiff(a.slice(start, endA), b.slice(start, endB));
  const parts: Array<[DiffPart['kind'], string]> = [
    ...a.slice(0, start).map((word) => ['kept', word] as [DiffPart['kind'], string]),
    ...middle,
    ...a.slice(endA).map((word) => ['kept', word] as [DiffPart['kind'], string]),
  ];
  return merge(parts);
}

type Step = [DiffPart['kind'], string];

function lcsDiff(a: string[], b: string[]): Step[] {
  const width = b.length + 1;
  // lengths[i * width + j]: the LCS length of a[i..] and b[j..].
  const lengths = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      lengths[i * width + j] =
        a[i] === b[j]
          ? (lengths[(i + 1) * width + j + 1] ?? 0) + 1
          : Math.max(lengths[(i + 1) * width + j] ?? 0, lengths[i * width + j + 1] ?? 0);
    }
  }
  const steps: Step[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      steps.push(['kept', a[i] as string]);
      i += 1;
      j += 1;
    } else if ((lengths[(i + 1) * width + j] ?? 0) >= (lengths[i * width + j + 1] ?? 0)) {
      steps.push(['dropped', a[i] as string]);
      i += 1;
    } else {
      steps.push(['added', b[j] as string]);
      j += 1;
    }
  }
  for (; i < a.length; i += 1) steps.push(['dropped', a[i] as string]);
  for (; j < b.length; j += 1) steps.push(['added', b[j] as string]);
  return steps;
}

/** For very long texts: match each compressed word to its next occurrence in the original (compressors keep order). */
function greedyDiff(a: string[], b: string[]): Step[] {
  const steps: Step[] = [];
  let i = 0;
  for (const word of b) {
    const found = a.indexOf(word, i);
    if (found === -1) {
      steps.push(['added', word]);
      continue;
    }
    for (; i < found; i += 1) steps.push(['dropped', a[i] as string]);
    steps.push(['kept', word]);
    i = found + 1;
  }
  for (; i < a.length; i += 1) steps.push(['dropped', a[i] as string]);
  return steps;
}

function merge(steps: Step[]): DiffPart[] {
  const parts: DiffPart[] = [];
  for (const [kind, word] of steps) {
    const last = parts.at(-1);
    if (last && last.kind === kind) last.text += ` ${word}`;
    else parts.push({ kind, text: word });
  }
  return parts;
}
