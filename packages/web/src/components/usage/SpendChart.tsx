import { useMemo } from 'react';
import uPlot from 'uplot';
import { formatUsdShort } from '../../format.ts';
import type { SpendSeries } from '../../usage/spend-series.ts';
import { dayToSeconds } from '../../usage/time-range.ts';
import { type ChartOptions, UPlotChart } from '../UPlotChart.tsx';

/** Distinct in light and dark mode; a model keeps its colour while the set of models stays the same. */
const PALETTE = ['#4c6ef5', '#f76707', '#37b24d', '#ae3ec9', '#1098ad', '#868e96'];
const DAY_S = 86_400;
const dayLabel = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });

/** USD per day, one line per model. */
export function SpendChart({ series }: { series: SpendSeries }) {
  const labels = series.models.map((model) => model.label);
  const key = labels.join('\n');
  // biome-ignore lint/correctness/useExhaustiveDependencies: the labels' text, not the array's identity, decides
  const options = useMemo(() => spendOptions(labels), [key]);
  const data = useMemo<uPlot.AlignedData>(
    () => [series.days.map(dayToSeconds), ...series.models.map((model) => model.usd)],
    [series],
  );
  const total = series.models.reduce((sum, model) => sum + model.totalUsd, 0);
  return (
    <UPlotChart
      options={options}
      data={data}
      height={220}
      label={`Spend per day over ${series.days.length} days, ${formatUsdShort(total)} in all, by ${labels.join(', ')}`}
    />
  );
}

function spendOptions(labels: string[]): ChartOptions {
  // Canvas text and lines do not follow CSS, so the page's colours are read once here.
  const style = getComputedStyle(document.documentElement);
  const muted = style.getPropertyValue('--muted').trim() || '#57606a';
  const grid = style.getPropertyValue('--border').trim() || '#d0d7de';
  const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  return {
    // The ledger's days are UTC days: the axis counts them in UTC too.
    tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC'),
    scales: {
      // Half a day either side, so the first and last days' points are not cut in half.
      x: { time: true, range: (_, min, max) => [min - DAY_S / 2, max + DAY_S / 2] },
      y: { range: (_, __, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    series: [
      { label: 'Day', value: (_, seconds) => (seconds === null ? '–' : dayLabel.format(seconds * 1000)) },
      ...labels.map((label, index) => ({
        label,
        stroke: PALETTE[index % PALETTE.length],
        width: 2,
        points: { show: true, size: 6 },
        value: (_: uPlot, usd: number | null) => (usd === null ? '–' : formatUsdShort(usd)),
      })),
    ],
    axes: [
      {
        ...axis,
        // Whole days only: the chart has one point per day, so half-day ticks would repeat labels.
        incrs: [DAY_S, 2 * DAY_S, 7 * DAY_S, 14 * DAY_S],
        values: (_, splits) => splits.map((seconds) => dayLabel.format(seconds * 1000)),
      },
      {
        ...axis,
        values: (_, splits) => splits.map(formatUsdShort),
        // Wide enough for "$0.000123": uPlot's default cuts long labels off.
        size: (_, values) => 16 + 7.5 * Math.max(4, ...(values ?? []).map((value) => value.length)),
      },
    ],
    legend: { live: false },
    // A drag would zoom, which on a phone is what scrolling the page looks like.
    cursor: { drag: { x: false, y: false } },
  };
}
