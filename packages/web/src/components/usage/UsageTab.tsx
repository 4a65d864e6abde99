import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useEffect, useId, useMemo, useState } from 'react';
import { useConnection } from '../../connection.ts';
import { readableError } from '../../errors.ts';
import { breakdown } from '../../usage/breakdown.ts';
import { categoryLabel, modelLabel, routingLabel } from '../../usage/labels.ts';
import type { UsageReport } from '../../usage/report.ts';
import { spendSeries } from '../../usage/spend-series.ts';
import { rangeStart, TIME_RANGES, type TimeRange, utcDaysBetween } from '../../usage/time-range.ts';
import { ErrorMessage } from '../ErrorMessage.tsx';
import { BreakdownTable } from './BreakdownTable.tsx';
import { BudgetBars } from './BudgetBars.tsx';
import { CsvDownload } from './CsvDownload.tsx';
import { LatencyTable } from './LatencyTable.tsx';
import { RoutingMix } from './RoutingMix.tsx';
import { SpendChart } from './SpendChart.tsx';
import { UsageTotals } from './UsageTotals.tsx';

/**
 * What the page's API key has used and spent over a time range, from the
 * gateway's request log. It asks only while shown (the panel stays mounted
 * behind the other tabs), and again each time it is shown.
 */
export function UsageTab({ active }: { active: boolean }) {
  const { trpc, apiKey } = useConnection();
  const id = useId();
  const [range, setRange] = useState<TimeRange>('7d');
  const [now, setNow] = useState(Date.now);
  // Reading the clock when the tab is shown again keeps "the last 24 hours" current.
  useEffect(() => {
    if (active) setNow(Date.now());
  }, [active]);

  const from = rangeStart(range, now);
  // The range's answer stays on screen while the next range loads.
  const options = { enabled: active, placeholderData: keepPreviousData };
  const byDayAndModel = useQuery(trpc.usage.queryOptions({ from, groupBy: ['day', 'model'] }, options));
  const byCategory = useQuery(trpc.usage.queryOptions({ from, groupBy: ['category'] }, options));
  const byRouting = useQuery(
    trpc.usage.queryOptions({ from, procedure: 'selectModel', groupBy: ['routing'] }, options),
  );
  const queries = [byDayAndModel, byCategory, byRouting];
  const failed = queries.find((query) => query.isError);
  const report = byDayAndModel.data;
  const rangeLabel = `last ${TIME_RANGES.find((option) => option.id === range)?.label ?? range}`;

  const changeRange = (next: TimeRange) => {
    setRange(next);
    setNow(Date.now());
  };

  return (
    <div className="usage">
      <div className="usage-toolbar">
        <fieldset className="range-picker">
          <legend className="visually-hidden">Time range</legend>
          {TIME_RANGES.map((option) => (
            <label key={option.id}>
              <input
                type="radio"
                name={`${id}-range`}
                value={option.id}
                checked={range === option.id}
                onChange={() => changeRange(option.id)}
              />
              <span className="range-option">
                <span className="range-prefix">Last </span>
                {option.label}
              </span>
            </label>
          ))}
        </fieldset>
        <button type="button" onClick={() => setNow(Date.now())} disabled={queries.some((q) => q.isFetching)}>
          Refresh
        </button>
        {/* Keyed by the API key: a refusal of the old key says nothing about the new one. */}
        <CsvDownload key={apiKey ?? ''} filters={{ from }} />
      </div>
      <p className="stream-status" role="status" aria-live="polite">
        {report === undefined && !failed
          ? 'Loading usage…'
          : queries.some((query) => query.isFetching)
            ? 'Updating…'
            : report
              ? `Key ${report.key}, ${rangeLabel} (times and days in UTC).`
              : ''}
      </p>
      {failed ? <UsageError error={failed.error} /> : null}
      {report ? (
        <UsageReportView
          report={report}
          categories={byCategory.data}
          routing={byRouting.data}
          from={from}
          rangeLabel={rangeLabel}
          now={now}
        />
      ) : null}
    </div>
  );
}

function UsageError({ error }: { error: unknown }) {
  const readable = readableError(error);
  return (
    <div>
      <ErrorMessage error={readable} />
      {readable.code === 'UNAUTHORIZED' ? (
        <p className="hint">This gateway needs an API key: set one under “API key” at the top of the page.</p>
      ) : null}
    </div>
  );
}

function UsageReportView({
  report,
  categories,
  routing,
  from,
  rangeLabel,
  now,
}: {
  report: UsageReport;
  categories: UsageReport | undefined;
  routing: UsageReport | undefined;
  from: string;
  rangeLabel: string;
  now: number;
}) {
  const spend = useMemo(() => spendSeries(report.groups, utcDaysBetween(from, now)), [report.groups, from, now]);
  const budgets = <BudgetBars keyName={report.key} budgets={report.budgets} now={now} />;
  if (report.totals.requests === 0) {
    return (
      <div className="usage-grid">
        <section className="card wide usage-empty" aria-labelledby="usage-empty-title">
          <h3 id="usage-empty-title">No requests yet</h3>
          <p>
            The key <strong>{report.key}</strong> made no requests in the {rangeLabel}. Run a prompt in Route &amp;
            answer, Generate or Compress, and its tokens, cost and latency show up here.
          </p>
        </section>
        {budgets}
      </div>
    );
  }
  return (
    <>
      <UsageTotals totals={report.totals} />
      <div className="usage-grid">
        <section className="card wide spend-chart" aria-labelledby="usage-spend-title">
          <h3 id="usage-spend-title">Spend per day (USD)</h3>
          <SpendChart series={spend} />
        </section>
        <BreakdownTable title="By model" nameHeader="Model" rows={breakdown(report.byModel, modelLabel, 'costUsd')} />
        <BreakdownTable
          title="By category"
          nameHeader="Category"
          rows={breakdown(categories?.groups ?? [], categoryLabel, 'costUsd')}
        />
        <RoutingMix rows={breakdown(routing?.groups ?? [], routingLabel, 'requests')} />
        <LatencyTable latency={report.latency} />
        {budgets}
      </div>
    </>
  );
}
