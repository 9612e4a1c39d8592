import type { FastifyInstance } from 'fastify';
import { SwitchboardError } from '../platform/errors.js';
import type { BrowserTokens } from './browser-tokens.js';
import type { FailureLimiter } from './failure-limiter.js';
import { queryParam } from './request-params.js';

/** SEEDS-SPEC §4.3: the exact texts of the seed's http.Error answers. */
export const TOKEN_MESSAGES = {
  missing: 'Missing required parameters',
  invalidHour: 'Invalid param time',
  invalidId: 'Invalid param id',
  tooManyFailures: 'Too many failed attempts; try again in a minute',
} as const;

/** Longest `id` (it becomes the token's jti and the owner of conversations). */
const MAX_ID_CHARS = 256;
/** Go's strconv.ParseInt(hour, 10, 64) accepts an optional sign and decimal digits. */
const BASE10_INT = /^[+-]?\d{1,19}$/;

export interface TokenRouteDeps {
  readonly tokens: BrowserTokens;
  readonly failures: FailureLimiter;
  readonly maxTokenHours: number;
}

/**
 * `GET /token?id=&hour=&key=` (SEEDS-SPEC §4.3), fixed: the key must equal SECRET_KEY (checked in
 * constant time, 403 with an empty body otherwise, and wrong keys are rate-limited per IP),
 * `hour` must be within 1..maxTokenHours, and the token is always signed with SECRET_KEY.
 * The query string never reaches a log line (platform/logger.ts strips it).
 */
export function registerTokenRoute(app: FastifyInstance, deps: TokenRouteDeps): void {
  app.get('/token', async (request, reply) => {
    const id = queryParam(request, 'id');
    const hour = queryParam(request, 'hour');
    const key = queryParam(request, 'key');
    if (id === undefined || hour === undefined || key === undefined) {
      throw new SwitchboardError('bad_request', TOKEN_MESSAGES.missing);
    }
    const hours = BASE10_INT.test(hour) ? Number(hour) : Number.NaN;
    if (!Number.isInteger(hours) || hours < 1 || hours > deps.maxTokenHours) {
      throw new SwitchboardError('bad_request', TOKEN_MESSAGES.invalidHour);
    }
    if (id.length > MAX_ID_CHARS) throw new SwitchboardError('bad_request', TOKEN_MESSAGES.invalidId);
    if (deps.failures.isBlocked(request.ip)) {
      throw new SwitchboardError('rate_limited', TOKEN_MESSAGES.tooManyFailures, { headers: { 'retry-after': '60' } });
    }
    if (!deps.tokens.isSecretKey(key)) {
      deps.failures.recordFailure(request.ip);
      throw new SwitchboardError('forbidden', 'wrong key');
    }
    const token = await deps.tokens.issue(id, hours);
    request.logContext.principal = `browser:${id}`;
    // Seed body: Go's json.Encoder output, newline included; SEEDS-SPEC §4.3 [REC] application/json.
    return reply.type('application/json; charset=utf-8').send(`${JSON.stringify({ token })}\n`);
  });
}
