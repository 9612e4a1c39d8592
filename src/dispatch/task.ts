import { CREDENTIAL_HEADERS } from '../platform/http-headers.js';

/**
 * The message a worker receives (SEEDS-SPEC §1.4), fields in the seed's order, plus
 * `reply_token`: the per-request secret a worker must send back with every reply (RELIABILITY
 * §2.5, S6). The client's Authorization and Cookie never leave the gateway.
 */
export interface Task {
  readonly request_id: string;
  readonly stream: boolean;
  /** The client's request body, as it sent it. */
  readonly data: unknown;
  /** `http://<host>:<port>/res` (non-stream) or `ws://<host>:<port>/res/ws` (stream). */
  readonly endpoint: string;
  readonly metadata: { readonly headers: Readonly<Record<string, readonly string[]>> };
  readonly reply_token: string;
}

/** Go's textproto.CanonicalMIMEHeaderKey: `content-type` → `Content-Type`; names with odd characters stay as they are. */
export function canonicalHeaderName(name: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(name)) return name;
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_match, dash: string, letter: string) => dash + letter.toUpperCase());
}

/** Seed 000 copies every client header; we copy all but the credentials, Go-style (arrays of values). */
export function taskHeaders(headers: Readonly<Record<string, string>>): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (CREDENTIAL_HEADERS.has(name.toLowerCase())) continue;
    const canonical = canonicalHeaderName(name);
    (result[canonical] ??= []).push(value);
  }
  return result;
}

export interface TaskInput {
  readonly requestId: string;
  readonly stream: boolean;
  /** The client's JSON body bytes (already known to parse), embedded as they are. */
  readonly body: Buffer;
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly replyToken: string;
}

/** Serialises a task; `data` is the client's body text, not a re-serialisation of it. */
export function encodeTask(input: TaskInput): Buffer {
  const head = `{"request_id":${JSON.stringify(input.requestId)},"stream":${String(input.stream)},"data":`;
  const tail = `,"endpoint":${JSON.stringify(input.endpoint)},"metadata":${JSON.stringify({ headers: taskHeaders(input.headers) })},"reply_token":${JSON.stringify(input.replyToken)}}`;
  return Buffer.concat([Buffer.from(head), Buffer.from(input.body.toString('utf8').trim()), Buffer.from(tail)]);
}

/** A task as a worker reads it; undefined when the message is not a task (never fatal, unlike seed Go). */
export function decodeTask(payload: Buffer): Task | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const task = value as Partial<Task>;
  if (typeof task.request_id !== 'string' || typeof task.endpoint !== 'string') return undefined;
  return {
    request_id: task.request_id,
    stream: task.stream === true,
    data: task.data,
    endpoint: task.endpoint,
    metadata: { headers: task.metadata?.headers ?? {} },
    reply_token: typeof task.reply_token === 'string' ? task.reply_token : '',
  };
}
