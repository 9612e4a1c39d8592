import { z } from 'zod';
import { durationMs, optionalText, stringList } from './schema-helpers.js';

export const dispatchSchema = z
  .object({
    /**
     * Broker URL; the scheme picks the adapter: unset = in-process, `nats://`, `redis://`,
     * `pulsar://` (seed 000 PULSAR_URL). @default in-process
     */
    brokerUrl: optionalText().describe('Broker URL (BROKER_URL, PULSAR_URL)'),
    /** Pulsar token auth (seed 000 PULSAR_TOKEN). */
    pulsarToken: optionalText(),
    /** Models served by the worker fleet: their requests go to `model-<name>`. */
    models: stringList().default([]),
    /** Non-stream wait for a worker reply before 408 (seed 000 TIMEOUT). @default 5m */
    timeoutMs: durationMs().default(300_000),
    /** A stream with no worker frame for this long ends with an error event. @default 60s */
    streamIdleMs: durationMs().default(60_000),
    /** Keep-alive comment interval on worker streams (seed 000: 30 s). @default 30s */
    keepAliveMs: durationMs().default(30_000),
    /** Host name used in callback URLs when no public URL is set (ENDPOINT_HOST). */
    endpointHost: optionalText(),
    /** Redeliveries of a task whose worker never answered. @default 3 */
    maxDeliver: z.coerce.number().int().min(1).default(3),
  })
  .prefault({});
