import { formatDuration, formatPercent, formatUtcTime } from '../../format.ts';
import { budgetView } from '../../usage/budgets.ts';
import type { BudgetStatus } from '../../usage/report.ts';

/** Each budget of the key: spent and reserved against the limit, and when it resets. */
export function BudgetBars({ keyName, budgets, now }: { keyName: string; budgets: BudgetStatus[]; now: number }) {
  return (
    <section className="card" aria-labelledby="usage-budgets-title">
      <h3 id="usage-budgets-title">Budgets</h3>
      {budgets.length === 0 ? (
        <p className="no-budget">
          No budget is set for the key <strong>{keyName}</strong>: its spending is not limited.
        </p>
      ) : (
        <ul className="budgets">
          {budgets.map((budget) => {
            const view = budgetView(budget, now);
            return (
              <li key={budget.budget} className="budget">
                <div className="budget-title">
                  <strong>{view.title}</strong>
                  <span className="budget-limit">
                    {formatPercent(view.filled)} of {view.limit}
                  </span>
                </div>
                {/* Two parts (spent, reserved), which a <meter> cannot draw: the text below says the same. */}
                <div className="budget-track" aria-hidden="true">
                  <span className="budget-used" style={{ inlineSize: `${view.usedShare * 100}%` }} />
                  <span className="budget-reserved" style={{ inlineSize: `${view.reservedShare * 100}%` }} />
                </div>
                <p className="hint">
                  {view.used} spent
                  {budget.reserved > 0 ? ` + ${view.reserved} reserved by requests in flight` : ''}; resets in{' '}
                  {formatDuration(view.resetsInMs)} ({formatUtcTime(budget.resetsAt)}).
                </p>
                {view.exhausted ? (
                  <p className="warning">Exhausted: new requests are refused until the reset.</p>
                ) : null}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
