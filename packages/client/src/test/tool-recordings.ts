import { type ExpectedToolCalls, expectedToolCallsFrom, type ToolRecordingName } from '@tokenflow/server/test-utils';
import type { RouterInputs, StreamEvent } from '../index.ts';

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
