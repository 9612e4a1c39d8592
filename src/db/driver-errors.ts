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
