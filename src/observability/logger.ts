// Structured JSON logs (pino). Secret values never reach a log call: they travel in a redacting
// type (values.ts); the redact paths below are only a second line of defence.
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string = process.env.FERRY_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { app: 'ferry' },
    redact: {
      paths: ['*.data', '*.stringData', '*.value', '*.token', '*.password', '*.secretAccessKey', '*.clientSecret'],
      censor: '[redacted]',
    },
  });
}

export const logger = createLogger();
