import { formatMs } from '../../format.ts';
import type { Percentiles, UsageReport } from '../../usage/report.ts';

const ROWS = [
  { key: 'ttftMs', label: 'Time to first token' },
  { key: 'totalMs', label: 'Total time' },
] as const;

/** p50, p95 and p99 of the streams' time to first token and total time. */
export function LatencyTable({ latency }: { latency: UsageReport['latency'] }) {
  const known = ROWS.filter((row) => latency[row.key] !== null);
  return (
    <section className="card" aria-labelledby="usage-latency-title">
      <h3 id="usage-latency-title">Latency</h3>
      {known.length === 0 ? (
        <p className="hint">No answered streams in this range.</p>
      ) : (
        <table className="usage-table latency">
          <thead>
            <tr>
              <th scope="col">Over the streams</th>
              <th scope="col">p50</th>
              <th scope="col">p95</th>
              <th scope="col">p99</th>
            </tr>
          </thead>
          <tbody>
            {known.map((row) => {
              const percentiles = latency[row.key] as Percentiles;
              return (
                <tr key={row.key}>
                  <th scope="row">{row.label}</th>
                  <td>{formatMs(percentiles.p50)}</td>
                  <td>{formatMs(percentiles.p95)}</td>
                  <td>{formatMs(percentiles.p99)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
