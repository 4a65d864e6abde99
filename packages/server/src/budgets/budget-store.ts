import type { ExpressionBuilder, Kysely, Transaction } from 'kysely';
import type { LedgerDialect } from '../ledger/database.ts';
import type { LedgerTables } from '../ledger/tables.ts';
import type { BudgetName, Budgets } from './budget-schema.ts';
import type { Periods } from './periods.ts';

/** Money and tokens: what a request may cost at most (held), or what it did cost (spent). */
export interface Amount {
  usd: number;
  tokens: number;
}

/** One period's spending and what requests in flight hold in it. */
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

/** A hold as it is taken: its id (the request's), the periods it counts in, and when it stops counting. */
export interface HoldRequest {
  id: string;
  key: string;
  periods: Periods;
  amount: Amount;
  now: number;
  expiresAt: number;
}

type Period = 'day' | 'month';
type Db = Kysely<LedgerTables> | Transaction<LedgerTables>;

const EMPTY: Spend = { spentUsd: 0, reservedUsd: 0, spentTokens: 0, reservedTokens: 0 };

/**
 * Budget counters in the ledger's database, shared by every gateway instance
 * on it: what each key spent per day and month (budget_spend) and one row per
 * request in flight holding its worst-case cost (budget_holds).
 *
 * A hold locks the key's day and month rows (a no-op UPDATE), sums what is
 * spent and held, and inserts its own hold only if every limit allows it:
 * holds of one key queue on that lock from any instance, so what is spent
 * and held never passes a limit. Settling deletes the hold and adds the
 * actual cost in one transaction, keyed by the hold's id: a settle repeated
 * after a lost acknowledgement changes nothing. A hold never settled (its
 * gateway died) stops counting when it expires.
 */
export class BudgetStore {
  /** Both are read at each call: the ledger opens its database after the services are built. */
  constructor(
    private readonly database: () => Kysely<LedgerTables>,
    private readonly dialect: () => LedgerDialect,
  ) {}

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

  /** Takes the hold if every set limit allows it, or says which one does not. */
  hold(budgets: Budgets, request: HoldRequest): Promise<Shortfall | null> {
    return this.serial(request.key, () =>
      this.db.transaction().execute(async (trx) => {
        const { key, periods, amount, now } = request;
        await ensureRows(trx, key, periods);
        await this.lockRows(trx, key, periods);
        const spend = await spendIn(trx, key, periods, now);
        const shortfall = shortfallOf(budgets, spend, amount);
        if (shortfall) return shortfall;
        await trx
          .insertInto('budget_holds')
          .values({
            id: request.id,
            api_key: key,
            day: periods.day,
            month: periods.month,
            usd: amount.usd,
            tokens: amount.tokens,
            expires_at: request.expiresAt,
          })
          .execute();
        return null;
      }),
    );
  }

  /**
   * Deletes the hold and adds what the request spent to the periods it was
   * held in. Returns the spending before and after, for the 80% and 100%
   * alerts, or null when the hold was already settled.
   */
  settle(key: string, id: string, periods: Periods, spent: Amount) {
    return this.serial(key, () =>
      this.db.transaction().execute(async (trx) => {
        await this.lockRows(trx, key, periods);
        const hold = await trx
          .deleteFrom('budget_holds')
          .where('id', '=', id)
          .returning(['day', 'month'])
          .executeTakeFirst();
        if (!hold) return null;
        const changes: Record<Period, { before: Amount; after: Amount }> = {
          day: { before: { usd: 0, tokens: 0 }, after: { usd: 0, tokens: 0 } },
          month: { before: { usd: 0, tokens: 0 }, after: { usd: 0, tokens: 0 } },
        };
        for (const [period, start] of [
          ['day', hold.day],
          ['month', hold.month],
        ] as const) {
          const row = await trx
            .updateTable('budget_spend')
            .set((eb) => ({
              spent_usd: eb('spent_usd', '+', spent.usd),
              spent_tokens: eb('spent_tokens', '+', spent.tokens),
            }))
            .where('api_key', '=', key)
            .where('period', '=', period)
            .where('period_start', '=', start)
            .returning(['spent_usd', 'spent_tokens'])
            .executeTakeFirst();
          if (!row) continue;
          const after = { usd: Number(row.spent_usd), tokens: Number(row.spent_tokens) };
          changes[period] = { before: { usd: after.usd - spent.usd, tokens: after.tokens - spent.tokens }, after };
        }
        return changes;
      }),
    );
  }

