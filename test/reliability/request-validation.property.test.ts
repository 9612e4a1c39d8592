import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatCompletion } from '../support/scripted-upstream.js';
import { TEST_KEY } from '../support/start-app.js';
import { startRig, type Rig } from './harness.js';

/**
 * RELIABILITY §3.7: random JSON values (fast-check `jsonValue`) to each route family get a 2xx or
 * a 4xx, never a 5xx and never a crash. 200 runs per family; failures shrink to a minimal body.
 */
let rig: Rig;
beforeAll(async () => {
  rig = await startRig(1, { overrides: { 'log.level': 'warn' } });
  // A well-behaved upstream that answers anything: every 5xx left would be the gateway's own.
  rig.upstreams[0]!.setFallback({ kind: 'json', body: chatCompletion('fine') });
});
afterAll(async () => {
  await rig.close();
});

async function statusOf(method: string, path: string, body: string): Promise<number> {
  const response = await fetch(`${rig.app.url}${path}`, { method, headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' }, body });
  await response.arrayBuffer();
  return response.status;
}

/** Any JSON, and objects that look like the route's own bodies with random field values. */
const bodies = (fields: string[]) =>
  fc.oneof(
    fc.jsonValue(),
    fc.dictionary(fc.constantFrom(...fields), fc.jsonValue()),
    fc.record({ model: fc.oneof(fc.constant('gpt-test'), fc.string()), stream: fc.jsonValue(), messages: fc.jsonValue() }, { requiredKeys: [] }),
  );

describe('random JSON never produces a 5xx', () => {
  it.each([
    ['POST', '/v1/chat/completions', ['model', 'stream', 'messages', 'stream_options', 'max_tokens', 'n']],
    ['POST', '/v1/embeddings', ['model', 'input', 'encoding_format']],
    ['POST', '/admin/upstreams', ['sk', 'endpoint', 'SK', 'Endpoint', 'models', 'weight', 'profile', 'name']],
    ['PUT', '/admin/upstreams/1', ['sk', 'endpoint', 'models', 'weight']],
  ])('%s %s', async (method, path, fields) => {
    await fc.assert(
      fc.asyncProperty(bodies(fields), async (value) => {
        const status = await statusOf(method, path, JSON.stringify(value));
        expect(status).toBeLessThan(500);
      }),
      { numRuns: 200 },
    );
    const health = await fetch(`${rig.app.url}/health`);
    expect(health.status).toBe(200);
  });
});
