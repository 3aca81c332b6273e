// Structured JSON logs. Secrets are redacted by path, and callers log ids and counts,
// never whole payloads.
import pino, { type Logger } from 'pino';

export type { Logger };

const redact = {
  paths: [
    '*.token', '*.tokenSha256', '*.password', '*.clientSecret', '*.authorization', '*.Authorization',
    'req.headers.authorization', 'headers.authorization', '*.adminToken', '*.access_token', '*.client_secret',
  ],
  censor: '[redacted]',
};

export function createLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  return pino({ level, redact, base: { service: 'scim-graph-bridge' } }, destination);
}
