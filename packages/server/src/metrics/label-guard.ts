/** The label value that stands for every value past a guard's cap. */
export const OVERFLOW_LABEL = 'other';

/**
 * Keeps a label's cardinality bounded. Every Prometheus label value is a time
 * series kept for ever, so values that callers choose (a model id in a
 * `generate` request) pass through as-is only up to `limit` distinct ones;
 * later newcomers are reported as "other". Values known up front (the
 * catalog's models) always pass and do not use up the cap.
 */
export class LabelGuard {
  private readonly known: Set<string>;
  private readonly admitted = new Set<string>();

  constructor(
    private readonly limit: number,
    known: Iterable<string> = [],
    private readonly maxLength = 128,
  ) {
    this.known = new Set(known);
  }

  label(value: string | null | undefined): string {
    if (!value) return 'unknown';
    if (this.known.has(value) || this.admitted.has(value)) return value;
    if (value.length > this.maxLength || this.admitted.size >= this.limit) return OVERFLOW_LABEL;
    this.admitted.add(value);
    return value;
  }

  /** Distinct values admitted beyond the known ones. */
  get size() {
    return this.admitted.size;
  }
}
