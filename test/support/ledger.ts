import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/database.js';
import type { ClientEntry } from './ledger-client.js';
import type { RecordedRequest } from './scripted-upstream.js';

/**
 * The ledger checker (RELIABILITY §3.2): classifies every request as the client saw it, then
 * compares the client, upstream and database ledgers. Tests assert its verdict, never a timing.
 */
export type RequestClass =
  | 'ok'
  | 'clean-error'
  | 'client-gone'
  | 'reset'
  | 'refused'
  | 'truncated'
  | 'hang'
  | 'duplicate'
  | 'misrouted'
  | 'unshaped-error';

export type SetCheck = 'lost' | 'unexpected' | 'double-logged' | 'pending' | 'token-mismatch' | 'record-mismatch';

const CLASSES: readonly RequestClass[] = ['ok', 'clean-error', 'client-gone', 'reset', 'refused', 'truncated', 'hang', 'duplicate', 'misrouted', 'unshaped-error'];
const CHECKS: readonly SetCheck[] = ['lost', 'unexpected', 'double-logged', 'pending', 'token-mismatch', 'record-mismatch'];
const ALWAYS_VIOLATIONS = new Set<string>(['truncated', 'hang', 'duplicate', 'misrouted', 'unshaped-error', 'unexpected', 'double-logged', 'token-mismatch', 'record-mismatch']);

/** The columns of a request-log row the checker reads. */
export interface LedgerRow {
  readonly id: string;
  readonly outcome: string;
  readonly status: number;
  readonly completion_tokens: number | null;
  readonly usage_estimated?: number;
}

export interface LedgerAllowances {
  /** Connection resets are expected (the gateway process is killed). */
  readonly reset?: boolean;
  /** Connection refused is expected (the gateway stopped listening). */
  readonly refused?: boolean;
  /** Served requests without a row that are tolerated (SIGKILL: the last flush window). */
  readonly lost?: number;
  /** `pending` rows are tolerated (checked before reconciliation). */
  readonly pending?: boolean;
}

export interface LedgerInput {
  readonly client: readonly ClientEntry[];
  /** Every request the scripted upstreams (and worker simulators) received. */
  readonly upstream: readonly RecordedRequest[];
  /** The request-log rows of this scenario. */
  readonly rows: readonly LedgerRow[];
  /** Names of servers no request may ever reach (SSRF "evil" hosts). */
  readonly forbidden?: readonly string[];
  readonly allow?: LedgerAllowances;
}

export interface LedgerVerdict {
  readonly classes: ReadonlyMap<RequestClass, readonly string[]>;
  readonly checks: ReadonlyMap<SetCheck, readonly string[]>;
  /** `class: ids` for every violated class or check; empty when the scenario passed. */
  readonly violations: readonly string[];
  /** One line per class and check with counts and the first 5 ids. */
  readonly report: string;
  count(name: RequestClass | SetCheck): number;
}

function parseJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `/v1`: OpenAI's `{"error":{"message","type","code"}}`; other surfaces: a seed `{"error": …}`. */
function hasErrorShape(entry: ClientEntry): boolean {
  const json = parseJson(entry.body);
  if (!entry.path.startsWith('/v1') && !entry.path.startsWith('/api/v1')) return json !== undefined && json?.error !== undefined;
  const error = json?.error;
  return typeof error?.message === 'string' && typeof error?.type === 'string' && 'code' in error;
}

const isErrorEvent = (data: string) => parseJson(data)?.error !== undefined;
const hasFinish = (events: readonly string[]) => events.some((data) => parseJson(data)?.choices?.some((choice: any) => choice?.finish_reason) === true);

function classifyStream(entry: ClientEntry): RequestClass {
  const doneAt = entry.events.indexOf('[DONE]');
  const dones = entry.events.filter((data) => data === '[DONE]').length;
  const errors = entry.events.filter(isErrorEvent).length;
  if (dones > 1 || errors > 1 || (dones > 0 && errors > 0) || (doneAt !== -1 && doneAt < entry.events.length - 1)) return 'duplicate';
  if (errors === 1) return 'clean-error';
  if (entry.end === 'reset') return 'reset';
  if (dones === 1 && doneAt > 0 && hasFinish(entry.events)) return 'ok';
  return 'truncated';
}

/** The class of one request from the client's side alone (RELIABILITY §3.2 table). */
export function classify(entry: ClientEntry): RequestClass {
  if (entry.end === 'deadline') return 'hang';
  if (entry.end === 'client-gone') return 'client-gone';
  if (entry.end === 'refused') return 'refused';
  if (entry.status === undefined) return 'reset';
  if (entry.status >= 400) {
    if (entry.end === 'reset') return 'reset';
    return hasErrorShape(entry) ? 'clean-error' : 'unshaped-error';
  }
  const contentType = String(entry.headers['content-type'] ?? '');
  if (contentType.startsWith('text/event-stream')) return classifyStream(entry);
  if (entry.end === 'reset') return 'reset';
  const json = parseJson(entry.body);
  if (json === undefined) return 'truncated';
  if (entry.path.endsWith('/chat/completions') && !Array.isArray(json.choices)) return 'truncated';
  return 'ok';
}

function group<T>(items: readonly T[], key: (item: T) => string | undefined): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const name = key(item);
    if (name === undefined) continue;
    const list = groups.get(name) ?? [];
    list.push(item);
    groups.set(name, list);
  }
  return groups;
}

