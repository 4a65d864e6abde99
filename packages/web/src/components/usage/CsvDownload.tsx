import { useState } from 'react';
import { useConnection } from '../../connection.ts';
import type { ReadableError } from '../../errors.ts';
import { type CsvFilters, fetchUsageCsv } from '../../usage/csv-export.ts';
import { ErrorMessage } from '../ErrorMessage.tsx';

type State =
  | { status: 'idle' }
  | { status: 'fetching' }
  | { status: 'saved'; fileName: string }
  | { status: 'failed'; error: ReadableError };

/** Downloads the range's request log as CSV (one row per request), with the page's API key. */
export function CsvDownload({ filters }: { filters: CsvFilters }) {
  const { apiKey } = useConnection();
  const [state, setState] = useState<State>({ status: 'idle' });

  const download = async () => {
    setState({ status: 'fetching' });
    const result = await fetchUsageCsv(window.location.origin, apiKey, filters);
    if (!result.ok) {
      setState({ status: 'failed', error: result.error });
      return;
    }
    saveBlob(result.blob, result.fileName);
    setState({ status: 'saved', fileName: result.fileName });
  };

  return (
    <>
      <div className="csv-download">
        <button type="button" onClick={download} disabled={state.status === 'fetching'}>
          {state.status === 'fetching' ? 'Preparing CSV…' : 'Download CSV'}
        </button>
        <span className="hint" role="status">
          {state.status === 'saved' ? `Saved ${state.fileName}` : ''}
        </span>
      </div>
      {state.status === 'failed' ? (
        <div className="csv-error">
          <ErrorMessage error={state.error} />
        </div>
      ) : null}
    </>
  );
}

/** A download from memory: the file is fetched with the key in a header, which a plain link could not send. */
function saveBlob(blob: Blob, fileName: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoking at once can cancel the download the click just started.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
