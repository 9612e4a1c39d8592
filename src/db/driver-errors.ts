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

/**
 * The store cannot serve us right now, through no fault of the query: a connection refused, reset
 * or timed out, a PostgreSQL server shutting down or out of connections (SQLSTATE class 08, 57P0x,
 * 53300), SQLite busy or locked. pg's own errors for a lost connection carry no code, only these
 * messages. Callers answer 503 with Retry-After for these, not 500 (RELIABILITY F22).
 */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300', 'SQLITE_LOCKED']);
const UNAVAILABLE_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

export function isStoreUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined && (UNAVAILABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code) || code.startsWith('SQLITE_BUSY'))) return true;
  return error instanceof Error && UNAVAILABLE_MESSAGES.test(error.message);
}
