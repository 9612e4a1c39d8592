import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { SwitchboardError } from '../platform/errors.js';
import { SSE_HEADERS, startRawResponse } from './raw-response.js';
import { queryParam } from './request-params.js';

/** SEEDS-SPEC §4.4: two data lines, then the close event. */
const DATA_LINES = 2;
const CLOSE_EVENT = 'event: close\ndata: close\n\n';

/**
 * `GET /event?appId=&page=&pageSize=` (SEEDS-SPEC §4.4), the seed's demo stream byte for byte:
 * after each interval `data: <i><appId><page><pageSize>\n\n`, then the close event. No auth, as
 * the seed. Fixed: a missing parameter is the empty string (the seed panicked), and a value with
 * CR or LF is refused with 400 because it would inject SSE fields into the stream.
 */
export function registerEventRoute(app: FastifyInstance, options: { intervalMs: number }): void {
  app.get('/event', async (request, reply) => {
    const values = ['appId', 'page', 'pageSize'].map((name) => queryParam(request, name) ?? '');
    if (values.some((value) => /[\r\n]/.test(value))) throw new SwitchboardError('bad_request', 'parameters must not contain line breaks');
    const suffix = values.join('');
    const raw = startRawResponse(reply, { status: 200, headers: SSE_HEADERS, flush: true });
    const gone = new AbortController();
    raw.on('close', () => gone.abort());
    try {
      for (let index = 0; index < DATA_LINES; index++) {
        await sleep(options.intervalMs, undefined, { signal: gone.signal });
        raw.write(`data: ${index}${suffix}\n\n`);
      }
      raw.end(CLOSE_EVENT);
    } catch {
      // The client left during a pause: nothing more to write.
    }
  });
}
