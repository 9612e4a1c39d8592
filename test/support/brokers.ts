import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { describe } from 'vitest';
import { escapeName, topicFor } from '../../src/dispatch/index.js';
import { NATS_URL, REDIS_URL, requireService } from './services.js';

export type BrokerKind = 'in-process' | 'nats' | 'redis';

export interface BrokerUnderTest {
  readonly kind: BrokerKind;
  /** A fresh URL per call for in-process (memory://<random>), the shared server otherwise. */
  url(): string;
}

const natsStatus = await requireService('nats');
const redisStatus = await requireService('redis');

const BROKERS: readonly (BrokerUnderTest & { available: boolean })[] = [
  { kind: 'in-process', available: true, url: () => `memory://bus-${randomBytes(4).toString('hex')}` },
  { kind: 'nats', available: natsStatus.available, url: () => NATS_URL },
  { kind: 'redis', available: redisStatus.available, url: () => REDIS_URL },
];

/** Brokers under test; narrowed by SWITCHBOARD_BROKERS=in-process,nats,redis. */
function brokersUnderTest(): BrokerKind[] {
  const wanted = (process.env['SWITCHBOARD_BROKERS'] ?? 'in-process,nats,redis').split(',').map((name) => name.trim());
  return BROKERS.map((broker) => broker.kind).filter((kind) => wanted.includes(kind));
}

/** Runs the same suite on every broker adapter (the Kysely dialect loop, for brokers). */
export function forEachBroker(suite: (broker: BrokerUnderTest) => void, kinds: readonly BrokerKind[] = ['in-process', 'nats', 'redis']): void {
  for (const broker of BROKERS) {
    if (!kinds.includes(broker.kind) || !brokersUnderTest().includes(broker.kind)) continue;
    describe.skipIf(!broker.available)(`over ${broker.kind}`, () => suite(broker));
  }
}

/** A model name no other test file uses (parallel files share the NATS and Redis servers). */
export function uniqueModel(prefix = 'sim'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}.v1`;
}

/** Deletes what a test created for its models: NATS streams and Redis stream keys. */
export async function cleanupTopics(kind: BrokerKind, models: readonly string[], urls: { nats?: string; redis?: string } = {}): Promise<void> {
  const topics = models.map(topicFor);
  if (kind === 'nats') {
    const connection = await connect({ servers: new URL(urls.nats ?? NATS_URL).host });
    const manager = await jetstreamManager(connection);
    for (const topic of topics) await manager.streams.delete(escapeName(topic)).catch(() => undefined);
    await connection.close();
  }
  if (kind === 'redis') {
    const redis = new Redis(urls.redis ?? REDIS_URL);
    if (topics.length > 0) await redis.del(...topics);
    redis.disconnect();
  }
}
