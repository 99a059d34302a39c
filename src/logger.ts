import pino, { type Logger } from 'pino';
import type { LogLevel } from './config.js';

/**
 * Structured logs. Tokens, passwords, download-link signatures, kube configs, cookies and Authorization never reach a log
 * line: the request serializer drops credentials from URLs, and redact paths cover bodies and
 * objects that handlers log.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers.jwttoken',
  'res.headers["set-cookie"]',
  '*.password',
  '*.kubeconfig',
  '*.config',
  '*.token',
  '*.jwtToken',
  '*.secret',
  '*.bmcPassword',
  'password',
  'kubeconfig',
  'token',
  'jwtToken',
];

const SECRET_QUERY = /([?&](?:jwtToken|token|access_token|password|signature)=)[^&#]*/gi;

export function scrubUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1[REDACTED]');
}

interface LoggedRequest {
  method?: string;
  url?: string;
  id?: string;
  ip?: string;
  headers?: Record<string, unknown>;
}

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: {
      req(req: LoggedRequest) {
        return { id: req.id, method: req.method, url: scrubUrl(req.url ?? ''), remoteAddress: req.ip };
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
