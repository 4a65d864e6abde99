import { isSelectMetadata, type RouterInputs, streamSelectModel } from '@tokenflow/client';
import { type FormEvent, useId, useMemo, useState } from 'react';
import { useConnection, useModelRankings } from '../connection.ts';
import { initialPrompt, isPromptEmpty, promptInput } from '../prompt.ts';
import { useStream } from '../use-stream.ts';
import { AnswerStream } from './AnswerStream.tsx';
import { CategoryChips } from './CategoryChips.tsx';
import { ClassificationBars } from './ClassificationBars.tsx';
import { type Compression, CompressionControl, compressionInput, defaultCompression } from './CompressionControl.tsx';
import { CompressionSummary } from './CompressionSummary.tsx';
import { ErrorMessage } from './ErrorMessage.tsx';
import { PromptEditor } from './PromptEditor.tsx';
import { RoutingPanel } from './RoutingPanel.tsx';
import { RunControls } from './RunControls.tsx';

type Preference = NonNullable<RouterInputs['selectModel']['prefer']>;
const PREFERENCES: Preference[] = ['quality', 'cost', 'speed'];

/** selectModel: classify (and compress), route to a model, stream its answer. */
export function SelectModelTab() {
  const { client } = useConnection();
  const rankings = useModelRankings();
  // The default categories are the catalog's, which ranks exactly the ML service's own.
  const defaultCategories = useMemo(() => Object.keys(rankings.data?.categories ?? {}), [rankings.data]);
  const stream = useStream();
  const id = useId();
  const [prompt, setPrompt] = useState(() => initialPrompt('Prove that the square root of 2 is irrational.'));
  // Null while the defaults stand: the request then leaves the categories to the ML service.
  const [categories, setCategories] = useState<string[] | null>(null);
  const [compression, setCompression] = useState<Compression>(defaultCompression);
  const [prefer, setPrefer] = useState<Preference | ''>('');
  const [maxTokens, setMaxTokens] = useState('');

  const run = (event: FormEvent) => {
    event.preventDefault();
    if (isPromptEmpty(prompt) || stream.status === 'running') return;
    const compress = compressionInput(compression);
    const input = {
      ...promptInput(prompt),
      ...(categories ? { possibleCategories: categories } : {}),
      ...(compress ? { compress } : {}),
      ...(prefer ? { prefer } : {}),
      ...(maxTokens ? { maxTokens: Number(maxTokens) } : {}),
    };
    void stream.start((signal) => streamSelectModel(client, input, { signal }));
  };

  const { metadata } = stream.answer;
  return (
    <div className="tab-layout">
      <form className="controls" onSubmit={run} aria-label="Route and answer">
        <PromptEditor prompt={prompt} onChange={setPrompt} />
        <CategoryChips
          value={categories}
          defaults={defaultCategories}
          loadingDefaults={rankings.isPending}
          onChange={setCategories}
        />
        <CompressionControl value={compression} onChange={setCompression} />
        <fieldset>
          <legend>Routing hints</legend>
          <div className="row">
            <label htmlFor={`${id}-prefer`}>Prefer</label>
            <select
              id={`${id}-prefer`}
              value={prefer}
              onChange={(event) => setPrefer(event.target.value as Preference | '')}
            >
              <option value="">the catalog's rank</option>
              {PREFERENCES.map((preference) => (
                <option key={preference} value={preference}>
                  {preference}
                </option>
              ))}
            </select>
            <label htmlFor={`${id}-max-tokens`}>Max tokens</label>
            <input
              id={`${id}-max-tokens`}
              type="number"
              inputMode="numeric"
              min={1}
              placeholder="default"
              value={maxTokens}
              onChange={(event) => setMaxTokens(event.target.value)}
            />
          </div>
        </fieldset>
        <RunControls running={stream.status === 'running'} canRun={!isPromptEmpty(prompt)} onStop={stream.stop} />
      </form>
      <div className="results">
        <ErrorMessage error={stream.error} />
        {isSelectMetadata(metadata) ? (
          <>
            <ClassificationBars metadata={metadata} />
            <RoutingPanel metadata={metadata} answer={stream.answer} />
            <CompressionSummary metadata={metadata} answer={stream.answer} />
          </>
        ) : null}
        <AnswerStream status={stream.status} answer={stream.answer} />
      </div>
    </div>
  );
}
