import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bareJsonBlock, newConversationId, parseConversationId } from '../../src/chat/index.js';
import { LoginLimiter } from '../../src/chat/login-limiter.js';
import { isPasswordTooLong } from '../../src/chat/passwords.js';
import { redactSecrets } from '../../src/chat/upstream-failure.js';

describe('chat units', () => {
  it('parses path ids like strconv.Atoi: 400 for non-integers, 404 (0) for impossible ids', () => {
    expect(parseConversationId('123')).toBe(123);
    expect(parseConversationId('+123')).toBe(123);
    expect(parseConversationId(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    for (const text of ['-1', '0', '9007199254740992', '9223372036854775807']) expect(parseConversationId(text)).toBe(0);
    for (const text of ['', 'abc', '1.0', '1e3', ' 1', '0x1', '9223372036854775808', '1'.repeat(30)]) expect(parseConversationId(text)).toBeUndefined();
  });

  it('makes conversation ids that are positive safe integers', () => {
    for (let index = 0; index < 1000; index++) {
      const id = newConversationId();
      expect(Number.isSafeInteger(id) && id > 0).toBe(true);
    }
  });

  it('writes bare JSON blocks whose data round-trips any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (data) => {
        const block = bareJsonBlock('message', data);
        expect(block.endsWith('\n\n')).toBe(true);
        expect(block.slice(0, -2)).not.toContain('\n\n');
        expect(JSON.parse(block)).toEqual({ event: 'message', data });
      }),
      { numRuns: 200 },
    );
  });

  it('counts failed logins per key in a one-minute window', () => {
    let now = 1_000_000;
    const limiter = new LoginLimiter(2, () => now);
    expect(limiter.retryAfterMs('a')).toBe(0);
    limiter.recordFailure('a');
    limiter.recordFailure('a');
    expect(limiter.retryAfterMs('a')).toBe(60_000);
    expect(limiter.retryAfterMs('b')).toBe(0);
    now += 59_000;
    expect(limiter.retryAfterMs('a')).toBe(1_000);
    now += 1_000;
    expect(limiter.retryAfterMs('a')).toBe(0);
    limiter.recordFailure('b');
    limiter.reset('b');
    limiter.recordFailure('b');
    expect(limiter.retryAfterMs('b')).toBe(0);
  });

  it('measures the 72-byte bcrypt limit in UTF-8 bytes', () => {
    expect(isPasswordTooLong('a'.repeat(72))).toBe(false);
    expect(isPasswordTooLong('a'.repeat(73))).toBe(true);
    expect(isPasswordTooLong('€'.repeat(24))).toBe(false);
    expect(isPasswordTooLong('€'.repeat(25))).toBe(true);
  });

  it('masks known secrets and key-shaped strings in quoted upstream bodies', () => {
    const text = redactSecrets('bad key my-custom-secret-value and sk-abcdefghijklmnop, Bearer abcdefghijklmnopqrstu', ['my-custom-secret-value']);
    expect(text).not.toContain('my-custom-secret-value');
    expect(text).not.toContain('sk-abcdefghijklmnop');
    expect(text).not.toContain('abcdefghijklmnopqrstu');
    expect(text).toContain('bad key ');
  });
});
