import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const fixturesDir = process.env.TOKENFLOW_FIXTURES_DIR ?? join(repoRoot, 'fixtures', 'upstream-streams');

export const RECORDINGS = [
  'groq-thinking-part-iter-0',
  'groq-thinking-part-iter-1',
  'openrouter-stream-with-native-options',
  'openrouter-streaming-reasoning',
] as const;
export type RecordingName = (typeof RECORDINGS)[number];

export function hasRecording(name: string) {
  return /^[a-z0-9-]+$/.test(name) && existsSync(join(fixturesDir, `${name}.sse`));
}

export function fixturePath(name: string, kind: 'sse' | 'request.json') {
  if (!hasRecording(name)) throw new Error(`no recording named "${name}" in ${fixturesDir}`);
  return join(fixturesDir, `${name}.${kind}`);
}

/** What a recording says the client should end up with, read straight from its bytes. */
export interface Expected {
  content: string;
  reasoning: string;
  finishReason: string | null;
  usage: { promptTokens: number; completionTokens: number; totalTokens: number; costUsd: number | null } | null;
}

export function expectedFrom(name: RecordingName): Expected {
  const expected: Expected = { content: '', reasoning: '', finishReason: null, usage: null };
  for (const line of readFileSync(fixturePath(name, 'sse'), 'utf8').split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    const chunk = JSON.parse(line.slice('data: '.length));
    for (const choice of chunk.choices ?? []) {
      expected.content += choice.delta?.content ?? '';
      expected.reasoning += choice.delta?.reasoning ?? '';
      expected.finishReason = choice.finish_reason ?? expected.finishReason;
    }
    const usage = chunk.usage ?? chunk.x_groq?.usage;
    if (usage) {
      expected.usage = {
        promptTokens: usage.prompt_tokens,
        completionTokens: usage.completion_tokens,
        totalTokens: usage.total_tokens,
        costUsd: usage.cost ?? null,
      };
    }
  }
  return expected;
}
