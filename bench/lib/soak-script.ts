import { chunk, usageChunk, type Step } from '../../test/support/scripted-upstream.js';

/**
 * What the soak's scripted upstreams answer. The client's message says how (`chunks=20;faults=on`);
 * with faults on, every `faultEvery`-th request an upstream receives is faulted, cycling through
 * RELIABILITY F1 (503 before headers), F6 (stall mid-stream) and F7 (reset mid-stream; a reset
 * before headers for plain calls).
 */
export function soakScript(options: { intervalMs: number; faultEvery: number }): Step {
  let received = 0;
  const streams = new Map<number, object[]>();
  const eventsFor = (count: number) => {
    let events = streams.get(count);
    if (!events) {
      events = [chunk('', { role: true }), ...Array.from({ length: count }, (_, index) => chunk(`w${index} `)), chunk(undefined, { finish: 'stop' })];
      streams.set(count, events);
    }
    return events;
  };
  return {
    kind: 'choose',
    pick: (request): Step => {
      received++;
      const text = String(request.json?.messages?.[0]?.content ?? '');
      const count = Number(/chunks=(\d+)/.exec(text)?.[1] ?? 5);
      const stream = request.json?.stream === true;
      const fault = text.includes('faults=on') && received % options.faultEvery === 0 ? (received / options.faultEvery) % 3 : -1;
      if (fault === 0) return { kind: 'json', status: 503, body: { error: { message: 'overloaded (soak fault)', type: 'server_error', code: null } } };
      if (!stream) {
        if (fault > 0) return { kind: 'reset' };
        return { kind: 'json', body: { id: 'soak', object: 'chat.completion', created: 0, model: 'gpt-test', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } } };
      }
      const events = request.json?.stream_options?.include_usage === true ? [...eventsFor(count), usageChunk(3, count)] : eventsFor(count);
      if (fault === 1) return { kind: 'sse', events, intervalMs: options.intervalMs, stallAfter: 3 };
      if (fault === 2) return { kind: 'sse', events, intervalMs: options.intervalMs, resetAfter: 3 };
      return { kind: 'sse', events, intervalMs: options.intervalMs };
    },
  };
}
