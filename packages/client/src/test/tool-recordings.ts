import { type ExpectedToolCalls, expectedToolCallsFrom, type ToolRecordingName } from '@tokenflow/server/test-utils';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { RouterInputs, StreamEvent } from '../index.ts';
import { CHATTER, catalogModel } from './recorded-models.ts';
import { type Stack, startStack } from './stack.ts';

type OpenAiMessage = {
  role: string;
  content?: string | null;
  tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
};
type Messages = NonNullable<RouterInputs['generate']['messages']>;

/** A recorded request's messages in the procedures' camelCase (the fixture is OpenAI's wire format). */
export function recordedMessages(expected: ExpectedToolCalls): Messages {
  return (expected.request.messages as OpenAiMessage[]).map((m) => {
    if (m.role === 'tool') return { role: 'tool', toolCallId: m.tool_call_id ?? '', content: m.content ?? '' };
    if (m.role === 'assistant') return { role: 'assistant', content: m.content ?? null, toolCalls: m.tool_calls ?? [] };
    return { role: m.role as 'user' | 'system', content: m.content ?? '' };
  }) as Messages;
}

/** What generate and selectModel take to replay a recorded agent turn. */
export function recordedTurn(name: ToolRecordingName) {
  const expected = expectedToolCallsFrom(name);
  return {
    expected,
    input: {
      messages: recordedMessages(expected),
      tools: expected.request.tools as NonNullable<RouterInputs['generate']['tools']>,
      toolChoice: expected.request.tool_choice as RouterInputs['generate']['toolChoice'],
    },
  };
}

/** The recording's tool-call fragments as TokenFlow's `toolCall` events: one each, same order. */
export function expectedEvents(expected: ExpectedToolCalls) {
  return expected.deltas.map((d) => ({
    type: 'toolCall',
    index: d.index,
    ...(d.id ? { id: d.id } : {}),
    ...(d.function.name ? { name: d.function.name } : {}),
    argumentsDelta: d.function.arguments ?? '',
  }));
}

export const toolCallEvents = (events: StreamEvent[]) => events.filter((e) => e.type === 'toolCall');

// Models named after the recordings, so the replay upstream answers each with its stream.
export const AGENT = { provider: 'openrouter', model: 'openai-tools-agent-0' } as const;
export const AGENT_B = { provider: 'groq', model: 'openai-tools-multi-3' } as const;
export const SEER = { provider: 'openrouter', model: 'openrouter-streaming-reasoning' } as const;
export const CATALOG = {
  defaultCategory: 'general',
  models: [
    {
      ...catalogModel(AGENT, { 'function-calling': 1, general: 3 }),
      supportsTools: true,
      supportsStructuredOutputs: true,
    },
    { ...catalogModel(AGENT_B, { 'function-calling': 2 }), supportsTools: true },
    // Ranked first for function calling, but it cannot take tools: routing must pass it over.
    catalogModel(CHATTER, { general: 1, 'function-calling': 1 }),
    { ...catalogModel(SEER, { general: 2 }), supportsVision: true, supportsStructuredOutputs: true },
  ],
};
export const id = (ref: { provider: string; model: string }) => `${ref.provider}/${ref.model}`;

export async function collect(stream: AsyncIterable<StreamEvent>) {
  const events: StreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

export type SseEvent = { event: string; data: Record<string, unknown> };
export const parseSse = (body: string): SseEvent[] =>
  body
    .split('\n\n')
    .filter((block) => block.startsWith('event: '))
    .map((block) => {
      const [eventLine = '', dataLine = ''] = block.split('\n');
      return { event: eventLine.slice('event: '.length), data: JSON.parse(dataLine.slice('data: '.length)) };
    });

/**
 * Shapes other providers send and other gateways get wrong: an empty `arguments`
 * fragment (it killed LiteLLM streams, BerriAI/litellm#40069) and a parallel call
 * whose fragments carry no id at all (LiteLLM dropped them, #20711).
 */
export function unusualToolStream() {
  const chunk = (delta: unknown, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const fragments = [
    { index: 0, id: 'call_a', type: 'function', function: { name: 'lookup', arguments: '' } },
    { index: 0, function: { arguments: '' } },
    { index: 1, function: { name: 'other', arguments: '{"a"' } },
    { index: 0, function: { arguments: '{}' } },
    { index: 1, function: { arguments: ':1}' } },
  ];
  return {
    fragments,
    body: [
      chunk({ role: 'assistant', content: null }),
      ...fragments.map((f) => chunk({ tool_calls: [f] })),
      chunk({}, 'tool_calls'),
      'data: [DONE]\n\n',
    ].join(''),
  };
}

/**
 * The stack the tool tests run on, started before and closed after the file's
 * tests, the upstream reset after each: replay upstream <- gateway (CATALOG, no
 * ML service, so a request with tools must route without the classifier) <- client.
 */
export function toolStack(): Stack {
  let stack: Stack | undefined;
  beforeAll(async () => {
    stack = await startStack({}, { catalog: CATALOG });
  }, 120_000);
  afterEach(() => {
    stack?.upstream.use({});
    if (stack) stack.upstream.requests.length = 0;
  });
  afterAll(async () => {
    await stack?.close();
  });
  const started = () => {
    if (!stack) throw new Error('the tool stack is not started yet');
    return stack;
  };
  return {
    get upstream() {
      return started().upstream;
    },
    get ml() {
      return started().ml;
    },
    get gateway() {
      return started().gateway;
    },
    get client() {
      return started().client;
    },
    newClient: () => started().newClient(),
    close: () => started().close(),
  };
}
