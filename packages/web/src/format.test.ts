import { describe, expect, it } from 'vitest';
import {
  formatCount,
  formatDuration,
  formatMs,
  formatPercent,
  formatTokens,
  formatUsd,
  formatUsdShort,
  formatUtcTime,
} from './format.ts';

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

describe('formatUsdShort', () => {
  it('keeps 3 significant digits below a dollar, so tiny daily costs do not read as $0.00', () => {
    expect(formatUsdShort(0.000123456)).toBe('$0.000123');
    expect(formatUsdShort(0.0456)).toBe('$0.0456');
    expect(formatUsdShort(0.5)).toBe('$0.5');
  });

  it('shows cents from a dollar up, and zero as $0', () => {
    expect(formatUsdShort(1)).toBe('$1.00');
    expect(formatUsdShort(1234.567)).toBe('$1,234.57');
    expect(formatUsdShort(0)).toBe('$0');
  });
});

describe('formatDuration', () => {
  it('says a wait in its two largest units', () => {
    expect(formatDuration(2 * 86_400_000 + 5 * 3_600_000 + 60_000)).toBe('2 d 5 h');
    expect(formatDuration(3 * 3_600_000 + 12 * 60_000 + 5_000)).toBe('3 h 12 min');
    expect(formatDuration(3 * 3_600_000)).toBe('3 h');
    expect(formatDuration(86_400_000)).toBe('1 d');
    expect(formatDuration(59 * 60_000)).toBe('59 min');
  });

  it('does not count down seconds', () => {
    expect(formatDuration(59_000)).toBe('under a minute');
    expect(formatDuration(-5)).toBe('under a minute');
  });
});

describe('formatUtcTime', () => {
  it('shows a reset time in UTC, on a 24-hour clock', () => {
    expect(formatUtcTime('2026-12-08T00:00:00Z')).toBe('Dec 8, 00:00 UTC');
    expect(formatUtcTime('2027-01-01T13:05:00+01:00')).toBe('Jan 1, 12:05 UTC');
  });
});

describe('the other formats', () => {
  it('formats counts, tokens, percentages and durations for people', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatTokens(1)).toBe('1 token');
    expect(formatTokens(12345)).toBe('12,345 tokens');
    expect(formatPercent(0.4567)).toBe('45.7%');
    expect(formatMs(42.4)).toBe('42 ms');
    expect(formatMs(1530)).toBe('1.53 s');
  });
});
