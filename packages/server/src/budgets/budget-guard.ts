import { TRPCError } from '@trpc/server';
import type { Logger } from 'pino';
import type { BudgetStatus } from '../ledger/usage-query.ts';
import { retryLater } from '../limits/refusal.ts';
import { type BudgetName, type Budgets, hasBudgets } from './budget-schema.ts';
import { type Amount, type BudgetStore, budgetFigures, type Shortfall, type Spend } from './budget-store.ts';
import { type Periods, periodsAt } from './periods.ts';

/** A request's hold on its key's budgets; `settle` turns it into what the request spent. */
export interface Reservation {
  settle(spent: Amount): void;
}

/** Where the guard reports (the gateway's metrics). */
export interface BudgetAlerts {
  /** Called once per key, budget and period when spending crosses 80% and again at 100%. */
  crossed(key: string, budget: BudgetName, threshold: 0.8 | 1): void;
  /** A request was refused because it could not fit this budget. */
  refused(key: string, budget: BudgetName): void;
}

const THRESHOLDS = [0.8, 1] as const;

const usd = (value: number) =>
  `$${value >= 1 ? value.toFixed(2) : value >= 1e-6 || value === 0 ? value.toFixed(6) : value.toExponential(2)}`;
const amountOf = (budget: BudgetName, value: number) =>
  budget === 'tokensPerDay' ? `${Math.ceil(value)} tokens` : usd(value);
const periodOf = (budget: BudgetName) => (budget === 'usdPerMonth' ? 'month' : 'day');

/**
 * Per-key budgets, checked before a request is routed: the request holds its
 * worst-case cost (BudgetStore.hold) and gives back what it did not spend
 * when it ends. A key without budgets never touches the database here.
 *
 * The store is the ledger's database: keep several instances on one
 * PostgreSQL (DATABASE_URL) and they share one set of counters. When it is
 * unreachable, a key with budgets is refused (SERVICE_UNAVAILABLE), as the
 * rate limiter fails closed: without its counters the gateway cannot tell
 * whether the key is over.
 */
export class BudgetGuard {
  private readonly defaults: Budgets;
  /** Settles not yet written: shutdown waits for them (drain). */
  private readonly settling = new Set<Promise<void>>();
  /** Alerts raised (key, budget, threshold, period), so each fires once per instance. */
  private readonly alerted = new Set<string>();

  constructor(
    private readonly options: {
      store: BudgetStore;
      defaults: Budgets;
      logger: Logger;
      alerts: BudgetAlerts;
      /** How long a hold counts when its request never settles it (the longest a stream may last, and a margin). */
      holdTtlMs: number;
      now?: () => number;
    },
  ) {
    this.defaults = options.defaults;
  }

  /** True when the key has any budget (its own or a default). */
  applies(own: Budgets | undefined): boolean {
    return hasBudgets(this.budgetsOf(own));
  }

  /** The key's budgets: the key file's, over the gateway's defaults (field by field). */
  budgetsOf(own: Budgets | undefined): Budgets {
    return { ...this.defaults, ...own };
  }

  /**
   * Holds `worstCase` against the key's budgets under the request's id, or
   * throws: PRECONDITION_FAILED when it is more than a whole budget (it can
   * never fit), TOO_MANY_REQUESTS when it does not fit now: until the budget
   * resets, or, when requests in flight hold what it lacks, for a second.
   */
  async reserve(key: string, own: Budgets | undefined, worstCase: Amount, id: string): Promise<Reservation | null> {
    const budgets = this.budgetsOf(own);
    if (!hasBudgets(budgets)) return null;
    const now = this.now();
    const periods = periodsAt(now);
    for (const budget of ['usdPerDay', 'usdPerMonth', 'tokensPerDay'] as const) {
      const limit = budgets[budget];
      const needed = budget === 'tokensPerDay' ? worstCase.tokens : worstCase.usd;
      if (limit !== undefined && needed > limit) {
        this.options.alerts.refused(key, budget);
        throw new TRPCError({
          code: 'PRECONDITION_FAILED',
          message: `This request may use up to ${amountOf(budget, needed)}, more than the whole ${budget} budget of key "${key}" (${amountOf(budget, limit)}); lower maxTokens or shorten the prompt.`,
        });
      }
    }
    let shortfall: Shortfall | null;
    try {
      shortfall = await this.options.store.hold(budgets, {
        id,
        key,
        periods,
        amount: worstCase,
        now,
        expiresAt: now + this.options.holdTtlMs,
      });
    } catch (error) {
      this.options.logger.error({ key, err: (error as Error).message }, 'the budget store is unreachable');
      throw new TRPCError({
        code: 'SERVICE_UNAVAILABLE',
        message: 'The budget store (the ledger database) is not reachable; retry shortly.',
        cause: retryLater(1000),
      });
    }
    if (shortfall) {
      this.options.alerts.refused(key, shortfall.budget);
      throw this.exhausted(key, shortfall, worstCase, periods, now);
    }
    return { settle: (spent) => this.track(this.settle(key, budgets, id, periods, spent)) };
  }

