import { describe, expect, it } from 'vitest';
import { wordDiff, words } from './word-diff.ts';

const dropped = (original: string, compressed: string) =>
  wordDiff(original, compressed)
    .filter((part) => part.kind === 'dropped')
    .map((part) => part.text);

describe('wordDiff', () => {
  it('marks the words compression removed as dropped and keeps the rest in order', () => {
    expect(wordDiff('the quick brown fox jumps over the lazy dog', 'quick fox jumps lazy dog')).toEqual([
      { kind: 'dropped', text: 'the' },
      { kind: 'kept', text: 'quick' },
      { kind: 'dropped', text: 'brown' },
      { kind: 'kept', text: 'fox jumps' },
      { kind: 'dropped', text: 'over the' },
      { kind: 'kept', text: 'lazy dog' },
    ]);
  });

  it('shows a rewritten word as the original dropped and the new one added', () => {
    expect(wordDiff('we are meeting on Monday', 'we meet Monday')).toEqual([
      { kind: 'kept', text: 'we' },
      { kind: 'dropped', text: 'are meeting on' },
      { kind: 'added', text: 'meet' },
      { kind: 'kept', text: 'Monday' },
    ]);
  });

  it('ignores differences in whitespace alone', () => {
    expect(wordDiff('a  b\n\nc', 'a b c')).toEqual([{ kind: 'kept', text: 'a b c' }]);
  });

  it('picks a longest common subsequence when words repeat', () => {
    const parts = wordDiff('to be or not to be', 'to be to be');
    expect(parts.filter((p) => p.kind === 'kept').flatMap((p) => words(p.text))).toEqual(['to', 'be', 'to', 'be']);
    expect(dropped('to be or not to be', 'to be to be')).toEqual(['or not']);
  });

  it('handles empty texts', () => {
    expect(wordDiff('', '')).toEqual([]);
    expect(wordDiff('all gone', '')).toEqual([{ kind: 'dropped', text: 'all gone' }]);
    expect(wordDiff('', 'new')).toEqual([{ kind: 'added', text: 'new' }]);
  });

  it('still diffs texts too long for the exact table, by matching in order', () => {
    const original = Array.from({ length: 6000 }, (_, i) => `w${i}`).join(' ');
    const compressed = Array.from({ length: 3000 }, (_, i) => `w${i * 2 + 1}`).join(' ');
    const parts = wordDiff(original, compressed);
    const keptWords = parts.filter((p) => p.kind === 'kept').flatMap((p) => words(p.text));
    const droppedWords = parts.filter((p) => p.kind === 'dropped').flatMap((p) => words(p.text));
    expect(keptWords).toHaveLength(3000);
    expect(droppedWords).toHaveLength(3000);
    expect(droppedWords[0]).toBe('w0');
  });
});
