import { type FormEvent, useId, useState } from 'react';

/** The ML service's default categories (packages/ml-python/src/tokenflow_ml/categories.py). */
export const DEFAULT_CATEGORIES = ['reasoning', 'code', 'function-calling', 'text-to-text', 'creative', 'general'];

/** The categories the classifier may choose from, as removable chips, with a field to add more. */
export function CategoryChips({ categories, onChange }: { categories: string[]; onChange(next: string[]): void }) {
  const id = useId();
  const [draft, setDraft] = useState('');
  const isDefault = categories.join() === DEFAULT_CATEGORIES.join();

  const add = (event: FormEvent) => {
    event.preventDefault();
    const name = draft.trim().toLowerCase();
    if (name && !categories.includes(name) && categories.length < 32) onChange([...categories, name]);
    setDraft('');
  };

  return (
    <fieldset className="category-chips">
      <legend>Categories</legend>
      <ul className="chips" aria-label="Categories the classifier may choose">
        {categories.map((category) => (
          <li key={category} className="chip">
            <span>{category}</span>
            <button
              type="button"
              className="icon"
              aria-label={`Remove category ${category}`}
              disabled={categories.length === 1}
              onClick={() => onChange(categories.filter((c) => c !== category))}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <div className="row">
        <label htmlFor={`${id}-add`}>Add a category</label>
        <input
          id={`${id}-add`}
          value={draft}
          maxLength={64}
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={(event) => {
            // The field sits inside the Run form: Enter adds the chip instead of running.
            if (event.key === 'Enter') add(event);
          }}
        />
        <button type="button" onClick={add} disabled={!draft.trim()}>
          Add
        </button>
        <button type="button" onClick={() => onChange(DEFAULT_CATEGORIES)} disabled={isDefault}>
          Reset to defaults
        </button>
      </div>
    </fieldset>
  );
}
