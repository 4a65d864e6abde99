import { useEffect, useState } from 'react';
import type { Connection } from './connection.ts';

export type SocketState = 'idle' | 'connecting' | 'pending';

export interface ConnectionStatus {
  state: SocketState;
  /** Why the last attempt failed, while reconnecting. */
  error: string | null;
}

/** The WebSocket's state as tRPC reports it: idle (closed until a stream needs it), connecting, or open ("pending"). */
export function useConnectionState(connection: Connection): ConnectionStatus {
  const [status, setStatus] = useState<ConnectionStatus>({ state: 'idle', error: null });
  useEffect(() => {
    const subscription = connection.connectionState.subscribe({
      next: (value) =>
        setStatus({
          state: value.state,
          error: value.error ? value.error.message || 'the connection failed' : null,
        }),
    });
    return () => subscription.unsubscribe();
  }, [connection]);
  return status;
}
