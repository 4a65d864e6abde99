import { z } from 'zod';

/**
 * What one API key may spend: US dollars per UTC day and per UTC month, and
 * tokens (prompt + completion) per UTC day. Unset: no cap of that kind.
 */
export const budgetsSchema = z.strictObject({
  usdPerDay: z.number().positive().max(1_000_000_000).optional(),
  usdPerMonth: z.number().positive().max(1_000_000_000).optional(),
  tokensPerDay: z.number().int().positive().max(1_000_000_000_000).optional(),
});

export type Budgets = z.infer<typeof budgetsSchema>;
export type BudgetName = keyof Budgets;

export const hasBudgets = (budgets: Budgets | undefined): budgets is Budgets =>
  budgets !== undefined &&
  (budgets.usdPerDay !== undefined || budgets.usdPerMonth !== undefined || budgets.tokensPerDay !== undefined);
