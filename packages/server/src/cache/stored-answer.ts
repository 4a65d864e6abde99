import type { AnswerEvent, GenerateEvent, SelectModelEvent } from '../generation/events.ts';
import type { CacheHit } from './cache-controls.ts';

type StreamEvent = GenerateEvent | SelectModelEvent;
type Metadata = Extract<StreamEvent, { type: 'metadata' }>;
type End = Extract<StreamEvent, { type: 'end' }>;

/** One stored answer: what its stream said, less what belongs to the request (its id, the cache's own fields). */
export interface StoredAnswer {
  v: 1;
  storedAt: number;
  metadata: Omit<Metadata, 'type' | 'requestId' | 'cache'>;
  events: AnswerEvent[];
  end: Omit<End, 'type' | 'cache'>;
}

/** Answers past this many characters are not stored: one reply must not crowd out thousands. */
export const MAX_ANSWER_CHARS = 1_000_000;

const charsOf = (event: AnswerEvent) => (event.type === 'toolCall' ? event.argumentsDelta.length : event.text.length);

/**
 * Collects a stream's answer as it passes. Consecutive deltas of one kind are
 * joined (text with text, one tool call's argument pieces together), so a
 * stored answer is a few events whatever the provider's chunking was; order
 * and content are unchanged.
 */
export class AnswerRecorder {
  private metadata: Metadata | null = null;
  private readonly events: AnswerEvent[] = [];
  private chars = 0;
  private tooLong = false;

  observe(event: StreamEvent) {
    if (event.type === 'metadata') this.metadata = event;
    if (event.type !== 'text' && event.type !== 'reasoning' && event.type !== 'toolCall') return;
    if (this.tooLong) return;
    this.chars += charsOf(event);
    if (this.chars > MAX_ANSWER_CHARS) {
      this.tooLong = true;
      this.events.length = 0;
      return;
    }
    const last = this.events.at(-1);
    if (last?.type === 'text' && event.type === 'text') last.text += event.text;
    else if (last?.type === 'reasoning' && event.type === 'reasoning') last.text += event.text;
    else if (last?.type === 'toolCall' && event.type === 'toolCall' && last.index === event.index && !event.id)
      last.argumentsDelta += event.argumentsDelta;
    else this.events.push({ ...event });
  }

  /** The answer to store, or null when it is not whole (no metadata seen, or too long). */
  answer(end: End, now: number): StoredAnswer | null {
    if (!this.metadata || this.tooLong) return null;
    const { type: _t, requestId: _r, cache: _c, ...metadata } = this.metadata;
    const { type: _e, cache: _ec, ...rest } = end;
    // A selectModel fallback changed the model: the stored metadata names the one that answered.
    return {
      v: 1,
      storedAt: now,
      metadata: { ...metadata, provider: end.provider, model: end.model },
      events: this.events,
      end: rest,
    };
  }
}

/** A stored answer as an ordinary stream of this request: its own id, and `cache` on metadata and end. */
export function* replay(
  stored: StoredAnswer,
  requestId: string,
  hit: CacheHit,
  /** What classifying this request took (a semantic lookup needs it); 0 for an exact hit. */
  classificationMs = 0,
): Generator<StreamEvent> {
  const metadata = { type: 'metadata' as const, requestId, ...stored.metadata, cache: hit } as Metadata;
  if ('notes' in metadata) {
    // Nothing was compressed or sent for this request; the stored compression says what the answer was made from.
    metadata.classificationMs = classificationMs;
    metadata.compressionMs = null;
    const how =
      hit.hit === 'exact' ? 'the same request' : `a similar request (similarity ${hit.similarity.toFixed(3)})`;
    metadata.notes = [`answered from the cache: ${how}, stored ${Math.round(hit.ageSeconds)} s ago`];
  }
  yield metadata;
  for (const event of stored.events) yield event;
  yield { type: 'end', ...stored.end, cache: hit } as End;
}
