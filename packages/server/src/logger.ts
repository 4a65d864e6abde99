import pino, { type Logger } from 'pino';

/** JSON logs on stdout. Provider keys are never passed to the logger; the redact list is a second guard. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'gateway' },
      redact: ['*.apiKey', '*.authorization', '*.headers.authorization', 'config.*_API_KEY', 'config.REDIS_URL'],
    },
    destination,
  );
}
