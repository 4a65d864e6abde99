import type { GenerateEvent, SelectModelEvent } from '@tokenflow/server';
import { describe, expect, it } from 'vitest';
import { answeringModel, assembleToolCalls, emptyAnswer, isSelectMetadata, reduceAnswer } from './answer.ts';

const metadata: SelectModelEvent = {
  type: 'metadata',
  requestId: 'r1',
  provider: 'groq',
  model: 'a',
  category: 'code',
  confidence: 0.8,
  scores: [{ label: 'code', score: 0.8 }],
  classification: 'ok',
  routing: 'classified',
  candidates: [
    { provider: 'groq', model: 'a' },
    { provider: 'openrouter', model: 'b' },
  ],
  compression: null,
  classificationMs: 20,
  compressionMs: null,
  notes: [],
};

describe('reduceAnswer', () => {
  it('assembles interleaved parallel tool calls from their fragments without touching the earlier state', () => {
    const events: SelectModelEvent[] = [
      metadata,
      { type: 'toolCall', index: 1, id: 'call_b', name: 'get_', argumentsDelta: '' },
      { type: 'toolCall', index: 0, id: 'call_a', name: 'lookup', argumentsDelta: '{"q":' },
      { type: 'toolCall', index: 1, name: 'time', argumentsDelta: '' },
      { type: 'toolCall', index: 0, argumentsDelta: '"x"}' },
      { type: 'toolCall', index: 1, id: 'ignored-later-id', argumentsDelta: '{}' },
    ];
    const states = [emptyAnswer];
    for (const event of events) states.push(reduceAnswer(states.at(-1) ?? emptyAnswer, event));

    expect(states.at(-1)?.toolCalls).toEqual([
      { index: 0, id: 'call_a', name: 'lookup', arguments: '{"q":"x"}' },
      { index: 1, id: 'call_b', name: 'get_time', arguments: '{}' },
    ]);
    expect(states[2]?.toolCalls).toEqual([{ index: 1, id: 'call_b', name: 'get_', arguments: '' }]);
    expect(assembleToolCalls(events)).toEqual(states.at(-1)?.toolCalls);
  });

  it('appends text and reasoning deltas separately and counts the text deltas', () => {
    const events: SelectModelEvent[] = [
      metadata,
      { type: 'reasoning', text: 'think ' },
      { type: 'text', text: 'Hel' },
      { type: 'reasoning', text: 'more' },
      { type: 'text', text: 'lo' },
    ];
    const state = events.reduce(reduceAnswer, emptyAnswer);
    expect(state).toMatchObject({ text: 'Hello', reasoning: 'think more', deltas: 2, end: null });
    expect(answeringModel(state)).toEqual({ provider: 'groq', model: 'a' });
  });

  it('names the fallback target as the answering model until the end event says who answered', () => {
    const fallback: SelectModelEvent = {
      type: 'fallback',
      from: { provider: 'groq', model: 'a' },
      to: { provider: 'openrouter', model: 'b' },
      reason: 'HTTP 404',
      code: 'NOT_FOUND',
    };
    const state = [metadata, fallback].reduce(reduceAnswer, emptyAnswer);
    expect(state.fallbacks).toHaveLength(1);
    expect(answeringModel(state)).toEqual({ provider: 'openrouter', model: 'b' });
    const ended = reduceAnswer(state, {
      type: 'end',
      finishReason: 'stop',
      provider: 'openrouter',
      model: 'b',
      usage: null,
      savings: null,
    });
    expect(ended.end?.finishReason).toBe('stop');
  });

  it('folds a generate stream the same way, without touching the state it started from', () => {
    const events: GenerateEvent[] = [
      { type: 'metadata', requestId: 'r2', provider: 'groq', model: 'c' },
      { type: 'text', text: 'Hi' },
      { type: 'end', finishReason: 'length', provider: 'groq', model: 'c', usage: null },
    ];
    const state = events.reduce(reduceAnswer, emptyAnswer);
    expect(isSelectMetadata(state.metadata)).toBe(false);
    expect(state).toMatchObject({ text: 'Hi', deltas: 1, end: { finishReason: 'length' } });
    expect(answeringModel(state)).toEqual({ provider: 'groq', model: 'c' });
    expect(emptyAnswer).toEqual({
      metadata: null,
      fallbacks: [],
      toolCalls: [],
      text: '',
      reasoning: '',
      deltas: 0,
      end: null,
    });
  });
});
