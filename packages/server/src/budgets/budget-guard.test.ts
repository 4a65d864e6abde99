import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, type Ledger } from '../ledger/index.ts';
import { createLogger } from '../logger.ts';
import { BudgetGuard } from './budget-guard.ts';
import type { BudgetName } from './budget-schema.ts';
import { BudgetStore } from './budget-store.ts';
import { periodsAt } from './periods.ts';

const DAY = 24 * 3600 * 1000;
const dir = mkdtempSync(join(tmpdir(), 'tokenflow-budgets-'));
let ledger: Ledger;
beforeAll(async () => {
  ledger = await createLedger({ dataDir: dir });
});
afterAll(async () => {
  await ledger.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A guard on the real SQLite store with a clock the test moves, and the alerts it raised. */
function guardAt(startMs: number, defaults = {}) {
  const clock = { now: startMs };
  const crossed: string[] = [];
  const refused: BudgetName[] = [];
  const guard = new BudgetGuard({
    store: new BudgetStore(
      () => ledger.db,
      () => ledger.dialect,
    ),
    defaults,
    logger: createLogger('silent'),
    alerts: {
      crossed: (key, budget, threshold) => crossed.push(`${key} ${budget} ${threshold}`),
      refused: (_key, budget) => refused.push(budget),
    },
    holdTtlMs: 600_000,
    now: () => clock.now,
  });
  return { guard, clock, crossed, refused };
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 50));
const codeOf = (error: unknown) => (error instanceof TRPCError ? error.code : String(error));

describe('BudgetGuard', () => {
  it('starts every UTC day afresh, while the month keeps counting', async () => {
    const { guard, clock } = guardAt(Date.UTC(2026, 11, 7, 23, 0));
    const budgets = { usdPerDay: 1, usdPerMonth: 1.5 };

    (await guard.reserve('day-key', budgets, { usd: 0.9, tokens: 0 }, randomUUID()))?.settle({ usd: 0.9, tokens: 10 });
    await settled();
    const lateToday = await guard.reserve('day-key', budgets, { usd: 0.2, tokens: 0 }, randomUUID()).catch(codeOf);
    clock.now += 2 * 3600 * 1000;
    const tomorrow = await guard.reserve('day-key', budgets, { usd: 0.5, tokens: 0 }, randomUUID());
    const overMonth = await guard.reserve('day-key', budgets, { usd: 0.2, tokens: 0 }, randomUUID()).catch(codeOf);

    expect(lateToday).toBe('TOO_MANY_REQUESTS');
    expect(tomorrow).not.toBeNull();
    expect(overMonth).toBe('TOO_MANY_REQUESTS');
    expect(await guard.status('day-key', budgets)).toEqual([
      { budget: 'usdPerDay', limit: 1, used: 0, reserved: 0.5, resetsAt: '2026-12-09T00:00:00.000Z' },
      { budget: 'usdPerMonth', limit: 1.5, used: 0.9, reserved: 0.5, resetsAt: '2027-01-01T00:00:00.000Z' },
    ]);
  });

  it('settles a hold taken before midnight into the day it was taken', async () => {
    const { guard, clock } = guardAt(Date.UTC(2026, 11, 10, 23, 59));
    const budgets = { usdPerDay: 1 };
    const hold = await guard.reserve('midnight-key', budgets, { usd: 0.6, tokens: 0 }, randomUUID());

    clock.now += DAY / 24;
    hold?.settle({ usd: 0.4, tokens: 0 });
    await settled();

    expect(await guard.status('midnight-key', budgets)).toEqual([
      { budget: 'usdPerDay', limit: 1, used: 0, reserved: 0, resetsAt: '2026-12-12T00:00:00.000Z' },
    ]);
    clock.now -= DAY / 24;
    expect((await guard.status('midnight-key', budgets))[0]).toMatchObject({ used: 0.4, reserved: 0 });
  });

  it('alerts once at 80% and once at 100% of a budget', async () => {
    const { guard, crossed } = guardAt(Date.UTC(2026, 11, 12, 12));
    const budgets = { tokensPerDay: 100 };

    for (const tokens of [50, 35, 5, 10]) {
      (await guard.reserve('alert-key', budgets, { usd: 0, tokens }, randomUUID()))?.settle({ usd: 0, tokens });
      await settled();
    }

    expect(crossed).toEqual(['alert-key tokensPerDay 0.8', 'alert-key tokensPerDay 1']);
  });

  it('stops counting a hold its request never settled once it expires', async () => {
    const { guard, clock } = guardAt(Date.UTC(2026, 11, 14, 12));
    const budgets = { usdPerDay: 1 };
    await guard.reserve('crashed-key', budgets, { usd: 0.8, tokens: 0 }, randomUUID());

    const whileHeld = await guard.reserve('crashed-key', budgets, { usd: 0.5, tokens: 0 }, randomUUID()).catch(codeOf);
    clock.now += 600_001;
    const afterExpiry = await guard.reserve('crashed-key', budgets, { usd: 0.5, tokens: 0 }, randomUUID());

    expect(whileHeld).toBe('TOO_MANY_REQUESTS');
    expect(afterExpiry).not.toBeNull();
  });

  it('counts a request once however often its settle is repeated', async () => {
    const store = new BudgetStore(
      () => ledger.db,
      () => ledger.dialect,
    );
    const { guard } = guardAt(Date.UTC(2026, 11, 15, 12));
    const budgets = { usdPerDay: 1 };
    const id = randomUUID();
    await guard.reserve('twice-key', budgets, { usd: 0.5, tokens: 0 }, id);

    const first = await store.settle('twice-key', id, periodsAt(Date.UTC(2026, 11, 15, 12)), { usd: 0.3, tokens: 0 });
    const again = await store.settle('twice-key', id, periodsAt(Date.UTC(2026, 11, 15, 12)), { usd: 0.3, tokens: 0 });

    expect(first?.day.after.usd).toBeCloseTo(0.3, 12);
    expect(again).toBeNull();
    expect((await guard.status('twice-key', budgets))[0]).toMatchObject({ used: 0.3, reserved: 0 });
  });

  it('says why a request does not fit: held by requests in flight, too large for what is left, or spent', async () => {
    const { guard, crossed } = guardAt(Date.UTC(2026, 11, 16, 12));
    const budgets = { usdPerDay: 1 };
    const refusal = (usd: number) =>
      guard.reserve('busy-key', budgets, { usd, tokens: 0 }, randomUUID()).then(
        () => null,
        (e: TRPCError) => e,
      );
    const first = await guard.reserve('busy-key', budgets, { usd: 0.7, tokens: 0 }, randomUUID());

    const held = await refusal(0.5);
    first?.settle({ usd: 0.7, tokens: 0 });
    await settled();
    const tooLarge = await refusal(0.5);
    (await guard.reserve('busy-key', budgets, { usd: 0.3, tokens: 0 }, randomUUID()))?.settle({ usd: 0.3, tokens: 0 });
    await settled();
    const spent = await refusal(0.1);
    await refusal(0.1);

    expect(held?.message).toContain('is held by requests in flight');
    expect(held?.cause).toMatchObject({ retryAfterMs: 1000 });
    expect(tooLarge?.message).toContain('has $0.300000 left');
    expect(tooLarge?.message).toContain('lower maxTokens');
    expect(tooLarge?.cause).toMatchObject({ retryAfterMs: 12 * 3600 * 1000 });
    expect(spent?.message).toContain('is spent: $1.00 spent');
    expect(spent?.message).toContain('It resets at 2026-12-17T00:00:00.000Z');
    // 0.7 crosses 80% when it settles, 1.0 crosses 100%; the refusals of the spent budget add no second alert.
    expect(crossed).toEqual(['busy-key usdPerDay 0.8', 'busy-key usdPerDay 1']);
  });

  it('refuses with PRECONDITION_FAILED a request larger than the whole budget, and counts the refusal', async () => {
    const { guard, refused } = guardAt(Date.UTC(2026, 11, 13, 12), { tokensPerDay: 1000 });

    const error = await guard
      .reserve('big-key', undefined, { usd: 0, tokens: 1001 }, randomUUID())
      .catch((e: TRPCError) => e);

    expect(error).toBeInstanceOf(TRPCError);
    expect((error as TRPCError).code).toBe('PRECONDITION_FAILED');
    expect((error as TRPCError).message).toContain('more than the whole tokensPerDay budget of key "big-key"');
    expect(refused).toEqual(['tokensPerDay']);
  });

  it('never touches the store for a key without budgets', async () => {
    const guard = new BudgetGuard({
      store: new BudgetStore(
        () => {
          throw new Error('the store was used');
        },
        () => 'sqlite',
      ),
      defaults: {},
      logger: createLogger('silent'),
      alerts: { crossed: () => {}, refused: () => {} },
      holdTtlMs: 600_000,
    });

    expect(await guard.reserve('free-key', undefined, { usd: 5, tokens: 5 }, randomUUID())).toBeNull();
    expect(await guard.status('free-key', undefined)).toEqual([]);
  });

  it('fails closed with SERVICE_UNAVAILABLE when the store cannot be reached', async () => {
    const guard = new BudgetGuard({
      store: new BudgetStore(
        () => {
          throw new Error('connect ECONNREFUSED');
        },
        () => 'sqlite',
      ),
      defaults: { usdPerDay: 1 },
      logger: createLogger('silent'),
      alerts: { crossed: () => {}, refused: () => {} },
      holdTtlMs: 600_000,
    });

    expect(await guard.reserve('any-key', undefined, { usd: 0.1, tokens: 1 }, randomUUID()).catch(codeOf)).toBe(
      'SERVICE_UNAVAILABLE',
    );
  });
});
