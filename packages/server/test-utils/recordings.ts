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

/** OpenAI recordings of answers that call tools (see fixtures/upstream-streams/README.md). */
export const TOOL_RECORDINGS = [
  'openai-tools-agent-0',
  'openai-tools-agent-1',
  'openai-tools-agent-2',
  'openai-tools-multi-3',
] as const;
export type ToolRecordingName = (typeof TOOL_RECORDINGS)[number];

/** One `delta.tool_calls` entry as the recording has it. */
export interface RecordedToolCallDelta {
  index: number;
  id?: string;
  type?: string;
  function: { name?: string; arguments?: string };
}

export interface ExpectedToolCalls {
  /** Every tool-call fragment in the order it was sent. */
  deltas: RecordedToolCallDelta[];
  /** The calls as a client puts them together: index order, fragments joined. */
  toolCalls: Array<{ index: number; id: string; name: string; arguments: string }>;
  finishReason: string | null;
  usage: Expected['usage'];
  /** The request the recording answered (tools, earlier turns), for replaying it. */
  request: { messages: unknown[]; tools: unknown[]; tool_choice?: unknown };
}

export function expectedToolCallsFrom(name: ToolRecordingName): ExpectedToolCalls {
  const deltas: RecordedToolCallDelta[] = [];
  const calls = new Map<number, { index: number; id: string; name: string; arguments: string }>();
  let finishReason: string | null = null;
  let usage: Expected['usage'] = null;
  for (const line of readFileSync(fixturePath(name, 'sse'), 'utf8').split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    const chunk = JSON.parse(line.slice('data: '.length));
    for (const choice of chunk.choices ?? []) {
      for (const delta of (choice.delta?.tool_calls ?? []) as RecordedToolCallDelta[]) {
        deltas.push(delta);
        const call = calls.get(delta.index) ?? { index: delta.index, id: '', name: '', arguments: '' };
        call.id ||= delta.id ?? '';
        call.name += delta.function.name ?? '';
        call.arguments += delta.function.arguments ?? '';
        calls.set(delta.index, call);
      }
      finishReason = choice.finish_reason ?? finishReason;
    }
    if (chunk.usage) {
      usage = {
        promptTokens: chunk.usage.prompt_tokens,
        completionTokens: chunk.usage.completion_tokens,
        totalTokens: chunk.usage.total_tokens,
        costUsd: null,
      };
    }
  }
  const recorded = JSON.parse(readFileSync(fixturePath(name, 'request.json'), 'utf8')).request;
  return {
    deltas,
    toolCalls: [...calls.values()].sort((a, b) => a.index - b.index),
    finishReason,
    usage,
    request: recorded,
  };
}
