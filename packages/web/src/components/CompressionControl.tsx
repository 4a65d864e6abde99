import type { RouterInputs } from '@tokenflow/client';
import { useId } from 'react';

export interface Compression {
  mode: 'off' | 'ratio' | 'target';
  /** The fraction of tokens to keep. */
  ratio: number;
  targetTokens: number;
}

export const defaultCompression: Compression = { mode: 'off', ratio: 0.5, targetTokens: 200 };

/** The `compress` option of selectModel (and the knobs of the compress tab), or undefined when off. */
export function compressionInput(compression: Compression): RouterInputs['selectModel']['compress'] {
  if (compression.mode === 'ratio') return { ratio: compression.ratio };
  if (compression.mode === 'target') return { targetTokens: compression.targetTokens };
  return undefined;
}

const MODES = [
  { mode: 'off', label: 'Off' },
  { mode: 'ratio', label: 'Keep a ratio' },
  { mode: 'target', label: 'Target tokens' },
] as const;

/** Off, a ratio of tokens to keep (slider), or a token budget. */
export function CompressionControl({
  value,
  onChange,
  allowOff = true,
}: {
  value: Compression;
  onChange(next: Compression): void;
  allowOff?: boolean;
}) {
  const id = useId();
  return (
    <fieldset className="compression-control">
      <legend>Compression</legend>
      <div className="segmented" role="radiogroup" aria-label="Compression mode">
        {MODES.filter(({ mode }) => allowOff || mode !== 'off').map(({ mode, label }) => (
          <label key={mode}>
            <input
              type="radio"
              name={`${id}-mode`}
              value={mode}
              checked={value.mode === mode}
              onChange={() => onChange({ ...value, mode })}
            />
            {label}
          </label>
        ))}
      </div>
      {value.mode === 'ratio' ? (
        <div className="row">
          <label htmlFor={`${id}-ratio`}>Keep</label>
          <input
            id={`${id}-ratio`}
            type="range"
            min={0.05}
            max={1}
            step={0.05}
            value={value.ratio}
            aria-valuetext={`${Math.round(value.ratio * 100)}% of the tokens`}
            onChange={(event) => onChange({ ...value, ratio: Number(event.target.value) })}
          />
          <output htmlFor={`${id}-ratio`}>{Math.round(value.ratio * 100)}% of the tokens</output>
        </div>
      ) : null}
      {value.mode === 'target' ? (
        <div className="row">
          <label htmlFor={`${id}-target`}>Target tokens</label>
          <input
            id={`${id}-target`}
            type="number"
            inputMode="numeric"
            min={1}
            step={1}
            value={value.targetTokens}
            onChange={(event) =>
              onChange({ ...value, targetTokens: Math.max(1, Math.round(Number(event.target.value))) })
            }
          />
        </div>
      ) : null}
    </fieldset>
  );
}
