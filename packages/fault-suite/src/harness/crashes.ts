/** Errors nothing handled, which in production would take the gateway down. */
export const crashes: Array<{ kind: 'unhandledRejection' | 'uncaughtException'; message: string }> = [];

let installed = false;

export function installCrashRecorder() {
  if (installed) return;
  installed = true;
  const record = (kind: (typeof crashes)[number]['kind']) => (error: unknown) => {
    crashes.push({ kind, message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  };
  process.on('unhandledRejection', record('unhandledRejection'));
  process.on('uncaughtException', record('uncaughtException'));
}