  /**
   * Locks the key's day and month rows until commit, always in the same
   * order (day, then month): holds and settles from every instance queue
   * here, and never hold one row each while waiting for the other. On
   * SQLite there is one writer thread running one transaction at a time.
   */
  private async lockRows(trx: Transaction<LedgerTables>, key: string, periods: Periods) {
    if (this.dialect() !== 'postgres') return;
    await trx
      .selectFrom('budget_spend')
      .select('period')
      .where('api_key', '=', key)
      .where(inPeriods(periods))
      .orderBy('period')
      .forUpdate()
      .execute();
  }

  /** The key's spending and unexpired holds in these periods. */
  spend(key: string, periods: Periods, now: number): Promise<Record<Period, Spend>> {
    return spendIn(this.db, key, periods, now);
  }

  /** Deletes holds that expired more than a day ago (their gateway died before settling them). */
  async sweep(now: number) {
    await this.db
      .deleteFrom('budget_holds')
      .where('expires_at', '<', now - 24 * 3600 * 1000)
      .execute();
  }
}

/** The key's budget_spend rows for this day and this month. */
const inPeriods = (periods: Periods) => (eb: ExpressionBuilder<LedgerTables, 'budget_spend'>) =>
  eb.or([
    eb.and([eb('period', '=', 'day'), eb('period_start', '=', periods.day)]),
    eb.and([eb('period', '=', 'month'), eb('period_start', '=', periods.month)]),
  ]);

async function ensureRows(trx: Transaction<LedgerTables>, key: string, periods: Periods) {
  await trx
    .insertInto('budget_spend')
    .values([
      { api_key: key, period: 'day', period_start: periods.day, spent_usd: 0, spent_tokens: 0 },
      { api_key: key, period: 'month', period_start: periods.month, spent_usd: 0, spent_tokens: 0 },
    ])
    .onConflict((oc) => oc.columns(['api_key', 'period', 'period_start']).doNothing())
    .execute();
}

async function spendIn(db: Db, key: string, periods: Periods, now: number): Promise<Record<Period, Spend>> {
  const spent = await db
    .selectFrom('budget_spend')
    .select(['period', 'spent_usd', 'spent_tokens'])
    .where('api_key', '=', key)
    .where(inPeriods(periods))
    .execute();
  const held = async (column: 'day' | 'month', start: string) => {
    const row = await db
      .selectFrom('budget_holds')
      .select((eb) => [eb.fn.sum<number>('usd').as('usd'), eb.fn.sum<number>('tokens').as('tokens')])
      .where('api_key', '=', key)
      .where(column, '=', start)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return { usd: Number(row?.usd ?? 0), tokens: Number(row?.tokens ?? 0) };
  };
  const dayHeld = await held('day', periods.day);
  const monthHeld = await held('month', periods.month);
  const of = (period: Period, hold: Amount): Spend => {
    const row = spent.find((r) => r.period === period);
    if (!row && hold.usd === 0 && hold.tokens === 0) return EMPTY;
    return {
      spentUsd: Number(row?.spent_usd ?? 0),
      spentTokens: Number(row?.spent_tokens ?? 0),
      reservedUsd: hold.usd,
      reservedTokens: hold.tokens,
    };
  };
  return { day: of('day', dayHeld), month: of('month', monthHeld) };
}

/** The first budget `amount` does not fit in, given what is spent and held. */
/** Each budget the key has, with what is spent and held in its period: what holds check and reports show. */
export function budgetFigures(budgets: Budgets, spend: Record<Period, Spend>): Shortfall[] {
  const all: Array<Omit<Shortfall, 'limit'> & { limit: number | undefined }> = [
    { budget: 'usdPerDay', limit: budgets.usdPerDay, used: spend.day.spentUsd, reserved: spend.day.reservedUsd },
    {
      budget: 'usdPerMonth',
      limit: budgets.usdPerMonth,
      used: spend.month.spentUsd,
      reserved: spend.month.reservedUsd,
    },
    {
      budget: 'tokensPerDay',
      limit: budgets.tokensPerDay,
      used: spend.day.spentTokens,
      reserved: spend.day.reservedTokens,
    },
  ];
  return all.filter((figure): figure is Shortfall => figure.limit !== undefined);
}

function shortfallOf(budgets: Budgets, spend: Record<Period, Spend>, amount: Amount): Shortfall | null {
  for (const figure of budgetFigures(budgets, spend)) {
    const needed = figure.budget === 'tokensPerDay' ? amount.tokens : amount.usd;
    // A nano-dollar of slack: sums of floats need not land exactly on the limit.
    if (figure.used + figure.reserved + needed > figure.limit + 1e-9) return figure;
  }
  return null;
}
