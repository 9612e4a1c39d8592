import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelSource } from '../../src/gateway/cancel-source.js';
import type { BodySource, ForwardCall } from '../../src/gateway/target.js';
import { profileFor } from '../../src/gateway/upstream-profiles.js';
import { UpstreamTarget } from '../../src/gateway/upstream-target.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';

/**
 * The upstream body as UpstreamTarget hands it to the exchange (undici's dispatch handler as a
 * BodySource), against a real HTTP server: what a consumer reads, in what order, and when.
 */
describe('UpstreamTarget body (dispatch handler as a body source)', () => {
  let upstream: ScriptedUpstream;
  let target: UpstreamTarget;
  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    target = new UpstreamTarget({
      id: 'upstream:test',
      endpoint: `${upstream.url}/v1`,
      apiKey: 'sk-up',
      profile: profileFor('openai'),
      timeouts: { connectMs: 1_000, firstByteMs: 2_000, idleMs: 2_000 },
    });
  });
  afterAll(async () => {
    await target.close();
    await upstream.close();
  });

  const call: ForwardCall = {
    requestId: 'req-1',
    method: 'POST',
    path: '/v1/chat/completions',
    search: '',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from('{"model":"m"}'),
    json: { model: 'm' },
    model: 'm',
    stream: false,
  };

  /** Reads the body to its end or error; `pauseFor` pauses after the first chunk for that long. */
  function read(body: BodySource, options: { pauseFor?: number } = {}) {
    const chunks: Buffer[] = [];
    let duringPause = -1;
    return new Promise<{ text: string; error?: Error; bytesWhilePaused: number }>((resolve) => {
      body.on('error', (error) => resolve({ text: Buffer.concat(chunks).toString('utf8'), error, bytesWhilePaused: duringPause }));
      body.once('end', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), bytesWhilePaused: duringPause }));
      body.on('data', (chunk) => {
        chunks.push(chunk);
        if (options.pauseFor === undefined || duringPause !== -1) return;
        body.pause();
        const atPause = chunks.length;
        duringPause = 0;
        setTimeout(() => {
          duringPause = chunks.length - atPause;
          body.resume();
        }, options.pauseFor);
      });
    });
  }

  it('gives a consumer that starts late the whole body, then the end', async () => {
    upstream.enqueue({ kind: 'text', body: 'a whole answer' });
    const reply = await target.send(call, new CancelSource());
    await sleep(50);
    expect(reply.status).toBe(200);
    const result = await read(reply.body);
    expect(result.text).toBe('a whole answer');
    expect(result.error).toBeUndefined();
  });

  it('gives a late consumer a 1 MiB body whole and in order (what was held first, then the rest)', async () => {
    const big = Array.from({ length: 64 * 1024 }, (_, index) => String(index % 10)).join('').repeat(16);
    upstream.enqueue({ kind: 'text', body: big });
    const reply = await target.send(call, new CancelSource());
    await sleep(100);
    const result = await read(reply.body);
    expect(result.text.length).toBe(big.length);
    expect(result.text === big).toBe(true);
  });

  it('ends an empty body (204, or a length of 0) for a consumer that starts late', async () => {
    upstream.enqueue({ kind: 'text', status: 204, body: '' });
    upstream.enqueue({ kind: 'text', body: '' });
    for (const status of [204, 200]) {
      const reply = await target.send(call, new CancelSource());
      await sleep(20);
      expect(reply.status).toBe(status);
      const result = await read(reply.body);
      expect(result.text).toBe('');
      expect(result.error).toBeUndefined();
    }
  });

  it('sends nothing while the consumer is paused and everything after it resumes', async () => {
    const big = 'x'.repeat(4 * 1024 * 1024);
    upstream.enqueue({ kind: 'text', body: big });
    const reply = await target.send(call, new CancelSource());
    const result = await read(reply.body, { pauseFor: 200 });
    expect(result.bytesWhilePaused).toBe(0);
    expect(result.text.length).toBe(big.length);
  });

  it('hands over what arrived, then the error, when the upstream dies mid-body', async () => {
    upstream.enqueue({
      kind: 'handler',
      handle: (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        response.write('{"partial":');
        response.socket?.uncork();
        response.socket?.destroy();
      },
    });
    const reply = await target.send(call, new CancelSource());
    const result = await read(reply.body);
    expect(result.text).toBe('{"partial":');
    expect(result.error).toBeInstanceOf(Error);
  });

  it('rejects with client_closed when cancelled before the headers, and with upstream_unavailable when nothing answers', async () => {
    upstream.enqueue({ kind: 'silent' });
    const cancel = new CancelSource();
    const sent = target.send(call, cancel);
    setTimeout(() => cancel.abort(), 50);
    await expect(sent).rejects.toMatchObject({ code: 'client_closed' });

    upstream.enqueue({ kind: 'reset' });
    await expect(target.send(call, new CancelSource())).rejects.toMatchObject({ code: 'upstream_unavailable' });
  });

  it('keeps serving calls on the same pool after a destroyed body', async () => {
    upstream.enqueue({ kind: 'text', body: 'y'.repeat(1024 * 1024) });
    const first = await target.send(call, new CancelSource());
    first.body.on('error', () => undefined);
    first.body.destroy();
    upstream.enqueue({ kind: 'text', body: 'next' });
    const second = await target.send(call, new CancelSource());
    expect(await read(second.body)).toMatchObject({ text: 'next' });
  });
});
