import { type AnswerState, answeringModel } from '@tokenflow/client';
import { formatTokens, formatUsd } from '../format.ts';
import type { StreamStatus } from '../use-stream.ts';
import { Markdown } from './Markdown.tsx';

function statusText(status: StreamStatus, answer: AnswerState): string {
  const model = answeringModel(answer);
  const from = model ? ` from ${model.provider}/${model.model}` : '';
  switch (status) {
    case 'idle':
      return 'Ready.';
    case 'running':
      return answer.deltas === 0 && !answer.reasoning ? `Waiting for the first token${from}…` : `Streaming${from}…`;
    case 'done':
      return `Done${from}: finish reason ${answer.end?.finishReason ?? 'none'}.`;
    case 'stopped':
      return 'Stopped: the stream was cancelled and the provider request aborted.';
    case 'failed':
      return 'Failed; see the error above.';
  }
}

/** The answer as it streams, its reasoning in a collapsible panel, and what it used and cost. */
export function AnswerStream({ status, answer }: { status: StreamStatus; answer: AnswerState }) {
  const usage = answer.end?.usage ?? null;
  return (
    <section className="card answer" aria-labelledby="answer-title" aria-busy={status === 'running'}>
      <h3 id="answer-title">Answer</h3>
      {/* Only the status is live: announcing every token would drown a screen reader. */}
      <p className="stream-status" role="status" aria-live="polite" data-status={status}>
        {statusText(status, answer)}
      </p>
      {answer.reasoning ? (
        <details className="reasoning">
          <summary>Reasoning ({answer.reasoning.length.toLocaleString('en-US')} characters)</summary>
          <div className="reasoning-text">{answer.reasoning}</div>
        </details>
      ) : null}
      <div className="answer-text" data-deltas={answer.deltas}>
        <Markdown text={answer.text} />
        {status === 'running' ? <span className="cursor" aria-hidden="true" /> : null}
      </div>
      {usage ? (
        <dl className="facts usage">
          <dt>Tokens</dt>
          <dd>
            {formatTokens(usage.promptTokens)} in, {formatTokens(usage.completionTokens)} out
          </dd>
          <dt>Cost</dt>
          <dd>
            {formatUsd(usage.costUsd)}
            {usage.costSource
              ? ` (${usage.costSource === 'provider' ? "the provider's figure" : 'catalog price'})`
              : ''}
          </dd>
        </dl>
      ) : null}
    </section>
  );
}
