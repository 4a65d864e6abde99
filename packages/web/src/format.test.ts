import { describe, expect, it } from 'vitest';
import { formatMs, formatPercent, formatTokens, formatUsd } from './format.ts';

describe('formatUsd', () => {
  it('keeps up to 6 significant digits for fractions of a cent', () => {
    expect(formatUsd(0.000123456789)).toBe('$0.000123457');
    expect(formatUsd(0.0000015)).toBe('$0.0000015');
  });

  it('shows whole amounts without padding and large ones with separators', () => {
    expect(formatUsd(2)).toBe('$2');
    expect(formatUsd(1234.5678)).toBe('$1,234.57');
  });

  it('says unknown for a cost the gateway could not price', () => {
    expect(formatUsd(null)).toBe('unknown');
    expect(formatUsd(Number.NaN)).toBe('unknown');
  });
});

describe('the other formats', () => {
  it('formats tokens, percentages and durations for people', () => {
    expect(formatTokens(1)).toBe('1 token');
    expect(formatTokens(12345)).toBe('12,345 tokens');
    expect(formatPercent(0.4567)).toBe('45.7%');
    expect(formatMs(42.4)).toBe('42 ms');
    expect(formatMs(1530)).toBe('1.53 s');
  });
});
