import { levels, type LoggerOptions } from 'pino';

/**
 * Paths pino censors in every line: credentials in headers, and any field that names a secret
 * (RELIABILITY S3). Bodies are never logged by default.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.apiKey',
  '*.api_key',
  '*.password',
  '*.token',
  '*.secret',
  '*.sk',
  '*.authorization',
  // PostgreSQL's error detail quotes the row it refused ("Failing row contains (…)"): prompts, answers.
  'err.detail',
  'err.cause.detail',
];

/** Query strings are dropped from logged URLs: `/token?key=…` carries a secret (seed 003). */
export function stripQuery(url: string): string {
  const index = url.indexOf('?');
  return index === -1 ? url : `${url.slice(0, index)}?…`;
}

/** Whether a logger at `level` writes info lines (`silent` and unknown levels write none). */
export function isInfoEnabled(logger: { readonly level: string }): boolean {
  return (levels.values[logger.level] ?? Infinity) <= INFO_LEVEL;
}

const INFO_LEVEL = levels.values['info'] ?? 30;

export interface LoggerSettings {
  readonly level: string;
  readonly pretty?: boolean | undefined;
  /** Where lines go; tests capture them to grep for canary secrets. */
  readonly destination?: NodeJS.WritableStream | undefined;
  readonly isTTY: boolean;
}

export function buildLoggerOptions(settings: LoggerSettings): LoggerOptions & { stream?: NodeJS.WritableStream } {
  const pretty = settings.pretty ?? settings.isTTY;
  return {
    level: settings.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req(request: { method: string; url: string; ip?: string; id?: string }) {
        return { method: request.method, url: stripQuery(request.url), ip: request.ip, id: request.id };
      },
    },
    ...(settings.destination ? { stream: settings.destination } : {}),
    ...(pretty && !settings.destination
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {}),
  };
}
