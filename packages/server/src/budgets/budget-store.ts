import type { Kysely, Transaction } from 'kysely';
import type { LedgerTables } from '../ledger/tables.ts';
import type { BudgetName, Budgets } from './budget-schema.ts';
import type { Periods } from './periods.ts';

/** Money and tokens: what a request may cost at most (held), or what it did cost (spent). */
export interface Amount {
  usd: number;
  tokens: number;
}

/** One period's row: what is spent and what requests in flight hold. */
export interface Spend {
  spentUsd: number;
  reservedUsd: number;
  spentTokens: number;
  reservedTokens: number;
}

/** Which budget refused a hold, and its numbers at that moment. */
export interface Shortfall {
  budget: BudgetName;
  limit: number;
  used: number;
  reserved: number;
}

class Refused extends Error {
  constructor(readonly shortfall: Shortfall) {
    super(`budget ${shortfall.budget} refused`);
  }
}

type Period = 'day' | 'month';
const PERIODS: Period[] = ['day', 'month'];
const startOf = (periods: Periods, period: Period) => (period === 'day' ? periods.day : periods.month);

const spendOf = (row: { spent_usd: number; reserved_usd: number; spent_tokens: number; reserved_tokens: number }) => ({
  spentUsd: Number(row.spent_usd),
  reservedUsd: Number(row.reserved_usd),
  spentTokens: Number(row.spent_tokens),
  reservedTokens: Number(row.reserved_tokens),
});

const NANO_USD = 1e-9;

const EMPTY: Spend = { spentUsd: 0, reservedUsd: 0, spentTokens: 0, reservedTokens: 0 };

/**
 * Budget counters in the ledger's database, one row per key × period, shared
 * by every gateway instance on that database. A hold is one conditional
 * UPDATE per period inside a transaction: the row lock makes concurrent holds
 * from any instance queue, and each sees the others' holds, so the sum of
 * what is spent and held never passes a limit.
 */
export class BudgetStore {
  /** `database` is read at each call: the ledger opens its database after the services are built. */
  constructor(private readonly database: () => Kysely<LedgerTables>) {}

  private get db() {
    return this.database();
  }

  /**
   * One key's holds and settles run one at a time in this instance. They
   * would queue on the key's row lock anyway; queued here, a burst of one
   * key's requests waits without taking every pooled connection (and timing
   * out waiting for one) from the other keys.
   */
  private readonly queues = new Map<string, Promise<unknown>>();

