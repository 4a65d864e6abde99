import { type FormEvent, useId, useState } from 'react';

/**
 * The categories the classifier may choose from, as removable chips, with a
 * field to add more. `value` null means the defaults: the ML service's own
 * categories, which are the ones the gateway's catalog ranks (`defaults`).
 */
export function CategoryChips({
  value,
  defaults,
  loadingDefaults,
  onChange,
}: {
  value: string[] | null;
  defaults: string[];
  /** True while the catalog is still being read. */
  loadingDefaults: boolean;
  onChange(next: string[] | null): void;
}) {
  const id = useId();
  const [draft, setDraft] = useState('');
  const categories = value ?? defaults;

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
        <button type="button" onClick={() => onChange(null)} disabled={value === null}>
          Reset to defaults
        </button>
      </div>
      {value === null && defaults.length === 0 ? (
        <p className="hint">
          {loadingDefaults
            ? 'Loading the catalog’s categories…'
            : 'The catalog could not be read: the ML service’s default categories apply.'}
        </p>
      ) : null}
    </fieldset>
  );
}
