import type { AnswerState, SelectMetadata } from '@tokenflow/client';
import { formatMs, formatPercent, formatTokens, formatUsd } from '../format.ts';

/** Tokens before and after compression, and what that saved once the end event priced it. */
export function CompressionSummary({ metadata, answer }: { metadata: SelectMetadata; answer: AnswerState }) {
  const { compression } = metadata;
  if (!compression) return null;
  const savings = answer.end && 'savings' in answer.end ? answer.end.savings : null;
  const kept = compression.originTokens > 0 ? compression.compressedTokens / compression.originTokens : 1;
  return (
    <section className="card compression-summary" aria-labelledby="compression-title">
      <h3 id="compression-title">Compression</h3>
      <dl className="facts">
        <dt>Before</dt>
        <dd>{formatTokens(compression.originTokens)}</dd>
        <dt>After</dt>
        <dd>
          {formatTokens(compression.compressedTokens)} ({formatPercent(kept)} kept
          {metadata.compressionMs !== null ? `, in ${formatMs(metadata.compressionMs)}` : ''})
        </dd>
        <dt>Saved</dt>
        <dd>
          {savings
            ? `${formatTokens(savings.tokens)}, ${formatUsd(savings.usd)} at the answering model's input price`
            : answer.end
              ? formatTokens(compression.originTokens - compression.compressedTokens)
              : `${formatTokens(compression.originTokens - compression.compressedTokens)}; dollars once the answer ends`}
        </dd>
      </dl>
    </section>
  );
}
