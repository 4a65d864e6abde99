/** Run submits the form; Stop ends the running stream (and so its upstream request). */
export function RunControls({
  running,
  canRun,
  onStop,
  runLabel = 'Run',
}: {
  running: boolean;
  canRun: boolean;
  onStop(): void;
  runLabel?: string;
}) {
  return (
    <div className="run-controls">
      <button type="submit" className="primary" disabled={running || !canRun}>
        {runLabel}
      </button>
      <button type="button" onClick={onStop} disabled={!running}>
        Stop
      </button>
    </div>
  );
}
