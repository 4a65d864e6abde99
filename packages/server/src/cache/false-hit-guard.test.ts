import { describe, expect, it } from 'vitest';
import { readCachePairs } from './eval/evaluate.ts';
import { falseHitReason, specificsOf } from './false-hit-guard.ts';

const verdict = (a: string, b: string) => falseHitReason(specificsOf(a), specificsOf(b));

describe('the false-hit guard', () => {
  it.each([
    ['What is 2+3?', 'What is 2+4?', 'numbers'],
    ['What is 6 times 7?', 'What is 6 plus 7?', 'numbers'],
    ['List the top five movies of 1999.', 'List the top ten movies of 1999.', 'numbers'],
    ['What is 10 - 3?', 'What is 3 - 10?', 'numbers'],
    ['Convert 5 km to miles.', 'Convert 5 miles to km.', null],
    ['Convert 5 km to miles.', 'Convert 5 km to feet.', 'units'],
    ['Is 30°C hot?', 'Is 30°F hot?', 'units'],
    ['What is the capital of France?', 'What is the capital of Spain?', 'names'],
    ['Write a haiku about Tokyo.', 'Write a haiku about Kyoto.', 'names'],
    ['How do I reverse a list in python?', 'How do I reverse a list in rust?', 'names'],
    ['Which fruits are red?', 'Which fruits are not red?', 'negation'],
    ["Why doesn't my loop end?", 'Why does my loop end?', 'negation'],
    ['What does `a == b` do in JavaScript?', 'What does `a === b` do in JavaScript?', 'code'],
    ['Run `cancel_order` for order 88213.', 'Run `refund_order` for order 88213.', 'code'],
    ['Translate "good morning" into French.', 'Translate "good night" into French.', 'code'],
  ])('tells %j from %j (%s)', (a, b, reason) => {
    expect(verdict(a, b)).toBe(reason);
    expect(verdict(b, a)).toBe(reason);
  });

  it.each([
    ['What is the capital of France?', 'what is the capital of france'],
    ['Give me 5 ideas for a party for a 7 year old.', 'Give me 5 ideas for a party for a 7-year-old.'],
    ["Explain recursion like I'm 5.", 'Explain recursion like I am 5.'],
    ['What is 17 times 23?', 'Multiply 17 by 23.'],
    ['Schedule a meeting with Bob on Friday.', 'Put a meeting with Bob on my calendar for Friday.'],
    ['Summarize this article in 3 bullet points.', 'Give me a 3 bullet point summary of this article.'],
  ])('lets a paraphrase through: %j and %j', (a, b) => {
    expect(verdict(a, b)).toBeNull();
  });

  it('refuses every near-miss of the dev split, whatever their similarity', () => {
    const dev = readCachePairs().filter((pair) => pair.split === 'dev' && pair.kind === 'near-miss');

    const through = dev.filter((pair) => verdict(pair.a, pair.b) === null).map((pair) => pair.id);

    expect(dev.length).toBeGreaterThanOrEqual(75);
    expect(through).toEqual([]);
  });
});
