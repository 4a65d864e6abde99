import { formatCount, formatPercent } from '../../format.ts';
import type { BreakdownRow } from '../../usage/breakdown.ts';

/** Why selectModel picked the ranking it did, as shares of its requests. */
export function RoutingMix({ rows }: { rows: BreakdownRow[] }) {
  return (
    <section className="card" aria-labelledby="usage-routing-title">
      <h3 id="usage-routing-title">Routing mix</h3>
      {rows.length === 0 ? (
        <p className="hint">No routed requests (Route &amp; answer) in this range.</p>
      ) : (
        <>
          <p className="hint">Share of Route &amp; answer requests per routing reason.</p>
          <ul className="bars routing-mix" aria-label="Requests per routing reason">
            {rows.map((row) => (
              <li key={row.label} className="bar">
                <span className="bar-label">{row.label}</span>
                <meter
                  min={0}
                  max={1}
                  value={row.share}
                  aria-label={`${row.label}: ${formatCount(row.requests)} requests`}
                >
                  {formatPercent(row.share)}
                </meter>
                <span className="bar-value">{formatPercent(row.share)}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
