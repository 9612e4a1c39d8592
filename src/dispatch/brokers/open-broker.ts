import { SwitchboardError } from '../../platform/errors.js';
import type { Broker } from './broker.js';
import { InProcessBroker } from './in-process.js';
import { NatsJetStreamBroker } from './nats-jetstream.js';
import { RedisStreamsBroker } from './redis-streams.js';

export interface OpenBrokerOptions {
  /** Unset = a private in-process broker. */
  readonly url: string | undefined;
  readonly maxDeliver: number;
  readonly ackWaitMs: number;
  readonly onError?: ((error: unknown) => void) | undefined;
}

/** Seed 000's broker is Pulsar; its native client cannot be installed here (SEEDS-SPEC §1.8). */
const PULSAR_REFUSED =
  'pulsar:// brokers are not supported by this build (no Pulsar client can be installed or tested here); use BROKER_URL=nats://… (JetStream) or redis://… (Streams)';

/** Picks the adapter by URL scheme; an unknown scheme fails at start with one line. */
export function openBroker(options: OpenBrokerOptions): Broker {
  if (options.url === undefined) return new InProcessBroker();
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new SwitchboardError('bad_request', 'BROKER_URL is not a URL; use nats://host:4222 or redis://host:6379');
  }
  switch (url.protocol) {
    case 'memory:':
      return new InProcessBroker(url.host || url.pathname);
    case 'nats:':
      return new NatsJetStreamBroker({ url: options.url, maxDeliver: options.maxDeliver, ackWaitMs: options.ackWaitMs, onError: options.onError });
    case 'redis:':
    case 'rediss:':
      return new RedisStreamsBroker({ url: options.url, onError: options.onError });
    case 'pulsar:':
    case 'pulsar+ssl:':
      throw new SwitchboardError('bad_request', PULSAR_REFUSED);
    default:
      throw new SwitchboardError('bad_request', `BROKER_URL scheme ${url.protocol} is not supported; use nats:// or redis:// (or leave it unset for in-process)`);
  }
}
