import { describe, expect, it } from 'vitest';
import { checkLedger, classify, type LedgerRow } from '../support/ledger.js';
import type { ClientEntry } from '../support/ledger-client.js';
import type { RecordedRequest } from '../support/scripted-upstream.js';

/** The checker itself: each violation class of RELIABILITY §3.2 must be caught, or the matrix proves nothing. */
const SSE = { 'content-type': 'text/event-stream' };
const finish = JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
const content = JSON.stringify({ choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: null }] });
const errorEvent = JSON.stringify({ error: { message: 'gone', type: 'upstream_error', code: 'upstream_reset' } });

function streamEntry(id: string, events: string[], end: ClientEntry['end'] = 'complete'): ClientEntry {
  return { id, path: '/v1/chat/completions', stream: true, status: 200, headers: SSE, body: '', events, end };
}

function served(id: string, extra: Partial<RecordedRequest> = {}): RecordedRequest {
  return { method: 'POST', url: '/v1/chat/completions', headers: {}, body: Buffer.alloc(0), json: {}, receivedAt: 0, eventsSent: 1, requestId: id, upstream: 'a', contentSent: 1, completed: true, ...extra };
}

const row = (id: string, extra: Partial<LedgerRow> = {}): LedgerRow => ({ id, outcome: 'ok', status: 200, completion_tokens: 1, ...extra });

describe('ledger checker (RELIABILITY §3.2)', () => {
  it('classifies each client outcome', () => {
    expect(classify(streamEntry('ok', [content, finish, '[DONE]']))).toBe('ok');
    expect(classify(streamEntry('err', [content, errorEvent]))).toBe('clean-error');
    expect(classify(streamEntry('cut', [content]))).toBe('truncated');
    expect(classify(streamEntry('two', [content, finish, '[DONE]', '[DONE]']))).toBe('duplicate');
    expect(classify(streamEntry('both', [content, errorEvent, '[DONE]']))).toBe('duplicate');
    expect(classify(streamEntry('rst', [content], 'reset'))).toBe('reset');
    expect(classify(streamEntry('late', [], 'deadline'))).toBe('hang');
    const plain = { id: 'x', path: '/v1/chat/completions', stream: false, headers: {}, events: [], end: 'complete' as const };
    expect(classify({ ...plain, status: 503, body: '{"error":{"message":"m","type":"t","code":"c"}}' })).toBe('clean-error');
    expect(classify({ ...plain, status: 502, body: '' })).toBe('unshaped-error');
    expect(classify({ ...plain, status: 200, body: '{"choices":[' })).toBe('truncated');
  });

  it('a clean run passes', () => {
    const verdict = checkLedger({ client: [streamEntry('a-0', [content, finish, '[DONE]'])], upstream: [served('a-0', { tokensBilled: 1 })], rows: [row('a-0')] });
    expect(verdict.violations).toEqual([]);
    expect(verdict.report).toContain('verdict PASS');
  });

  it('fails on lost, unexpected, pending, token and record mismatches, and misrouting', () => {
    const verdict = checkLedger({
      client: [streamEntry('a-0', [content, finish, '[DONE]']), streamEntry('a-1', [content, finish, '[DONE]']), streamEntry('a-2', [content, errorEvent]), streamEntry('a-3', [content, finish, '[DONE]'])],
      upstream: [served('a-0', { tokensBilled: 7 }), served('a-1'), served('a-2'), served('a-3', { upstream: 'evil' })],
      rows: [row('a-0', { completion_tokens: 3 }), row('a-2'), row('zz-9'), row('a-3')],
      forbidden: ['evil'],
    });
    expect(verdict.count('lost')).toBe(1);
    expect(verdict.count('unexpected')).toBe(1);
    expect(verdict.count('token-mismatch')).toBe(1);
    expect(verdict.count('record-mismatch')).toBe(1);
    expect(verdict.count('misrouted')).toBe(1);
    expect(verdict.violations.map((violation) => violation.split(':')[0])).toEqual(['misrouted', 'lost', 'unexpected', 'token-mismatch', 'record-mismatch']);
    expect(verdict.report).toContain('verdict FAIL');
  });

  it('resets, refusals, pending rows and a bounded loss are violations unless the scenario allows them', () => {
    const input = {
      client: [streamEntry('k-0', [content], 'reset'), { ...streamEntry('k-1', [], 'refused'), status: undefined }],
      upstream: [served('k-0'), served('k-2')],
      rows: [row('k-0', { outcome: 'pending' })],
    };
    expect(checkLedger(input).violations.map((violation) => violation.split(':')[0])).toEqual(['reset', 'refused', 'lost', 'pending']);
    expect(checkLedger({ ...input, allow: { reset: true, refused: true, pending: true, lost: 1 } }).violations).toEqual([]);
  });
});
