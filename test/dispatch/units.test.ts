import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import { loadWorkerConfig } from '../../src/config/worker-schema.js';
import { decodeTask, encodeTask, escapeName, unescapeName } from '../../src/dispatch/index.js';
import { rawMembers } from '../../src/dispatch/raw-json.js';
import { canonicalHeaderName } from '../../src/dispatch/task.js';

describe('topic names', () => {
  it('escapes what NATS and Pulsar forbid, reversibly', () => {
    expect(escapeName('model-gpt-3.5-turbo')).toBe('model-gpt-3_2E5-turbo');
    expect(escapeName('model-mistralai/Mixtral 8x7B')).toBe('model-mistralai_2FMixtral_208x7B');
    expect(escapeName('model-a_b')).toBe('model-a_5Fb');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (name) => {
        const escaped = escapeName(name);
        expect(escaped).toMatch(/^[A-Za-z0-9_-]*$/);
        expect(unescapeName(escaped)).toBe(name);
      }),
    );
  });
});

describe('raw JSON members', () => {
  it('keeps each value exactly as written', () => {
    const text = '{ "request_id" : "a\\"b", "data": {"x": [1, 2, {"y": "}]"}], "z" : null} ,"end":true }';
    const members = rawMembers(text);
    expect(members.get('request_id')).toBe('"a\\"b"');
    expect(members.get('data')).toBe('{"x": [1, 2, {"y": "}]"}], "z" : null}');
    expect(members.get('end')).toBe('true');
  });

  it('agrees with JSON.parse on any object', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.integer({ min: 0, max: 2 }), (object, indent) => {
        const text = JSON.stringify(object, null, indent);
        const members = rawMembers(text);
        expect([...members.keys()].sort()).toEqual(Object.keys(object).sort());
        for (const [key, raw] of members) expect(JSON.parse(raw)).toEqual(JSON.parse(text)[key]);
      }),
    );
  });
});

describe('task encoding (SEEDS-SPEC §1.4)', () => {
  it('uses Go canonical header names with arrays of values and drops credentials', () => {
    expect(canonicalHeaderName('content-type')).toBe('Content-Type');
    expect(canonicalHeaderName('x-request-id')).toBe('X-Request-Id');
    const payload = encodeTask({
      requestId: 'r1',
      stream: true,
      body: Buffer.from('{"model": "m",\n "stream": true}'),
      endpoint: 'ws://h:1/res/ws',
      headers: { 'user-agent': 'curl/8', authorization: 'Bearer secret', cookie: 'a=b', accept: '*/*' },
      replyToken: 'tok',
    });
    const task = decodeTask(payload)!;
    expect(task).toEqual({ request_id: 'r1', stream: true, data: { model: 'm', stream: true }, endpoint: 'ws://h:1/res/ws', metadata: { headers: { 'User-Agent': ['curl/8'], Accept: ['*/*'] } }, reply_token: 'tok' });
    expect(decodeTask(Buffer.from('not json'))).toBeUndefined();
  });
});

describe('worker settings (SEEDS-SPEC §1.6)', () => {
  it('reads the seed workers\' env names', () => {
    const config = loadWorkerConfig({ PULSAR_URL: 'nats://127.0.0.1:4222', MODEL_NAME: 'gpt-3.5-turbo', OPENAI_API_KEY: 'sk-1', API_URL: 'http://127.0.0.1:9/v1', MAX_PROCESS_NUM: '5', DEBUG: 'true' });
    expect(config).toMatchObject({ brokerUrl: 'nats://127.0.0.1:4222', topic: 'model-gpt-3.5-turbo', subscription: 'model-gpt-3.5-turbo-subscription', apiKey: 'sk-1', maxProcessNum: 5, logLevel: 'debug' });
    expect(loadWorkerConfig({ BROKER_URL: 'redis://x', TOPIC: 'model-x', NODE_TYPE: 'local' })).toMatchObject({ apiUrl: 'http://localhost:8080/v1', apiKey: 'sk-no-key-required', topic: 'model-x' });
  });

  it('takes the reply sockets\' ping interval from WS_HEARTBEAT (Go duration), 30 s by default', () => {
    const base = { BROKER_URL: 'redis://x', MODEL_NAME: 'm', API_KEY: 'sk-1' };
    expect(loadWorkerConfig(base).wsHeartbeatMs).toBe(30_000);
    expect(loadWorkerConfig({ ...base, WS_HEARTBEAT: '1m15s' }).wsHeartbeatMs).toBe(75_000);
    expect(() => loadWorkerConfig({ ...base, WS_HEARTBEAT: 'often' })).toThrow(/wsHeartbeatMs/);
  });

  it('names every bad setting on its own line and masks secrets', () => {
    let error: unknown;
    try {
      loadWorkerConfig({ BROKER_URL: 'redis://secret@x', MODEL_NAME: 'm', API_KEY: 'sk-1', MAX_PROCESS_NUM: 'many', ACK_WAIT: '5x' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const lines = (error as ConfigError).lines;
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).not.toContain('secret');
    expect(lines.find((line) => line.startsWith('worker ackWaitMs'))).toMatch(/not a duration/);
  });
});