function tokenMismatch(row: LedgerRow, attempts: readonly RecordedRequest[]): boolean {
  if (row.outcome === 'ok') {
    const served = attempts.filter((attempt) => attempt.completed).at(-1);
    if (served?.tokensBilled === undefined) return false;
    return row.completion_tokens !== served.tokensBilled;
  }
  // A cut or cancelled stream: the gateway's estimate can never exceed what the upstream produced.
  if (row.usage_estimated !== 1 || row.completion_tokens === null) return false;
  return row.completion_tokens > attempts.reduce((sum, attempt) => sum + attempt.contentSent, 0);
}

function recordMismatch(kind: RequestClass, row: LedgerRow | undefined): boolean {
  if (!row || row.outcome === 'pending') return false;
  if (kind === 'ok') return row.outcome !== 'ok' || row.status >= 400;
  if (kind === 'clean-error') return row.outcome === 'ok' && row.status < 400;
  return false;
}

const line = (name: string, ids: readonly string[], isViolation: boolean) =>
  `[ledger] ${name.padEnd(15)} ${String(ids.length).padStart(5)}${isViolation && ids.length > 0 ? '  VIOLATION' : ''}  ${ids.slice(0, 5).join(' ')}`;

export function checkLedger(input: LedgerInput): LedgerVerdict {
  const allow = input.allow ?? {};
  const forbidden = new Set(input.forbidden ?? []);
  const byUpstreamId = group(input.upstream, (request) => request.requestId);
  const rowsById = group(input.rows, (row) => row.id);
  const classes = new Map<RequestClass, string[]>(CLASSES.map((name) => [name, []]));
  const checks = new Map<SetCheck, string[]>(CHECKS.map((name) => [name, []]));
  const attempted = new Set(input.client.map((entry) => entry.id));

  for (const entry of input.client) {
    const attempts = byUpstreamId.get(entry.id) ?? [];
    const kind = attempts.some((attempt) => forbidden.has(attempt.upstream)) ? 'misrouted' : (entry.kind ?? classify(entry));
    classes.get(kind)!.push(entry.id);
    if (recordMismatch(kind, rowsById.get(entry.id)?.[0])) checks.get('record-mismatch')!.push(entry.id);
  }
  for (const request of input.upstream) {
    if (request.requestId !== undefined && forbidden.has(request.upstream) && !attempted.has(request.requestId)) classes.get('misrouted')!.push(request.requestId);
  }
  for (const id of byUpstreamId.keys()) {
    const rows = rowsById.get(id) ?? [];
    if (!rows.some((row) => row.outcome !== 'pending')) checks.get(rows.length > 0 ? 'pending' : 'lost')!.push(id);
  }
  for (const [id, rows] of rowsById) {
    if (!attempted.has(id)) checks.get('unexpected')!.push(id);
    if (rows.filter((row) => row.outcome !== 'pending').length > 1) checks.get('double-logged')!.push(id);
    const row = rows[0]!;
    if (tokenMismatch(row, byUpstreamId.get(id) ?? [])) checks.get('token-mismatch')!.push(id);
  }

  const isViolation = (name: string, ids: readonly string[]) => {
    if (ids.length === 0) return false;
    if (ALWAYS_VIOLATIONS.has(name)) return true;
    if (name === 'reset') return !allow.reset;
    if (name === 'refused') return !allow.refused;
    if (name === 'pending') return !allow.pending;
    if (name === 'lost') return ids.length > (allow.lost ?? 0);
    return false;
  };
  const violations: string[] = [];
  const lines: string[] = [];
  for (const [name, ids] of [...classes, ...checks] as [string, string[]][]) {
    const violated = isViolation(name, ids);
    if (violated) violations.push(`${name}: ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ` (+${ids.length - 5})` : ''}`);
    lines.push(line(name, ids, violated));
  }
  lines.push(`[ledger] verdict ${violations.length === 0 ? 'PASS' : 'FAIL'}: ${input.client.length} requests, ${byUpstreamId.size} served, ${input.rows.length} rows, ${violations.length} violations`);
  return {
    classes,
    checks,
    violations,
    report: lines.join('\n'),
    count: (name) => (classes.get(name as RequestClass) ?? checks.get(name as SetCheck) ?? []).length,
  };
}

/**
 * Drain phase: waits (bounded) until every served id has a terminal row, then returns every row
 * whose client request id (the x-request-id the ledger client sent) starts with `prefix`, so rows
 * nobody asked for show up as `unexpected`. A row's `id` here is that client request id.
 */
export async function collectRows(db: Kysely<Database>, options: { prefix: string; served: Iterable<string>; timeoutMs?: number }): Promise<LedgerRow[]> {
  const served = new Set(options.served);
  const until = Date.now() + (options.timeoutMs ?? 5_000);
  const read = () =>
    db
      .selectFrom('records')
      .select(['client_request_id as id', 'outcome', 'status', 'completion_tokens', 'usage_estimated'])
      .where('client_request_id', 'like', `${options.prefix}%`)
      .execute() as Promise<LedgerRow[]>;
  for (let poll = 0; poll < 500; poll++) {
    // The store may be the fault under test (F22): a failed read is retried, not fatal.
    const rows = await read().catch(() => undefined);
    if (!rows) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      continue;
    }
    const terminal = new Set(rows.filter((row) => row.outcome !== 'pending').map((row) => row.id));
    if ([...served].every((id) => terminal.has(id)) || Date.now() > until) return rows;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return read();
}

/** Writes the report (one line per class) to the test output, and returns the verdict. */
export function printLedger(title: string, verdict: LedgerVerdict): LedgerVerdict {
  process.stdout.write(`${title}\n${verdict.report}\n`);
  return verdict;
}
