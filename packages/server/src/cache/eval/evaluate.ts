import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { falseHitReason, type GuardReason, specificsOf } from '../false-hit-guard.ts';

export { SEMANTIC_THRESHOLD } from '../cache-controls.ts';

/** One pair of cache-pairs.jsonl (README.md says how the set was made). */
export const cachePairSchema = z.strictObject({
  id: z.string(),
  split: z.enum(['dev', 'test']),
  kind: z.enum(['paraphrase', 'near-miss']),
  category: z.string(),
  a: z.string().min(1),
  b: z.string().min(1),
});
export type CachePair = z.infer<typeof cachePairSchema>;

export const PAIRS_FILE = new URL('./cache-pairs.jsonl', import.meta.url);

export function readCachePairs(file: URL | string = PAIRS_FILE): CachePair[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => cachePairSchema.parse(JSON.parse(line)));
}

/** A pair as the cache sees it: the two prompts' similarity, and the guard's verdict on them. */
export interface JudgedPair extends CachePair {
  similarity: number;
  guard: GuardReason | null;
}

export function judgePairs(pairs: CachePair[], similarity: (pair: CachePair) => number): JudgedPair[] {
  return pairs.map((pair) => ({
    ...pair,
    similarity: similarity(pair),
    guard: falseHitReason(specificsOf(pair.a), specificsOf(pair.b)),
  }));
}

/** Whether the cache would serve b with a's answer at `threshold`: similar enough, and the guard lets it. */
export const hits = (pair: JudgedPair, threshold: number) => pair.similarity >= threshold && pair.guard === null;

export interface Rates {
  threshold: number;
  paraphrases: number;
  /** Share of paraphrases served from the cache. */
  paraphraseHitRate: number;
  nearMisses: number;
  /** Near-misses served from the cache: every one is a wrong answer. */
  nearMissHits: number;
  /** Near-misses above the threshold that only the guard stopped. */
  stoppedByGuard: number;
}

export function ratesAt(pairs: JudgedPair[], threshold: number): Rates {
  const paraphrases = pairs.filter((p) => p.kind === 'paraphrase');
  const nearMisses = pairs.filter((p) => p.kind === 'near-miss');
  return {
    threshold,
    paraphrases: paraphrases.length,
    paraphraseHitRate: paraphrases.filter((p) => hits(p, threshold)).length / Math.max(1, paraphrases.length),
    nearMisses: nearMisses.length,
    nearMissHits: nearMisses.filter((p) => hits(p, threshold)).length,
    stoppedByGuard: nearMisses.filter((p) => p.similarity >= threshold && p.guard !== null).length,
  };
}

/**
 * The threshold chosen on the dev split: the highest with no near-miss hit
 * that still serves `paraphraseTarget` of the paraphrases. The highest, not
 * the one with the most hits: the guard catches the differences it knows,
 * and a high threshold is what stands between other kinds of difference and
 * a wrong answer. The target sits 5 points above the goal (80%), a margin
 * for a test split the threshold has not seen; when no threshold reaches it,
 * the one that serves the most paraphrases without a near-miss.
 */
export function chooseThreshold(dev: JudgedPair[], thresholds: number[], paraphraseTarget = 0.85): number {
  const clean = thresholds.map((threshold) => ratesAt(dev, threshold)).filter((rates) => rates.nearMissHits === 0);
  const fit = clean.filter((rates) => rates.paraphraseHitRate >= paraphraseTarget);
  const best =
    fit.at(-1) ??
    // None reaches the target: the most paraphrases without a near-miss served, the highest threshold among equals.
    clean.reduce<Rates | null>(
      (most, rates) => (!most || rates.paraphraseHitRate >= most.paraphraseHitRate ? rates : most),
      null,
    );
  if (!best) throw new Error('every threshold serves a dev near-miss');
  return best.threshold;
}
