import { type QueryClient, useQuery } from '@tanstack/react-query';
import { type AppRouter, createTokenFlowClient, type TokenFlowClient } from '@tokenflow/client';
import { createTRPCOptionsProxy, type TRPCOptionsProxy } from '@trpc/tanstack-react-query';
import { createContext, useContext } from 'react';

/** One gateway connection: the typed client (one WebSocket) and TanStack Query's view of the same client. */
export interface Connection {
  /** For streams (`streamSelectModel(client, …)`), the WebSocket's state and closing. */
  client: TokenFlowClient;
  /** Query and mutation options: `useQuery(trpc.modelRankings.queryOptions())`. */
  trpc: TRPCOptionsProxy<AppRouter>;
  /** For plain fetches the client does not make (the usage CSV), as a bearer token. */
  apiKey: string | null;
}

/** Connects to `origin` (the page's own, which serves the gateway's /trpc), with the API key if one is set. */
export function connect(origin: string, apiKey: string | null, queryClient: QueryClient): Connection {
  const client = createTokenFlowClient({ url: origin, ...(apiKey ? { apiKey } : {}) });
  return { client, trpc: createTRPCOptionsProxy<AppRouter>({ client: client.trpc, queryClient }), apiKey };
}

export const ConnectionContext = createContext<Connection | null>(null);

/** The page's gateway connection. */
export function useConnection(): Connection {
  const connection = useContext(ConnectionContext);
  if (!connection) throw new Error('useConnection() needs a <ConnectionContext.Provider>');
  return connection;
}

/** The catalog as the gateway ranks it, shared by every component that shows models (read at most once a minute). */
export function useModelRankings() {
  const { trpc } = useConnection();
  return useQuery(trpc.modelRankings.queryOptions(undefined, { staleTime: 60_000 }));
}
