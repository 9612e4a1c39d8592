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
  | ({ readonly kind: 'query' } & SqliteThreadStatement)
  /** Write statements run in one transaction, all or none, within this one message. */
  | { readonly kind: 'transaction'; readonly statements: readonly SqliteThreadStatement[] }
  | { readonly kind: 'close' };

/** What a call answers (WorkerCalls adds the call's id; a failed one carries its error instead). */
export interface SqliteThreadResult {
  readonly rows: unknown[];
  readonly changes?: number | bigint;
  readonly lastInsertRowid?: number | bigint;
}
