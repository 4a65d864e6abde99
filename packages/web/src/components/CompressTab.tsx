import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useId, useMemo, useState } from 'react';
import { useConnection } from '../connection.ts';
import { readableError } from '../errors.ts';
import { formatMs, formatPercent, formatTokens } from '../format.ts';
import { submitOnCtrlEnter } from '../prompt.ts';
import { wordDiff } from '../word-diff.ts';
import { type Compression, CompressionControl, compressionInput } from './CompressionControl.tsx';
import { ErrorMessage } from './ErrorMessage.tsx';

const SAMPLE =
  'The project team met on Monday morning to review the third quarter budget, and after a long discussion they agreed that the launch plan for the new product should move to the first week of November, so that marketing has enough time to prepare the campaign.';

/** compress alone: the compressed text, with the words it dropped struck through. */
export function CompressTab() {
  const id = useId();
  const { trpc } = useConnection();
  const [text, setText] = useState(SAMPLE);
  const [compression, setCompression] = useState<Compression>({ mode: 'ratio', ratio: 0.5, targetTokens: 30 });
  const compress = useMutation(trpc.compress.mutationOptions());
  const diff = useMemo(
    () => (compress.data ? wordDiff(compress.variables?.text ?? '', compress.data.compressedText) : []),
    [compress.data, compress.variables],
  );

  const run = (event: FormEvent) => {
    event.preventDefault();
    if (!text.trim() || compress.isPending) return;
    compress.mutate({ text, ...compressionInput(compression) });
  };

  const result = compress.data;
  return (
    <div className="tab-layout">
      <form className="controls" onSubmit={run} aria-label="Compress a text">
        <fieldset>
          <legend>Text</legend>
          <label htmlFor={`${id}-text`} className="visually-hidden">
            Text to compress
          </label>
          <textarea
            id={`${id}-text`}
            rows={8}
            value={text}
            onChange={(event) => setText(event.target.value)}
            onKeyDown={submitOnCtrlEnter}
          />
        </fieldset>
        <CompressionControl value={compression} onChange={setCompression} allowOff={false} />
        <div className="run-controls">
          <button type="submit" className="primary" disabled={compress.isPending || !text.trim()}>
            {compress.isPending ? 'Compressing…' : 'Compress'}
          </button>
        </div>
      </form>
      <div className="results">
        <ErrorMessage error={compress.isError ? readableError(compress.error) : null} />
        <p className="stream-status" role="status" aria-live="polite">
          {compress.isPending ? 'Compressing…' : result ? 'Compressed.' : ''}
        </p>
        {result ? (
          <section className="card" aria-labelledby="compressed-title">
            <h3 id="compressed-title">Compressed text</h3>
            <dl className="facts">
              <dt>Tokens</dt>
              <dd>
                {formatTokens(result.originTokens)} → {formatTokens(result.compressedTokens)} (
                {formatPercent(result.savingPercent / 100)} saved)
              </dd>
              <dt>Method</dt>
              <dd>
                {result.method}, {result.model}, {formatMs(result.elapsedMs)}
              </dd>
            </dl>
            <h4 className="visually-hidden">The text with dropped words struck through</h4>
            <p className="diff">
              {diff.map((part, index) =>
                part.kind === 'kept' ? (
                  // biome-ignore lint/suspicious/noArrayIndexKey: parts have no identity beyond their order
                  <span key={index}>{part.text} </span>
                ) : part.kind === 'dropped' ? (
                  // biome-ignore lint/suspicious/noArrayIndexKey: as above
                  <del key={index}>
                    <span className="visually-hidden">dropped: </span>
                    {part.text}{' '}
                  </del>
                ) : (
                  // biome-ignore lint/suspicious/noArrayIndexKey: as above
                  <ins key={index}>
                    <span className="visually-hidden">added: </span>
                    {part.text}{' '}
                  </ins>
                ),
              )}
            </p>
            <details>
              <summary>Compressed text only</summary>
              <p className="compressed-text">{result.compressedText}</p>
            </details>
          </section>
        ) : null}
      </div>
    </div>
  );
}
