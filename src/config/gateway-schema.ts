import { z } from 'zod';
import { endpointProblem } from '../platform/upstream-endpoint.js';
import { flag, optionalText, positiveInt, stringList, timerMs } from './schema-helpers.js';

export const policyNames = [
  'main',
  'random',
  'random_available',
  'round_robin',
  'round_robin_available',
  'weighted',
  'least_in_flight',
] as const;

/** An upstream declared in config.yaml (upstreams can also live in the database via /admin). */
export const configUpstreamSchema = z.object({
  name: z.string().optional(),
  /** The admin API's and CLI's rule: http(s) only, no credentials (z.url() took ftp:, file: and user:pass@). */
  endpoint: z.string().superRefine((endpoint, context) => {
    const problem = endpointProblem(endpoint);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  }),
  /** The upstream's API key. */
  sk: z.string().default(''),
  /** Vendor profile name, see gateway/upstream-profiles.ts. @default "openai-compatible" */
  profile: z.string().default('openai-compatible'),
  weight: z.coerce.number().int().positive().default(1),
  /** Models this upstream serves; empty = any. */
  models: stringList().default([]),
});

export const gatewaySchema = z
  .object({
    /** Gateway keys clients must present (seed 001 `authorization`, comma-separated). */
    authorization: stringList().optional().describe('Gateway keys (AUTHORIZATION)'),
    /** Skip the key check on /v1 only (seed 001 -noauth). @default false */
    noauth: flag().default(false),
    /** -noauth on a non-loopback bind is refused unless this is set. @default false */
    forceNoauth: flag().default(false),
    /** Load-balancing policy (seed 001 `policy`). @default "main" */
    policy: z.enum(policyNames).default('main'),
    /** Client-visible model name → upstream model name. */
    modelAliases: z.record(z.string(), z.string()).default({}),
    upstreams: z.array(configUpstreamSchema).default([]),
    timeouts: z
      .object({
        /** TCP+TLS connect. @default 5s */
        connectMs: timerMs().default(5_000),
        /** Request sent → response headers. @default 120s */
        firstByteMs: timerMs().default(120_000),
        /** Between two body chunks (undici bodyTimeout). @default 60s */
        idleMs: timerMs().default(60_000),
        /** Whole non-stream exchange; 0 = no limit, as 0 is for firstByteMs and idleMs. @default 5m (seed 000 TIMEOUT) */
        totalMs: timerMs().default(300_000),
        /**
         * Whole stream from an upstream: one that keeps trickling within idleMs is still cut here,
         * with an in-band error (RELIABILITY F10, OWASP LLM10). Worker-fleet streams have no such
         * cap, as in seed 000. 0 = no cap. @default 30m
         */
        streamTotalMs: timerMs().default(1_800_000),
        /**
         * A client whose buffered bytes do not go down for this long is stalled: the upstream call is
         * cancelled and the record says `client_stalled` (RELIABILITY F11). 0 = no stall rule. @default 60s
         */
        clientStallMs: timerMs().default(60_000),
      })
      .prefault({}),
    /** Attempts per request including the first (≤ 2 extra, RELIABILITY R2). @default 3 */
    maxAttempts: z.coerce.number().int().min(1).max(5).default(3),
    health: z
      .object({
        /** Consecutive failures before an upstream is ejected. @default 5 */
        failureThreshold: positiveInt().default(5),
        /** First ejection length; doubles per repeat. @default 30s */
        baseEjectionMs: timerMs().default(30_000),
        /** Longest ejection. @default 5m */
        maxEjectionMs: timerMs().default(300_000),
      })
      .prefault({}),
    records: z
      .object({
        /** Batch flush interval. @default 1s */
        flushIntervalMs: timerMs().default(1_000),
        /** Rows per batch write. @default 500 */
        batchSize: positiveInt().default(500),
        /** Queue cap before the oldest rows are dropped with a warning. @default 50000 */
        maxQueued: positiveInt().default(50_000),
        /** Keep the response text in records (seed 001 does). @default true */
        storeResponse: flag().default(true),
        /** Keep request bodies (prompts) in records; off by default (OWASP LLM02). @default false */
        storeRequestBody: flag().default(false),
        /**
         * Instance heartbeat; `pending` records of an instance silent for 3 heartbeats (killed) are
         * marked `aborted` by whichever instance runs next (RELIABILITY F20). @default 5s
         */
        heartbeatMs: timerMs().default(5_000),
      })
      .prefault({}),
    /** Largest upstream error body kept for the client verbatim. @default 1 MiB */
    maxErrorBodyBytes: positiveInt().default(1024 * 1024),
    /** Per-stream bytes buffered for a slow reader before upstream reads pause. @default 1 MiB */
    maxBufferedBytes: positiveInt().default(1024 * 1024),
    cli: z
      .object({
        add: flag().default(false),
        list: flag().default(false),
        sk: optionalText(),
        endpoint: z.string().default('https://api.openai.com/v1'),
      })
      .prefault({}),
  })
  .prefault({});
