import type { ConnectionStatus } from '../use-connection-state.ts';

const LABELS: Record<ConnectionStatus['state'], string> = {
  idle: 'Idle',
  connecting: 'Connecting',
  pending: 'Connected',
};

const HINTS: Record<ConnectionStatus['state'], string> = {
  idle: 'the WebSocket opens when a stream starts and closes when none has run for a while',
  connecting: 'opening the WebSocket',
  pending: 'the WebSocket is open',
};

/** The WebSocket's state, always visible; announced politely when it changes. */
export function ConnectionBadge({ status }: { status: ConnectionStatus }) {
  const reconnecting = status.state === 'connecting' && status.error !== null;
  const label = reconnecting ? 'Reconnecting' : LABELS[status.state];
  return (
    <p className="connection-badge" data-state={reconnecting ? 'reconnecting' : status.state} role="status">
      <span className="dot" aria-hidden="true" />
      <span>
        WebSocket: <strong>{label}</strong>
      </span>
      <span className="visually-hidden">, {reconnecting ? `last error: ${status.error}` : HINTS[status.state]}</span>
    </p>
  );
}