  private serial<T>(key: string, work: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(key) ?? Promise.resolve()).then(work, work);
    const tail = run.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }

  /** Holds `amount` in the key's day and month rows if every set limit allows it, or says which one does not. */
  hold(key: string, budgets: Budgets, periods: Periods, amount: Amount): Promise<Shortfall | null> {
    return this.serial(key, () => this.holdNow(key, budgets, periods, amount));
  }

  private async holdNow(key: string, budgets: Budgets, periods: Periods, amount: Amount): Promise<Shortfall | null> {
    try {
      await this.db.transaction().execute(async (trx) => {
        await this.ensureRows(trx, key, periods);
        for (const period of PERIODS) await this.holdIn(trx, key, budgets, period, startOf(periods, period), amount);
      });
      return null;
    } catch (error) {
      if (error instanceof Refused) return error.shortfall;
      throw error;
    }
  }

  /** Moves a request's hold to what it spent; returns the rows before and after, for the 80% and 100% alerts. */
  settle(key: string, periods: Periods, held: Amount, spent: Amount) {
    return this.serial(key, () => this.settleNow(key, periods, held, spent));
  }

  private async settleNow(key: string, periods: Periods, held: Amount, spent: Amount) {
    const changes: Record<Period, { before: Spend; after: Spend }> = {
      day: { before: EMPTY, after: EMPTY },
      month: { before: EMPTY, after: EMPTY },
    };
    await this.db.transaction().execute(async (trx) => {
      for (const period of PERIODS) {
        const row = await trx
          .updateTable('budget_spend')
          .set((eb) => ({
            spent_usd: eb('spent_usd', '+', spent.usd),
            spent_tokens: eb('spent_tokens', '+', spent.tokens),
            // Float sums need not cancel exactly: a hold within a nano-dollar of zero is zero, never negative.
            reserved_usd: eb
              .case()
              .when('reserved_usd', '>', held.usd + NANO_USD)
              .then(eb('reserved_usd', '-', held.usd))
              .else(0)
              .end(),
            reserved_tokens: eb
              .case()
              .when('reserved_tokens', '>', held.tokens)
              .then(eb('reserved_tokens', '-', held.tokens))
              .else(0)
              .end(),
          }))
          .where('api_key', '=', key)
          .where('period', '=', period)
          .where('period_start', '=', startOf(periods, period))
          .returning(['spent_usd', 'reserved_usd', 'spent_tokens', 'reserved_tokens'])
          .executeTakeFirst();
        if (!row) continue;
        const after = spendOf(row);
        const before = {
          ...after,
          spentUsd: after.spentUsd - spent.usd,
          spentTokens: after.spentTokens - spent.tokens,
        };
        changes[period] = { before, after };
      }
    });
    return changes;
  }

  /** The key's rows for these periods (zeros where none exists yet). */
  async spend(key: string, periods: Periods): Promise<Record<Period, Spend>> {
    const rows = await this.db
      .selectFrom('budget_spend')
      .selectAll()
      .where('api_key', '=', key)
      .where((eb) =>
        eb.or([
          eb.and([eb('period', '=', 'day'), eb('period_start', '=', periods.day)]),
          eb.and([eb('period', '=', 'month'), eb('period_start', '=', periods.month)]),
        ]),
      )
      .execute();
    const found = (period: Period) => rows.find((row) => row.period === period);
    const day = found('day');
    const month = found('month');
    return { day: day ? spendOf(day) : EMPTY, month: month ? spendOf(month) : EMPTY };
  }

  private async ensureRows(trx: Transaction<LedgerTables>, key: string, periods: Periods) {
    const zero = { spent_usd: 0, reserved_usd: 0, spent_tokens: 0, reserved_tokens: 0 };
    await trx
      .insertInto('budget_spend')
      .values(PERIODS.map((period) => ({ api_key: key, period, period_start: startOf(periods, period), ...zero })))
      .onConflict((oc) => oc.columns(['api_key', 'period', 'period_start']).doNothing())
      .execute();
  }

  private async holdIn(
    trx: Transaction<LedgerTables>,
    key: string,
    budgets: Budgets,
    period: Period,
    start: string,
    amount: Amount,
  ) {
    const usdLimit = period === 'day' ? budgets.usdPerDay : budgets.usdPerMonth;
    const tokenLimit = period === 'day' ? budgets.tokensPerDay : undefined;
    let update = trx
      .updateTable('budget_spend')
      .set((eb) => ({
        reserved_usd: eb('reserved_usd', '+', amount.usd),
        reserved_tokens: eb('reserved_tokens', '+', amount.tokens),
      }))
      .where('api_key', '=', key)
      .where('period', '=', period)
      .where('period_start', '=', start);
    if (usdLimit !== undefined) {
      update = update.where((eb) =>
        eb(eb(eb('spent_usd', '+', eb.ref('reserved_usd')), '+', amount.usd), '<=', usdLimit),
      );
    }
    if (tokenLimit !== undefined) {
      update = update.where((eb) =>
        eb(eb(eb('spent_tokens', '+', eb.ref('reserved_tokens')), '+', amount.tokens), '<=', tokenLimit),
      );
    }
    const held = await update.returning(['api_key']).executeTakeFirst();
    if (held) return;
    // Refused: read the row to say which limit and by how much.
    const row = await trx
      .selectFrom('budget_spend')
      .selectAll()
      .where('api_key', '=', key)
      .where('period', '=', period)
      .where('period_start', '=', start)
      .executeTakeFirstOrThrow();
    const spend = spendOf(row);
    const usdShort = usdLimit !== undefined && spend.spentUsd + spend.reservedUsd + amount.usd > usdLimit;
    throw new Refused(
      usdShort || tokenLimit === undefined
        ? {
            budget: period === 'day' ? 'usdPerDay' : 'usdPerMonth',
            limit: usdLimit ?? 0,
            used: spend.spentUsd,
            reserved: spend.reservedUsd,
          }
        : { budget: 'tokensPerDay', limit: tokenLimit, used: spend.spentTokens, reserved: spend.reservedTokens },
    );
  }
}
