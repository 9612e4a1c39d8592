import { connect } from 'node:net';

/** Real servers the scale-out path is tested against (started on this machine before the session). */
export const SERVICES = {
  postgres: { port: 5432, start: "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start" },
  redis: { port: 6379, start: 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no' },
  nats: { port: 4222, start: 'nats-server -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server &' },
  rabbitmq: { port: 5672, start: 'rabbitmq-server -detached' },
} as const;

export type ServiceName = keyof typeof SERVICES;

export const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = 'redis://127.0.0.1:6379';
export const NATS_URL = 'nats://127.0.0.1:4222';

/** Whether something accepts TCP connections on 127.0.0.1:port (gives up after a second). */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(false));
  });
}

export interface ServiceStatus {
  readonly available: boolean;
  /** One-line reason to print when a suite is skipped. */
  readonly reason: string;
}

/**
 * Under CI=true a missing service fails loudly (throws); elsewhere the suite skips with one line
 * naming the service and the command that starts it. Use: `describe.skipIf(!status.available)`.
 */
export async function requireService(name: ServiceName): Promise<ServiceStatus> {
  const service = SERVICES[name];
  if (await canConnect(service.port)) return { available: true, reason: '' };
  const reason = `${name} is not reachable on 127.0.0.1:${service.port}; start it with: ${service.start}`;
  if (process.env['CI'] === 'true') throw new Error(`CI requires ${reason}`);
  process.stderr.write(`skipping ${name} suite: ${reason}\n`);
  return { available: false, reason };
}
