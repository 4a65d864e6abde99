import type { RouterInputs, RouterOutputs } from '@tokenflow/client';

// The usage query's shapes as the gateway's router declares them (the server's
// ledger/usage-query.ts), so a change there is a type error here.
export type UsageQuery = NonNullable<RouterInputs['usage']>;
export type UsageReport = RouterOutputs['usage'];
export type UsageTotals = UsageReport['totals'];
export type UsageGroup = UsageReport['groups'][number];
export type BudgetStatus = UsageReport['budgets'][number];
export type Percentiles = NonNullable<UsageReport['latency']['totalMs']>;
