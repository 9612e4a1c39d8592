import { afterEach, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultMode, type FaultProxy } from '../support/fault-proxy.js';
import { chunk, startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { chat, runScenario, startRig, type Rig } from './harness.js';

/**
 * The same faults at the TCP level, through the fault proxy between gateway and upstream `a`
 * (RELIABILITY §3.1.2): black-holed connects, RST and FIN in the middle of a body, slow links.
 */
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

interface NetRig {
  readonly rig: Rig;
  readonly a: ScriptedUpstream;
  readonly b: ScriptedUpstream;
  readonly proxy: FaultProxy;
}

async function behindProxy(mode: FaultMode): Promise<NetRig> {
  const a = await startScriptedUpstream({ name: 'a' });
  const b = await startScriptedUpstream({ name: 'b' });
  const proxy = await startFaultProxy({ port: a.port }, mode);
  const rig = await startRig(0, { overrides: { 'gateway.upstreams': [{ endpoint: `${proxy.url}/v1`, sk: 'sk-up-a' }, { endpoint: `${b.url}/v1`, sk: 'sk-up-b' }] } });
  cleanup.push(() => b.close(), () => a.close(), () => proxy.close(), () => rig.close());
  return { rig: { ...rig, upstreams: [a, b] }, a, b, proxy };
}

const slowStream = (count: number) => ({ kind: 'sse' as const, intervalMs: 20, events: [chunk('', { role: true }), ...Array.from({ length: count }, (_, index) => chunk(`w${index} `)), chunk(undefined, { finish: 'stop' })] });

describe('network faults (fault proxy)', () => {
  it('black-holed connections (accepted, never answered) hit the first-byte timeout and fail over', async () => {
    const net = await behindProxy({ kind: 'blackhole' });
    const { verdict } = await runScenario({ rig: net.rig, name: 'nethole', requests: [{ body: chat(false) }, { body: chat(true) }] });
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('ok')).toBe(2);
    expect(net.proxy.accepted).toBeGreaterThan(0);
  });

  it('an RST in the middle of a stream ends it with an error event; nothing is retried after the first byte', async () => {
    const net = await behindProxy({ kind: 'drop-after', bytes: 700 });
    net.a.enqueue(slowStream(40));
    const { verdict, client } = await runScenario({ rig: net.rig, name: 'netrst', requests: [{ body: chat(true) }] });
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('clean-error')).toBe(1);
    expect(client[0]!.events.length).toBeGreaterThan(1);
    expect(net.b.requests).toHaveLength(0);
  });

  it('a FIN in the middle of a stream or of a plain body is an error, never a silent truncation', async () => {
    const net = await behindProxy({ kind: 'cut-at', bytes: 700 });
    net.a.enqueue(slowStream(40), { kind: 'json', body: { choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(4096) }, finish_reason: 'stop' }] } });
    const { verdict, client } = await runScenario({ rig: net.rig, name: 'netfin', requests: [{ body: chat(true) }, { body: chat(false) }] });
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('clean-error')).toBe(2);
    expect(client[1]!.status).toBe(502);
  });

  it('a slow link (every byte delayed) still completes', async () => {
    const net = await behindProxy({ kind: 'delay', ms: 30 });
    net.a.enqueue(slowStream(5));
    const { verdict } = await runScenario({ rig: net.rig, name: 'netslow', requests: [{ body: chat(true) }, { body: chat(false) }] });
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('ok')).toBe(2);
  });
});
