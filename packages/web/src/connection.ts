import { createTokenFlowClient, type TokenFlowClient } from '@tokenflow/client';

/** One gateway connection: the typed client (one WebSocket) and that WebSocket's state. */
export interface Connection {
  client: TokenFlowClient;
  connectionState: TokenFlowClient['connectionState'];
  close(): Promise<void>;
}

/** Connects to `origin` (the page's own, which serves the gateway's /trpc), with the API key if one is set. */
export function connect(origin: string, apiKey: string | null): Connection {
  const client = createTokenFlowClient({ url: origin, ...(apiKey ? { apiKey } : {}) });
  return { client, connectionState: client.connectionState, close: () => client.close() };
}
