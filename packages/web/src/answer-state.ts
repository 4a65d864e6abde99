import type { GenerateEvent, SelectModelEvent } from '@tokenflow/client';

export type SelectMetadata = Extract<SelectModelEvent, { type: 'metadata' }>;
export type GenerateMetadata = Extract<GenerateEvent, { type: 'metadata' }>;
export type FallbackEvent = Extract<SelectModelEvent, { type: 'fallback' }>;
export type EndEvent = Extract<SelectModelEvent, { type: 'end' }> | Extract<GenerateEvent, { type: 'end' }>;
export type StreamEvent = SelectModelEvent | GenerateEvent;

/** Everything a stream has said so far, folded from its events. */
export interface AnswerState {
  metadata: SelectMetadata | GenerateMetadata | null;
  fallbacks: FallbackEvent[];
  text: string;
  reasoning: string;
  /** How many text deltas arrived: the page shows the answer growing one delta at a time. */
  deltas: number;
  end: EndEvent | null;
}

export const emptyAnswer: AnswerState = {
  metadata: null,
  fallbacks: [],
  text: '',
  reasoning: '',
  deltas: 0,
  end: null,
};

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
    case 'end':
      return { ...state, end: event };
  }
}

export const isSelectMetadata = (metadata: AnswerState['metadata']): metadata is SelectMetadata =>
  metadata !== null && 'category' in metadata;

/** The model answering now: the metadata's first candidate, or the last fallback's target, or the end's. */
export function answeringModel(state: AnswerState): { provider: string; model: string } | null {
  if (state.end) return { provider: state.end.provider, model: state.end.model };
  const fallback = state.fallbacks.at(-1);
  if (fallback) return fallback.to;
  return state.metadata ? { provider: state.metadata.provider, model: state.metadata.model } : null;
}
