const STORAGE_KEY = 'tokenflow.apiKey';

/** The API key lives in sessionStorage (this tab, until it closes), never in the URL. */
export function loadApiKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY) || null;
  } catch {
    return null; // storage disabled
  }
}

export function saveApiKey(key: string | null): void {
  try {
    if (key) sessionStorage.setItem(STORAGE_KEY, key);
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage disabled: the key still works until the page reloads
  }
}
