import type { ReactNode } from 'react';
import { formatCount, formatTokens, formatUsd } from '../../format.ts';
import type { UsageTotals as Totals } from '../../usage/report.ts';

/**
 * The range's totals as tiles: what was asked, what failed, what it used and
 * cost, and what compression and the response cache saved.
 */
export function UsageTotals({ totals }: { totals: Totals }) {
  return (
    <dl className="usage-stats" aria-label="Totals">
      <Stat id="requests" label="Requests" value={formatCount(totals.requests)} />
      <Stat
        id="failed"
        label="Failed"
        value={formatCount(totals.failed)}
        note={totals.requests > 0 ? `${Math.round((totals.failed / totals.requests) * 100)}% of requests` : null}
      />
      <Stat
        id="tokens"
        label="Tokens"
        value={formatCount(totals.totalTokens)}
        note={`${formatCount(totals.promptTokens)} in, ${formatCount(totals.completionTokens)} out`}
      />
      <Stat
        id="cost"
        label="Cost"
        value={formatUsd(totals.costUsd)}
        note={totals.unpricedRequests > 0 ? `plus ${formatCount(totals.unpricedRequests)} unpriced requests` : null}
      />
      <Stat
        id="estimated"
        label="Estimated tokens"
        value={`${formatCount(totals.estimatedRequests)} ${totals.estimatedRequests === 1 ? 'request' : 'requests'}`}
        note="no usage from the provider (e.g. a stopped stream): counted from the text"
      />
      <Stat
        id="saved"
        label="Compression saved"
        value={formatTokens(totals.tokensSaved)}
        note={`${formatUsd(totals.usdSaved)} at the answering models’ input prices`}
      />
      <Stat
        id="cache"
        label="Answered from cache"
        value={`${formatCount(totals.cacheHits)} ${totals.cacheHits === 1 ? 'request' : 'requests'}`}
        note={`${formatUsd(totals.cacheSavedUsd)} not spent (what those answers cost when first made)`}
      />
    </dl>
  );
}

function Stat({ id, label, value, note }: { id: string; label: string; value: string; note?: ReactNode }) {
  return (
    <div className="stat" data-stat={id}>
      <dt>{label}</dt>
      <dd className="stat-value">{value}</dd>
      {note ? <dd className="stat-note">{note}</dd> : null}
    </div>
  );
}
