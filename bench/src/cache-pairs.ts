import { type CachePair, judgePairs, readCachePairs } from '@tokenflow/server/cache-eval';
import { startTestMlService } from '@tokenflow/server/test-utils';

/** all-MiniLM-L6-v2's embeddings of every prompt of the pair set, as the gateway asks for them (POST /classify). */
async function embed(texts: string[]): Promise<Map<string, number[]>> {
  const ml = await startTestMlService();
  try {
    const vectors = new Map<string, number[]>();
    const unique = [...new Set(texts)];
    // A few at a time: the service batches concurrent requests into one encoder pass.
    for (let i = 0; i < unique.length; i += 16) {
      await Promise.all(
        unique.slice(i, i + 16).map(async (prompt) => {
          const response = await fetch(`${ml.url}/classify`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ prompt, return_embedding: true }),
          });
          const body = (await response.json()) as { embedding?: number[] | null };
          if (!response.ok) throw new Error(`POST /classify answered ${response.status}`);
          // None for a prompt longer than the encoder reads whole: such a pair can only hit exactly.
          vectors.set(prompt, body.embedding ?? []);
        }),
      );
    }
    return vectors;
  } finally {
    await ml.close();
  }
}

const dot = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * (b[i] ?? 0), 0);

/**
 * Every pair judged: its similarity under the real model (0 when a prompt got
 * no embedding, so the pair can never hit semantically) and the guard's verdict.
 */
export async function judgedCachePairs() {
  const pairs = readCachePairs();
  const vectors = await embed(pairs.flatMap((p) => [p.a, p.b]));
  const vector = (text: string) => vectors.get(text) ?? [];
  return judgePairs(pairs, (pair: CachePair) => dot(vector(pair.a), vector(pair.b)));
}
