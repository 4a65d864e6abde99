import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { loadApiKey, saveApiKey } from './api-key.ts';
import { ApiKeyField } from './components/ApiKeyField.tsx';
import { CompressTab } from './components/CompressTab.tsx';
import { ConnectionBadge } from './components/ConnectionBadge.tsx';
import { GenerateTab } from './components/GenerateTab.tsx';
import { SelectModelTab } from './components/SelectModelTab.tsx';
import { Tabs } from './components/Tabs.tsx';
import { UsageTab } from './components/usage/UsageTab.tsx';
import { type Connection, ConnectionContext, connect, useConnection } from './connection.ts';
import { useConnectionState } from './use-connection-state.ts';

const TABS = [
  { id: 'select', label: 'Route & answer', panel: <SelectModelTab /> },
  { id: 'generate', label: 'Generate', panel: <GenerateTab /> },
  { id: 'compress', label: 'Compress', panel: <CompressTab /> },
  { id: 'usage', label: 'Usage', panel: (selected: boolean) => <UsageTab active={selected} /> },
];

export function App() {
  const [queryClient] = useState(() => new QueryClient({ defaultOptions: { queries: { retry: 1 } } }));
  const [apiKey, setApiKey] = useState(loadApiKey);
  const [connection, setConnection] = useState<Connection | null>(null);

  // A new key means a new client (the key is in the HTTP headers and the WebSocket's
  // connection params), so the old socket is closed and cached answers refetched.
  useEffect(() => {
    const next = connect(window.location.origin, apiKey, queryClient);
    setConnection(next);
    void queryClient.invalidateQueries();
    return () => {
      void next.client.close();
    };
  }, [apiKey, queryClient]);

  const changeKey = (key: string | null) => {
    saveApiKey(key);
    setApiKey(key);
  };

  if (!connection) return null;
  return (
    <QueryClientProvider client={queryClient}>
      <ConnectionContext.Provider value={connection}>
        <Page apiKey={apiKey} onApiKey={changeKey} />
      </ConnectionContext.Provider>
    </QueryClientProvider>
  );
}

function Page({ apiKey, onApiKey }: { apiKey: string | null; onApiKey(key: string | null): void }) {
  const status = useConnectionState(useConnection().client);
  return (
    <>
      <header className="site-header">
        <h1>TokenFlow playground</h1>
        <ConnectionBadge status={status} />
        <ApiKeyField apiKey={apiKey} onChange={onApiKey} />
      </header>
      <main>
        <Tabs tabs={TABS} label="Playground modes" />
      </main>
    </>
  );
}
