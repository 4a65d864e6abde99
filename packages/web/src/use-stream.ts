import { type AnswerState, emptyAnswer, reduceAnswer, type StreamEvent } from '@tokenflow/client';
import { useCallback, useEffect, useRef, useState } from 'react';
import { type ReadableError, readableError } from './errors.ts';

export type StreamStatus = 'idle' | 'running' | 'done' | 'stopped' | 'failed';

export interface StreamView {
  status: StreamStatus;
  answer: AnswerState;
  error: ReadableError | null;
}

const STOPPED = 'stopped by the user';

/**
 * Runs one stream at a time: `start` opens it (ending any running one), `stop`
 * aborts it, which unsubscribes and so makes the gateway abort the upstream
 * request. Leaving the page stops it too.
 */
export function useStream() {
  const [view, setView] = useState<StreamView>({ status: 'idle', answer: emptyAnswer, error: null });
  const running = useRef<AbortController | null>(null);

  const start = useCallback(async (open: (signal: AbortSignal) => AsyncIterable<StreamEvent>) => {
    running.current?.abort(STOPPED);
    const controller = new AbortController();
    running.current = controller;
    setView({ status: 'running', answer: emptyAnswer, error: null });
    const current = () => running.current === controller;
    try {
      for await (const event of open(controller.signal)) {
        if (!current()) return;
        setView((view) => ({ ...view, answer: reduceAnswer(view.answer, event) }));
      }
      if (current()) setView((view) => ({ ...view, status: 'done' }));
    } catch (error) {
      if (!current()) return;
      if (controller.signal.aborted) setView((view) => ({ ...view, status: 'stopped' }));
      else setView((view) => ({ ...view, status: 'failed', error: readableError(error) }));
    } finally {
      if (current()) running.current = null;
    }
  }, []);

  const stop = useCallback(() => {
    const controller = running.current;
    if (!controller) return;
    controller.abort(STOPPED);
  }, []);

  useEffect(() => () => running.current?.abort(STOPPED), []);

  return { ...view, start, stop };
}
