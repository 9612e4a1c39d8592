import { z } from 'zod';
import { optionalText, positiveInt, stringList, timerMs } from './schema-helpers.js';

export const dispatchSchema = z
  .object({
    /**
     * Broker URL; the scheme picks the adapter: unset = in-process, `memory://<name>` (in-process bus
     * shared by apps in one process), `nats://`, `redis://`; `pulsar://` (seed 000 PULSAR_URL) is
     * refused at start with a one-line reason. @default in-process
     */
    brokerUrl: optionalText().describe('Broker URL (BROKER_URL, PULSAR_URL)'),
    /** Pulsar token auth (seed 000 PULSAR_TOKEN). */
    pulsarToken: optionalText(),
    /**
     * Models served by the worker fleet: their requests go to `model-<name>`. `*` sends every
     * model to the fleet (seed 000 behaviour), shadowing upstreams.
     */
    models: stringList().default([]),
    /** Non-stream wait for a worker reply before 408 (seed 000 TIMEOUT). @default 5m */
    timeoutMs: timerMs().default(300_000),
    /** A stream with no worker frame for this long ends with an error event. @default 60s */
    streamIdleMs: timerMs().default(60_000),
    /** Keep-alive comment interval on worker streams (seed 000: 30 s). @default 30s */
    keepAliveMs: timerMs().default(30_000),
    /**
     * Ping interval of workers' `/res/ws` sockets; one whose worker answered pings and then sends
     * nothing (no pong, no frame) for a whole interval after a ping is dropped, so sockets of workers
     * that vanished behind NAT do not pile up (ws-heartbeat.ts); 0 turns it off. @default 30s
     */
    wsHeartbeatMs: timerMs().default(30_000),
    /** Host name used in callback URLs when no public URL is set (ENDPOINT_HOST). */
    endpointHost: optionalText(),
    /** Deliveries of a task whose worker never answered, including the first. @default 3 */
    maxDeliver: z.coerce.number().int().min(1).default(3),
    /**
     * A task taken by a worker that neither acks nor reports progress for this long is delivered
     * again (JetStream AckWait, Redis pending-entry idle time). Workers report progress every third
     * of it while they work. @default 30s
     */
    ackWaitMs: timerMs().default(30_000),
    /** Largest `POST /res` body and `/res/ws` frame (RELIABILITY §4 WebSocket maxPayload). @default 16 MiB */
    maxReplyBytes: positiveInt().default(16 * 1024 * 1024),
  })
  .prefault({});
