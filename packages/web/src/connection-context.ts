import { createContext, useContext } from 'react';
import type { Connection } from './connection.ts';

export const ConnectionContext = createContext<Connection | null>(null);

/** The page's gateway connection (the typed client the streams use). */
export function useConnection(): Connection {
  const connection = useContext(ConnectionContext);
  if (!connection) throw new Error('useConnection() needs a <ConnectionContext.Provider>');
  return connection;
}
