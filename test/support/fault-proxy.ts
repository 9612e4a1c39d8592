import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * What the proxy does to the next connections (RELIABILITY §3.1.2). Toxiproxy is not packaged
 * here, so this is our own: a TCP proxy on 127.0.0.1:0 in front of one target.
 */
export type FaultMode =
  /** Forward both ways untouched. */
  | { kind: 'pass' }
  /** Hold every byte from the target this long before passing it on. */
  | { kind: 'delay'; ms: number }
  /** Accept the connection, never connect onward, never answer (connect succeeds, then silence). */
  | { kind: 'blackhole' }
  /** Pass `bytes` bytes from the target, then reset both sides (RST). */
  | { kind: 'drop-after'; bytes: number }
  /** Pass `bytes` bytes from the target, then close both sides cleanly (FIN). */
  | { kind: 'cut-at'; bytes: number };

export interface FaultProxy {
  readonly url: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Applies to connections accepted from now on. */
  setMode(mode: FaultMode): void;
  close(): Promise<void>;
}

function destroyBoth(client: Socket, upstream: Socket | undefined, reset: boolean): void {
  for (const socket of [client, upstream]) {
    if (!socket || socket.destroyed) continue;
    if (reset) socket.resetAndDestroy();
    else socket.end();
  }
}

/** Forwards target → client through the mode's rule, counting bytes. */
function relayDownstream(mode: FaultMode, client: Socket, upstream: Socket): void {
  let passed = 0;
  upstream.on('data', (data: Buffer) => {
    if (mode.kind === 'delay') {
      upstream.pause();
      setTimeout(() => {
        if (!client.destroyed) client.write(data);
        upstream.resume();
      }, mode.ms);
      return;
    }
    if (mode.kind === 'drop-after' || mode.kind === 'cut-at') {
      const room = mode.bytes - passed;
      const slice = data.subarray(0, Math.max(0, room));
      passed += slice.length;
      if (slice.length > 0) client.write(slice);
      if (passed >= mode.bytes) destroyBoth(client, upstream, mode.kind === 'drop-after');
      return;
    }
    if (!client.write(data)) {
      upstream.pause();
      client.once('drain', () => upstream.resume());
    }
  });
  // In delay mode the end travels behind the delayed bytes, like everything else.
  const lag = mode.kind === 'delay' ? mode.ms + 1 : 0;
  upstream.on('end', () => setTimeout(() => client.end(), lag));
  upstream.on('close', () => setTimeout(() => { if (!client.destroyed) client.destroy(); }, lag + 50));
}

export async function startFaultProxy(target: { host?: string; port: number }, initial: FaultMode = { kind: 'pass' }): Promise<FaultProxy> {
  let mode = initial;
  let accepted = 0;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };
  const server = createServer((client) => {
    accepted++;
    track(client);
    const current = mode;
    if (current.kind === 'blackhole') return;
    const upstream = connect({ host: target.host ?? '127.0.0.1', port: target.port });
    track(upstream);
    client.on('data', (data: Buffer) => upstream.write(data));
    client.on('end', () => upstream.end());
    client.on('close', () => upstream.destroy());
    relayDownstream(current, client, upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get accepted() {
      return accepted;
    },
    setMode: (next) => {
      mode = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
