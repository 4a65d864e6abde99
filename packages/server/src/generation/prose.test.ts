import { describe, expect, it } from 'vitest';
import { compressible, padding, segments } from './prose.ts';

const joined = (text: string) =>
  segments(text)
    .map((s) => s.text)
    .join('');

describe('what compression may touch in a message', () => {
  it('keeps fenced code blocks out of the prose, and the pieces join back to the text', () => {
    const text = 'Please fix this:\n```ts\nconst a = 1;\n```\nIt throws when a is 2.\n~~~\nraw\n~~~';

    expect(segments(text)).toEqual([
      { text: 'Please fix this:\n', prose: true },
      { text: '```ts\nconst a = 1;\n```\n', prose: false },
      { text: 'It throws when a is 2.\n', prose: true },
      { text: '~~~\nraw\n~~~', prose: false },
    ]);
    expect(joined(text)).toBe(text);
  });

  it('follows CommonMark: indented fences, longer fences with shorter ones inside, empty blocks', () => {
    const text = [
      '1. Run:',
      '   ```sh',
      '   make test',
      '   ```',
      'Then:',
      '````md',
      '```',
      'inner',
      '```',
      '````',
      '```',
      '```',
      'after an empty block',
    ].join('\n');

    expect(segments(text).map((s) => [s.prose, s.text.split('\n')[0]])).toEqual([
      [true, '1. Run:'],
      [false, '   ```sh'],
      [true, 'Then:'],
      [false, '````md'],
      [true, 'after an empty block'],
    ]);
    expect(joined(text)).toBe(text);
  });

  it('protects an unclosed fence to the end of the text', () => {
    expect(segments('Look:\n```\nstill code')).toEqual([
      { text: 'Look:\n', prose: true },
      { text: '```\nstill code', prose: false },
    ]);
  });

  it.each(['{"temperature": 21, "unit": "C"}', '  [1, 2, 3]\n', '{"event": "start"}\n{"event": "stop"}\n'])(
    'treats JSON or JSON Lines (%j) as one protected segment',
    (text) => {
      expect(segments(text)).toEqual([{ text, prose: false }]);
    },
  );

  it('sends prose but not blank text to the compressor', () => {
    expect(segments('Just words, and {not json').every(compressible)).toBe(true);
    expect(compressible({ text: '\n  \n', prose: true })).toBe(false);
  });

  it('splits the whitespace around a prose segment from its words, to put it back after compression', () => {
    expect(padding('\n  Some words here.\n\n')).toEqual({ before: '\n  ', core: 'Some words here.', after: '\n\n' });
    expect(padding('words')).toEqual({ before: '', core: 'words', after: '' });
  });
});
