import type { GenerateEvent, SelectModelEvent } from '../generation/events.ts';
import type { RequestCache } from './response-cache.ts';
import { replay } from './stored-answer.ts';

type StreamEvent = GenerateEvent | SelectModelEvent;

/**
 * A generation through the response cache: an exact hit is replayed as an
 * ordinary stream without calling anything (no classification, no provider);
 * otherwise the generation runs and its answer is stored once its `end`
 * passes, whole. The store is not awaited: the caller's `end` never waits on
 * the cache.
 */
export async function* throughCache<E extends StreamEvent>(
  cache: RequestCache | null,
  requestId: string,
  run: () => AsyncIterable<E>,
): AsyncGenerator<E> {
  if (!cache) {
    yield* run();
    return;
  }
  const found = await cache.exact();
  if (found) {
    yield* replay(found.stored, requestId, found.hit) as Generator<E>;
    return;
  }
  const recorder = cache.recorder();
  for await (const event of run()) {
    recorder.observe(event);
    if (event.type === 'end') cache.store(recorder, event).catch(() => undefined);
    yield event;
  }
}
