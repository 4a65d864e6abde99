import type { ConnectionState, TokenFlowClient } from '@tokenflow/client';
import { useEffect, useState } from 'react';

export interface ConnectionStatus {
  /** As tRPC reports it: idle (closed until a stream needs it), connecting, or open ("pending"). */
  state: ConnectionState['state'];
  /** Why the last attempt failed, while reconnecting. */
  error: string | null;
}

/** The client's WebSocket state, as the page shows it. */
export function useConnectionState(client: TokenFlowClient): ConnectionStatus {
  const [status, setStatus] = useState<ConnectionStatus>({ state: 'idle', error: null });
  useEffect(() => {
    const subscription = client.connectionState.subscribe({
      next: (value) =>
        setStatus({
          state: value.state,
          error: value.error ? value.error.message || 'the connection failed' : null,
        }),
    });
    return () => subscription.unsubscribe();
  }, [client]);
  return status;
}
