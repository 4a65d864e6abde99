import { formatCount, formatPercent, formatUsdShort } from '../../format.ts';
import type { BreakdownRow } from '../../usage/breakdown.ts';

/** Requests, tokens and cost per model or per category, the biggest spender first. */
export function BreakdownTable({
  title,
  nameHeader,
  rows,
}: {
  title: string;
  nameHeader: string;
  rows: BreakdownRow[];
}) {
  const id = `usage-${nameHeader.toLowerCase()}-title`;
  return (
    <section className="card half breakdown" aria-labelledby={id}>
      <h3 id={id}>{title}</h3>
      {rows.length === 0 ? (
        <p className="hint">No requests.</p>
      ) : (
        <table className="usage-table">
          <thead>
            <tr>
              <th scope="col">{nameHeader}</th>
              <th scope="col">Requests</th>
              <th scope="col" className="optional">
                Tokens
              </th>
              <th scope="col">Cost</th>
              <th scope="col">Share</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.label}>
                <th scope="row">
                  <BreakableName name={row.label} />
                </th>
                <td>
                  {formatCount(row.requests)}
                  {row.failed > 0 ? <span className="failed">{formatCount(row.failed)} failed</span> : null}
                </td>
                <td className="optional">{formatCount(row.totalTokens)}</td>
                <td>{formatUsdShort(row.costUsd)}</td>
                <td>{formatPercent(row.share)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** "provider/model" with a line break allowed after each "/", where a narrow column should wrap it. */
function BreakableName({ name }: { name: string }) {
  const parts = name.split('/');
  return (
    <>
      {parts.map((part, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one name, in order
        <span key={index}>
          {part}
          {index < parts.length - 1 ? (
            <>
              /<wbr />
            </>
          ) : null}
        </span>
      ))}
    </>
  );
}
