import { describe, expect, it } from 'vitest';
import { dayToSeconds, rangeStart, utcDaysBetween } from './time-range.ts';

const NOW = Date.parse('2026-12-07T18:34:56.789Z');

describe('rangeStart', () => {
  it('goes back 24 hours to the whole minute, so refetches within a minute ask the same query', () => {
    expect(rangeStart('24h', NOW)).toBe('2026-12-06T18:34:00.000Z');
    expect(rangeStart('24h', NOW + 3_000)).toBe(rangeStart('24h', NOW));
  });

  it('starts the day ranges at midnight UTC, today included', () => {
    expect(rangeStart('7d', NOW)).toBe('2026-12-01T00:00:00.000Z');
    expect(rangeStart('30d', NOW)).toBe('2026-11-08T00:00:00.000Z');
  });
});

describe('utcDaysBetween', () => {
  it("lists every UTC day from the start's to today's", () => {
    expect(utcDaysBetween(rangeStart('7d', NOW), NOW)).toEqual([
      '2026-12-01',
      '2026-12-02',
      '2026-12-03',
      '2026-12-04',
      '2026-12-05',
      '2026-12-06',
      '2026-12-07',
    ]);
    expect(utcDaysBetween(rangeStart('30d', NOW), NOW)).toHaveLength(30);
  });

  it('gives the last 24 hours the two days they touch', () => {
    expect(utcDaysBetween(rangeStart('24h', NOW), NOW)).toEqual(['2026-12-06', '2026-12-07']);
  });
});

describe('dayToSeconds', () => {
  it("is the day's midnight UTC in seconds", () => {
    expect(dayToSeconds('2026-12-07')).toBe(Date.parse('2026-12-07T00:00:00Z') / 1000);
  });
});
