import { describe, expect, it } from 'vitest';
import { isStoreUnavailable, markStoreUnreachable } from '../../src/db/driver-errors.js';
import { toSwitchboardError } from '../../src/platform/errors.js';

const withCode = (code: string, message = 'driver error') => Object.assign(new Error(message), { code });

describe('a store that cannot serve us now (RELIABILITY F22)', () => {
  it.each([
    ['a refused connection the pool marked as the store\'s', markStoreUnreachable(withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'))],
    ['a reset connection the pool marked as the store\'s', markStoreUnreachable(withCode('ECONNRESET'))],
    ['PostgreSQL shutting down (57P01)', withCode('57P01', 'terminating connection due to administrator command')],
    ['PostgreSQL starting up (57P03)', withCode('57P03')],
    ['too many connections (53300)', withCode('53300')],
    ['a connection exception (08006)', withCode('08006')],
    ["pg's lost connection, which has no code", new Error('Connection terminated unexpectedly')],
    ["pg-pool's connect timeout", new Error('timeout exceeded when trying to connect')],
    ['SQLite busy', withCode('SQLITE_BUSY', 'database is locked')],
    ['SQLite busy, extended code', withCode('SQLITE_BUSY_SNAPSHOT')],
  ])('%s is a 503 with Retry-After', (_name, error) => {
    expect(isStoreUnavailable(error)).toBe(true);
    const rendered = toSwitchboardError(error);
    expect(rendered).toMatchObject({ code: 'store_unavailable', status: 503, headers: { 'retry-after': '1' } });
    // The driver's text (hosts, statements) is never what the client reads.
    expect(rendered.message).toBe('The database is unavailable; retry shortly.');
  });

  it.each([
    ['a unique violation', withCode('23505')],
    ['an undefined table', withCode('42P01')],
    ['a SQLite constraint', withCode('SQLITE_CONSTRAINT_UNIQUE')],
    ['a plain error', new Error('something else')],
    // The same network codes come from upstreams and brokers: only a mark says it was the database.
    ['a refused connection nobody marked', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:6379')],
    ['not an error at all', 'text'],
  ])('%s is not', (_name, error) => {
    expect(isStoreUnavailable(error)).toBe(false);
    expect(toSwitchboardError(error).code).not.toBe('store_unavailable');
  });
});
