import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort } from './records.js';

/** Where Debian puts the servers; `/usr/sbin` is not always on a test process's PATH. */
const BINARIES = {
  nats: ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'],
  redis: ['/usr/bin/redis-server', '/usr/local/bin/redis-server'],
} as const;

export function findBinary(name: keyof typeof BINARIES): string | undefined {
  return BINARIES[name].find((path) => existsSync(path));
}

async function waitForPort(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const isOpen = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (isOpen) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after 5 s`);
}

/**
 * A broker server this test owns (RELIABILITY F15/F16): started on a free loopback port, stopped
 * with SIGKILL and started again on the same port (and, for NATS, the same JetStream store).
 */
export class OwnedServer {
  private child: ChildProcess | undefined;
  private readonly storeDir = mkdtempSync(join(tmpdir(), 'switchboard-broker-'));

  private constructor(
    private readonly kind: keyof typeof BINARIES,
    private readonly binary: string,
    readonly port: number,
  ) {}

  static async start(kind: keyof typeof BINARIES): Promise<OwnedServer> {
    const binary = findBinary(kind);
    if (!binary) throw new Error(`${kind} server binary not found`);
    const server = new OwnedServer(kind, binary, await closedPort());
    await server.resume();
    return server;
  }

  get url(): string {
    return `${this.kind}://127.0.0.1:${this.port}`;
  }

  async resume(): Promise<void> {
    const args = this.kind === 'nats'
      ? ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir]
      : ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    this.child = spawn(this.binary, args, { stdio: 'ignore' });
    await waitForPort(this.port);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (child?.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  async close(): Promise<void> {
    await this.kill();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
