import type { AssembledToolCall, GenerateEvent, ModelRef, SelectModelEvent } from '@tokenflow/server';
import { addToolCallDelta } from '@tokenflow/server/tool-calls';

/** Any event of a `generate` or `selectModel` stream. */
export type StreamEvent = SelectModelEvent | GenerateEvent;
export type SelectMetadata = Extract<SelectModelEvent, { type: 'metadata' }>;
export type GenerateMetadata = Extract<GenerateEvent, { type: 'metadata' }>;
export type FallbackEvent = Extract<SelectModelEvent, { type: 'fallback' }>;
export type EndEvent = Extract<StreamEvent, { type: 'end' }>;
export type ToolCallEvent = Extract<StreamEvent, { type: 'toolCall' }>;

/** Everything a stream has said so far, folded from its events by `reduceAnswer`. */
export interface AnswerState {
  metadata: SelectMetadata | GenerateMetadata | null;
  fallbacks: FallbackEvent[];
  text: string;
  reasoning: string;
  /** How many text deltas arrived (a UI can show the answer growing one delta at a time). */
  deltas: number;
  /**
   * The tool calls so far, in index order, each put together from its
   * fragments (id from the first, name and arguments joined) as they arrive;
   * once `end` has come they equal `end.toolCalls`.
   */
  toolCalls: AssembledToolCall[];
  end: EndEvent | null;
}

export const emptyAnswer: AnswerState = {
  metadata: null,
  fallbacks: [],
  text: '',
  reasoning: '',
  deltas: 0,
  toolCalls: [],
  end: null,
};

/**
 * The answer after one more event; `events.reduce(reduceAnswer, emptyAnswer)`
 * gives the whole answer. The state is never mutated, so React can hold it.
 */
export function reduceAnswer(state: AnswerState, event: StreamEvent): AnswerState {
  switch (event.type) {
    case 'metadata':
      return { ...state, metadata: event };
    case 'fallback':
      return { ...state, fallbacks: [...state.fallbacks, event] };
    case 'text':
      return { ...state, text: state.text + event.text, deltas: state.deltas + 1 };
    case 'reasoning':
      return { ...state, reasoning: state.reasoning + event.text };
    case 'toolCall':
      return { ...state, toolCalls: addToolCallDelta(state.toolCalls, event) };
    case 'end':
      return { ...state, end: event };
  }
}

/** Whether the metadata is selectModel's (with the category, scores and candidates) rather than generate's. */
export const isSelectMetadata = (metadata: AnswerState['metadata']): metadata is SelectMetadata =>
  metadata !== null && 'category' in metadata;

/** The model answering now: the end's, else the last fallback's target, else the metadata's first choice. */
export function answeringModel(state: AnswerState): ModelRef | null {
  if (state.end) return { provider: state.end.provider, model: state.end.model };
  const fallback = state.fallbacks.at(-1);
  if (fallback) return fallback.to;
  return state.metadata ? { provider: state.metadata.provider, model: state.metadata.model } : null;
}

/**
 * The tool calls a stream made, assembled from its `toolCall` fragments:
 * `assembleToolCalls(events)` for events collected, or fold them one at a time
 * with `reduceAnswer` and read `state.toolCalls`.
 */
export function assembleToolCalls(events: Iterable<StreamEvent>): AssembledToolCall[] {
  let state = emptyAnswer;
  for (const event of events) state = reduceAnswer(state, event);
  return state.toolCalls;
}
