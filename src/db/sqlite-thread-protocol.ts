/** Messages between the main thread and the SQLite writer thread (sqlite-thread-worker.ts). */

export interface SqliteThreadSetup {
  readonly file: string;
  /** How long a statement waits for another connection's lock before SQLITE_BUSY. */
  readonly busyTimeoutMs: number;
}

export interface SqliteThreadStatement {
  readonly sql: string;
  readonly parameters: readonly unknown[];
}

export type SqliteThreadRequest =
  | ({ readonly kind: 'query'; readonly id: number } & SqliteThreadStatement)
  /** Write statements run in one transaction, all or none, within this one message. */
  | { readonly kind: 'transaction'; readonly id: number; readonly statements: readonly SqliteThreadStatement[] }
  | { readonly kind: 'close' };

/** An error as it crosses the thread boundary: structured clone keeps neither class nor `code`. */
export interface SqliteThreadError {
  readonly name: string;
  readonly message: string;
  readonly code: string | undefined;
}

export type SqliteThreadReply =
  | { readonly id: number; readonly rows: unknown[]; readonly changes?: number | bigint; readonly lastInsertRowid?: number | bigint }
  | { readonly id: number; readonly error: SqliteThreadError };
