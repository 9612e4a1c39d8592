import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { FrameChannels } from '../../src/dispatch/worker/frame-channels.js';
import { startApp, type TestApp } from '../support/start-app.js';

/** Short enough for a test, long enough that a busy CI machine still answers a ping within one interval. */
const HEARTBEAT_MS = 200;

/** Resolves with the close code once the socket closes; undefined if it is still open after `withinMs`. */
async function closedWithin(socket: WebSocket, withinMs: number): Promise<number | undefined> {
  if (socket.readyState === WebSocket.CLOSED) return -1;
  const closed = once(socket, 'close').then(([code]) => code as number);
  const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), withinMs));
  return Promise.race([closed, timeout]);
}

async function connect(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const socket = new WebSocket(url, options);
  await once(socket, 'open');
  return socket;
}

/** Answers the first `count` pings by hand, then none: a peer whose NAT mapping expired after a while. */
function answerPings(socket: WebSocket, count: number): { readonly answered: () => number } {
  let answered = 0;
  socket.on('ping', () => {
    if (answered >= count) return;
    answered++;
    socket.pong();
  });
  return { answered: () => answered };
}

describe('gateway /res/ws heartbeat: sockets of vanished workers are dropped', () => {
  let app: TestApp;
  let endpoint: string;

  beforeAll(async () => {
    app = await startApp({ overrides: { 'dispatch.wsHeartbeatMs': HEARTBEAT_MS } });
    endpoint = `${app.url.replace('http', 'ws')}/res/ws`;
  });
  afterAll(async () => {
    await app.close();
  });

  it('a worker that answers pings keeps its socket', async () => {
    const socket = await connect(endpoint);
    expect(await closedWithin(socket, HEARTBEAT_MS * 5)).toBeUndefined();
    socket.close();
  });

  it('a worker that answered pings and then goes silent is terminated', async () => {
    const socket = await connect(endpoint, { autoPong: false });
    const pings = answerPings(socket, 1);
    const code = await closedWithin(socket, HEARTBEAT_MS * 10);
    expect(pings.answered()).toBe(1);
    expect(code).toBe(1006);
  });

  it('a send-only client that never answers a ping is kept (the seed Python worker may sit silent until its answer is in)', async () => {
    const socket = await connect(endpoint, { autoPong: false });
    let pings = 0;
    socket.on('ping', () => pings++);
    expect(await closedWithin(socket, HEARTBEAT_MS * 5)).toBeUndefined();
    // It was pinged all along (which keeps a NAT mapping open), just never cut off.
    expect(pings).toBeGreaterThanOrEqual(2);
    socket.close();
  });

  it('frames count as a sign of life: a sender that stops answering pings is not cut off while it sends', async () => {
    const socket = await connect(endpoint, { autoPong: false });
    answerPings(socket, 1);
    const sender = setInterval(() => socket.send('{"request_id":"not-a-request","end":false,"data":{}}'), HEARTBEAT_MS / 4);
    try {
      expect(await closedWithin(socket, HEARTBEAT_MS * 5)).toBeUndefined();
    } finally {
      clearInterval(sender);
      socket.close();
    }
  });
});

describe('worker reply channel heartbeat: a gateway that stops answering is given up', () => {
  let server: WebSocketServer;
  let endpoint: string;
  let connections = 0;
  let pings = 0;

  beforeAll(async () => {
    // A peer that answers the first ping on each socket and then goes silent, as a gateway behind
    // a NAT mapping that expired does: no more pongs, nothing sent.
    server = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false });
    server.on('connection', (socket) => {
      connections++;
      let answered = false;
      socket.on('ping', () => {
        pings++;
        if (answered) return;
        answered = true;
        socket.pong();
      });
    });
    await once(server, 'listening');
    endpoint = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/res/ws`;
  });
  afterAll(async () => {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  });

  it('aborts the streams on a socket gone silent and opens a new one for the next stream', async () => {
    const channels = new FrameChannels({ heartbeatMs: HEARTBEAT_MS });
    try {
      const first = channels.open(endpoint, 'request-1');
      first.send('{"request_id":"request-1","end":false,"data":{}}');
      await expect.poll(() => first.signal.aborted, { timeout: HEARTBEAT_MS * 10 }).toBe(true);
      await first.release();
      expect(channels.size).toBe(0);
      const second = channels.open(endpoint, 'request-2');
      await expect.poll(() => connections).toBe(2);
      expect(second.signal.aborted).toBe(false);
      await second.release();
    } finally {
      channels.terminateAll();
    }
  });

  it('an interval of 0 turns the heartbeat off: no pings, the socket is kept', async () => {
    const channels = new FrameChannels({ heartbeatMs: 0 });
    const pingsBefore = pings;
    try {
      const lease = channels.open(endpoint, 'request-3');
      lease.send('{"request_id":"request-3","end":false,"data":{}}');
      await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_MS * 5));
      expect(lease.signal.aborted).toBe(false);
      expect(pings).toBe(pingsBefore);
      await lease.release();
    } finally {
      channels.terminateAll();
    }
  });
});
