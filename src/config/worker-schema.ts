import { z } from 'zod';
import { optionalText, timerMs } from './schema-helpers.js';
import { ConfigError } from './sources.js';

/** Where a `local` node's model server listens and the key it expects (SEEDS-SPEC §1.6 c). */
const LOCAL_API_URL = 'http://localhost:8080/v1';
const LOCAL_API_KEY = 'sk-no-key-required';

/**
 * `switchboard worker`: the seed workers' env names (SEEDS-SPEC §1.6) mapped to one schema.
 * RES_TOPIC_NAME, AIMODEL_NAME and AIMODEL_NAMESPACE are accepted and unused (the seed's usage
 * topic was never published to, and Kubernetes events are not sent).
 */
export const workerSchema = z
  .object({
    /** BROKER_URL or seed PULSAR_URL; `nats://` or `redis://`. */
    brokerUrl: z.string({ error: 'is required: set BROKER_URL (nats://… or redis://…)' }).min(1),
    pulsarToken: optionalText(),
    /** TOPIC, else `model-<MODEL_NAME>`. */
    topic: z.string({ error: 'is required: set MODEL_NAME (or TOPIC)' }).min(1),
    /** The consumer group every worker of a topic shares. @default "<topic>-subscription" */
    subscription: z.string().min(1),
    /** NODE_TYPE: `remote`/`api` call API_URL; `local` calls a model server on localhost:8080. @default "remote" */
    nodeType: z.enum(['remote', 'api', 'local']).default('remote'),
    /** API_URL; `/chat/completions` is appended. */
    apiUrl: z.url({ error: 'is not a URL; use e.g. https://api.example.com/v1' }),
    /** API_KEY or OPENAI_API_KEY. */
    apiKey: z.string({ error: 'is required: set API_KEY (or OPENAI_API_KEY)' }).min(1),
    /** MAX_PROCESS_NUM: tasks handled at once. @default 128 (seed Python worker) */
    maxProcessNum: z.coerce.number().int().min(1).max(4096).default(128),
    /** MAX_DELIVER: deliveries of a task before it is dropped. @default 3 */
    maxDeliver: z.coerce.number().int().min(1).default(3),
    /** ACK_WAIT: silence after which a taken task is delivered again. @default 30s */
    ackWaitMs: timerMs().default(30_000),
    /** TIMEOUT: upstream call until its response headers. @default 5m */
    upstreamTimeoutMs: timerMs().default(300_000),
    /** UPSTREAM_IDLE_TIMEOUT: silence between two upstream body chunks. @default 60s */
    upstreamIdleMs: timerMs().default(60_000),
    /** WS_HEARTBEAT: ping interval of the /res/ws reply sockets; a gateway silent for one more interval is dropped; 0 = off. @default 30s */
    wsHeartbeatMs: timerMs().default(30_000),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  });

export type WorkerConfig = Readonly<z.infer<typeof workerSchema>>;

type Env = Readonly<Record<string, string | undefined>>;

function pick(env: Env, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  return undefined;
}

/** Seed 000 DEBUG / Python worker DEBUG=true: any non-empty, non-false value turns debug on. */
function logLevel(env: Env): string | undefined {
  const debug = pick(env, 'DEBUG');
  if (debug && !['0', 'false', 'no', 'off'].includes(debug.toLowerCase())) return 'debug';
  return pick(env, 'LOG_LEVEL');
}

/** Builds the worker's settings from its environment; one ConfigError line per bad key. */
export function loadWorkerConfig(env: Env): WorkerConfig {
  const isLocal = pick(env, 'NODE_TYPE') === 'local';
  const model = pick(env, 'MODEL_NAME');
  const topic = pick(env, 'TOPIC') ?? (model === undefined ? undefined : `model-${model}`);
  const raw = {
    brokerUrl: pick(env, 'BROKER_URL', 'PULSAR_URL'),
    pulsarToken: pick(env, 'PULSAR_TOKEN'),
    topic,
    subscription: pick(env, 'SUBSCRIPTION') ?? (topic === undefined ? undefined : `${topic}-subscription`),
    nodeType: pick(env, 'NODE_TYPE'),
    apiUrl: isLocal ? LOCAL_API_URL : (pick(env, 'API_URL') ?? 'https://api.openai.com/v1'),
    apiKey: isLocal ? LOCAL_API_KEY : pick(env, 'API_KEY', 'OPENAI_API_KEY'),
    maxProcessNum: pick(env, 'MAX_PROCESS_NUM'),
    maxDeliver: pick(env, 'MAX_DELIVER'),
    ackWaitMs: pick(env, 'ACK_WAIT'),
    upstreamTimeoutMs: pick(env, 'TIMEOUT'),
    upstreamIdleMs: pick(env, 'UPSTREAM_IDLE_TIMEOUT'),
    wsHeartbeatMs: pick(env, 'WS_HEARTBEAT'),
    logLevel: logLevel(env),
  };
  const result = workerSchema.safeParse(raw);
  if (result.success) return Object.freeze(result.data);
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const key = issue.path.join('.');
      const secret = /key|token|url/i.test(key);
      const value = (raw as Record<string, unknown>)[key];
      const shown = value === undefined ? '' : `=${secret ? '"***"' : JSON.stringify(value)}`;
      return `worker ${key}${shown} ${issue.message}`;
    }),
  );
}
