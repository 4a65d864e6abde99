/** Percentiles by nearest rank over a sample, in the sample's unit. */
export function summarize(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
  return { n: sorted.length, p50: at(50), p95: at(95), p99: at(99) };
}

export type Summary = ReturnType<typeof summarize>;

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
