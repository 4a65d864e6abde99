import type { AssembledToolCall, ToolCallDelta } from './events.ts';

/**
 * The tool calls after one more fragment, put together as the official
 * OpenAI clients do: the id from the first fragment that has one, name and
 * arguments joined, calls in index order. Pure (a new array, a new object for
 * the call it changed), so the gateway, the typed client and React state all
 * use it. Exported to clients as `@tokenflow/server/tool-calls`.
 */
export function addToolCallDelta(calls: readonly AssembledToolCall[], delta: ToolCallDelta): AssembledToolCall[] {
  const known = calls.find((call) => call.index === delta.index);
  const call = {
    index: delta.index,
    id: known?.id || delta.id || '',
    name: (known?.name ?? '') + (delta.name ?? ''),
    arguments: (known?.arguments ?? '') + delta.argumentsDelta,
  };
  return [...calls.filter((c) => c !== known), call].sort((a, b) => a.index - b.index);
}
