/** Driver error codes (pg SQLSTATE, better-sqlite3 extended codes), read in one place for both databases. */
const UNIQUE_CODES = new Set(['23505', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);
const FOREIGN_KEY_CODES = new Set(['23503', 'SQLITE_CONSTRAINT_FOREIGNKEY']);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isUniqueViolation(error: unknown): boolean {
  return UNIQUE_CODES.has(codeOf(error) ?? '');
}

export function isForeignKeyViolation(error: unknown): boolean {
  return FOREIGN_KEY_CODES.has(codeOf(error) ?? '');
}

/**
 * An error about one row's own values, which no retry changes: PostgreSQL's data exceptions and
 * integrity violations (SQLSTATE classes 22 and 23), SQLite's constraint, type and size errors.
 */
export function isRowValueError(error: unknown): boolean {
  const code = codeOf(error);
  if (code === undefined) return false;
  return /^2[23][0-9A-Z]{3}$/.test(code) || code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG';
}

/** Set on an error by the store's own code when it came from reaching the database (markStoreUnreachable). */
const STORE_UNREACHABLE = Symbol('store unreachable');

/**
 * Marks an error of connecting to the database as the store's. A refused, reset or timed-out
 * connection is a plain network error (ECONNREFUSED…): the same codes come from upstreams and
 * brokers, so only the code that opened the connection can say it was the database's.
 */
export function markStoreUnreachable(error: unknown): unknown {
  if (typeof error === 'object' && error !== null) Object.defineProperty(error, STORE_UNREACHABLE, { value: true });
  return error;
}

/**
 * SQLSTATEs of a PostgreSQL server that cannot serve us now (class 08 connection exceptions,
 * 57P01-57P03 shutting down or starting, 53300 too many connections) and SQLite busy or locked.
 */
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '53300', 'SQLITE_LOCKED']);
/** pg's own errors for a connection lost or never made carry no code, only these messages. */
const UNAVAILABLE_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

/**
 * The store cannot serve us right now, through no fault of the query: callers answer 503 with
 * Retry-After for these, not 500 (RELIABILITY F22).
 */
export function isStoreUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if ((error as { [STORE_UNREACHABLE]?: boolean })[STORE_UNREACHABLE] === true) return true;
  const code = codeOf(error);
  if (code !== undefined && (UNAVAILABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code) || code.startsWith('SQLITE_BUSY'))) return true;
  return error instanceof Error && UNAVAILABLE_MESSAGES.test(error.message);
}
