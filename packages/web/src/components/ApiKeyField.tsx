import { type FormEvent, useId, useState } from 'react';

/** An optional API key for gateways with TOKENFLOW_API_KEYS; applying it reconnects with the new key. */
export function ApiKeyField({ apiKey, onChange }: { apiKey: string | null; onChange(key: string | null): void }) {
  const [draft, setDraft] = useState(apiKey ?? '');
  const id = useId();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onChange(draft.trim() || null);
  };
  return (
    <details className="api-key">
      <summary>API key {apiKey ? '(set)' : '(none)'}</summary>
      <form onSubmit={submit} className="row">
        <label htmlFor={id}>API key</label>
        <input
          id={id}
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={draft}
          placeholder="tf_…"
          aria-describedby={`${id}-hint`}
          onChange={(event) => setDraft(event.target.value)}
        />
        <button type="submit">Use key</button>
        <button
          type="button"
          disabled={!apiKey}
          onClick={() => {
            setDraft('');
            onChange(null);
          }}
        >
          Forget
        </button>
        <p id={`${id}-hint`} className="hint">
          Only for gateways with TOKENFLOW_API_KEYS. Kept in this tab's session storage, never in the URL.
        </p>
      </form>
    </details>
  );
}
