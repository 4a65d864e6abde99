import { useEffect, useId, useMemo } from 'react';
import { useModelRankings } from '../connection.ts';
import { formatPricePerMTok } from '../format.ts';
import { defaultModel, modelOptions } from '../models.ts';

export const CUSTOM = 'custom';

/** The catalog's models (from modelRankings) by provider, or any `provider/model-id` typed in. */
export function ModelPicker({
  choice,
  custom,
  onChoice,
  onCustom,
}: {
  choice: string;
  custom: string;
  onChoice(model: string): void;
  onCustom(model: string): void;
}) {
  const id = useId();
  const rankings = useModelRankings();
  const options = useMemo(() => (rankings.data ? modelOptions(rankings.data) : null), [rankings.data]);

  useEffect(() => {
    if (options && !choice) onChoice(defaultModel(options) ?? CUSTOM);
  }, [options, choice, onChoice]);

  return (
    <fieldset className="model-picker">
      <legend>Model</legend>
      <div className="row">
        <label htmlFor={`${id}-model`} className="visually-hidden">
          Model
        </label>
        <select
          id={`${id}-model`}
          value={choice}
          aria-describedby={`${id}-status`}
          onChange={(event) => onChoice(event.target.value)}
        >
          {!options ? <option value="">Loading models…</option> : null}
          {[...(options?.entries() ?? [])].map(([provider, models]) => (
            <optgroup key={provider} label={provider}>
              {models.map((option) => (
                <option key={option.id} value={option.id}>
                  {option.id} · {formatPricePerMTok(option.price.inputPerMTok)} in
                  {option.available ? '' : ' · provider not configured'}
                </option>
              ))}
            </optgroup>
          ))}
          <option value={CUSTOM}>Another model…</option>
        </select>
      </div>
      {choice === CUSTOM ? (
        <div className="row">
          <label htmlFor={`${id}-custom`}>Model id</label>
          <input
            id={`${id}-custom`}
            value={custom}
            placeholder="provider/model-id"
            spellCheck={false}
            onChange={(event) => onCustom(event.target.value)}
          />
        </div>
      ) : null}
      <p id={`${id}-status`} className="hint">
        {rankings.isError ? `Could not load the catalog: ${rankings.error.message}` : 'From the gateway’s catalog.'}
      </p>
    </fieldset>
  );
}