  /**
   * Waits (up to `timeoutMs`) for the settles still being written, those
   * that start meanwhile included: a clean shutdown leaves no hold behind.
   */
  async drain(timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    while (this.settling.size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, deadline - Date.now());
      });
      await Promise.race([Promise.allSettled([...this.settling]), timeout]);
      clearTimeout(timer);
    }
  }

  /** Deletes holds that expired a day ago or more (their gateway died before settling them). */
  async sweep() {
    await this.options.store.sweep(this.now()).catch((error: Error) => {
      this.options.logger.warn({ err: error.message }, 'expired budget holds could not be swept');
    });
  }

  /** The key's budgets with what is spent and held now, for the usage report. */
  async status(key: string, own: Budgets | undefined): Promise<BudgetStatus[]> {
    const budgets = this.budgetsOf(own);
    if (!hasBudgets(budgets)) return [];
    const now = this.now();
    const periods = periodsAt(now);
    const spend = await this.options.store.spend(key, periods, now);
    return statuses(budgets, spend, periods);
  }

  private now() {
    return this.options.now?.() ?? Date.now();
  }

  private exhausted(key: string, shortfall: Shortfall, worstCase: Amount, periods: Periods, now: number) {
    const { budget, limit, used, reserved } = shortfall;
    const period = periodOf(budget);
    const resetsAt = period === 'day' ? periods.dayEndsAt : periods.monthEndsAt;
    const needed = budget === 'tokensPerDay' ? worstCase.tokens : worstCase.usd;
    const spent = `${amountOf(budget, used)} spent and ${amountOf(budget, reserved)} held by requests in flight`;
    const name = `The ${budget} budget of key "${key}" (${amountOf(budget, limit)})`;
    const resets = `It resets at ${new Date(resetsAt).toISOString()}.`;
    if (used + needed <= limit) {
      // What is missing is held by requests in flight: it comes back as they end.
      return new TRPCError({
        code: 'TOO_MANY_REQUESTS',
        message: `${name} is held by requests in flight: ${spent}, and this one may use up to ${amountOf(budget, needed)}. Retry when they end.`,
        cause: retryLater(1000),
      });
    }
    if (used < limit) {
      // Not spent: a smaller request fits now, this one only after the reset.
      return new TRPCError({
        code: 'TOO_MANY_REQUESTS',
        message: `${name} has ${amountOf(budget, limit - used)} left (${spent}), and this request may use up to ${amountOf(budget, needed)}: lower maxTokens or shorten the prompt. ${resets}`,
        cause: retryLater(resetsAt - now),
      });
    }
    this.alertOnce(key, budget, 1, period === 'day' ? periods.day : periods.month, limit, used);
    return new TRPCError({
      code: 'TOO_MANY_REQUESTS',
      message: `${name} is spent: ${spent}. ${resets}`,
      cause: retryLater(resetsAt - now),
    });
  }

  /**
   * The 80% and 100% alerts, each once per key, budget and period in this
   * instance, whether spending crossed the mark when a request settled or a
   * spent budget refused its first request.
   */
  private alertOnce(
    key: string,
    budget: BudgetName,
    threshold: 0.8 | 1,
    periodStart: string,
    limit: number,
    spent: number,
  ) {
    const id = `${key}\u0000${budget}\u0000${threshold}\u0000${periodStart}`;
    if (this.alerted.has(id)) return;
    // Entries of past periods are never looked up again: start over rather than grow without end.
    if (this.alerted.size >= 100_000) this.alerted.clear();
    this.alerted.add(id);
    this.options.alerts.crossed(key, budget, threshold);
    this.options.logger.warn(
      { key, budget, limit, spent },
      `key "${key}" has spent ${Math.round(threshold * 100)}% of its ${budget} budget`,
    );
  }

  private track(settle: Promise<void>) {
    this.settling.add(settle);
    void settle.finally(() => this.settling.delete(settle));
  }

  /**
   * Off the stream: the caller has its answer. A failed settle is retried a
   * few times (a repeat is harmless: the hold's id makes it idempotent);
   * until it lands the hold keeps counting (the safe side), and it stops
   * counting when it expires.
   */
  private async settle(key: string, budgets: Budgets, id: string, periods: Periods, spent: Amount) {
    for (let attempt = 1; ; attempt += 1) {
      try {
        // Null: an earlier attempt did it (its answer was lost), alerts included.
        const changes = await this.options.store.settle(key, id, periods, spent);
        if (!changes) return;
        const { day, month } = changes;
        this.alert(key, budgets, 'usdPerDay', periods.day, day.before.usd, day.after.usd);
        this.alert(key, budgets, 'tokensPerDay', periods.day, day.before.tokens, day.after.tokens);
        this.alert(key, budgets, 'usdPerMonth', periods.month, month.before.usd, month.after.usd);
        return;
      } catch (error) {
        if (attempt >= 6) {
          this.options.logger.error({ key, err: (error as Error).message }, 'a budget hold could not be settled');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt).unref());
      }
    }
  }

  private alert(key: string, budgets: Budgets, budget: BudgetName, start: string, before: number, after: number) {
    const limit = budgets[budget];
    if (limit === undefined) return;
    for (const threshold of THRESHOLDS) {
      if (before < threshold * limit && after >= threshold * limit) {
        this.alertOnce(key, budget, threshold, start, limit, after);
      }
    }
  }
}

function statuses(budgets: Budgets, spend: Record<'day' | 'month', Spend>, periods: Periods): BudgetStatus[] {
  return budgetFigures(budgets, spend).map((figure) => ({
    ...figure,
    resetsAt: new Date(periodOf(figure.budget) === 'day' ? periods.dayEndsAt : periods.monthEndsAt).toISOString(),
  }));
}
