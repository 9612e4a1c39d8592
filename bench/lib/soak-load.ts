import { Agent, type Dispatcher } from 'undici';
import { classify } from '../../test/support/ledger.js';
import { ledgerRequest, type ClientEntry } from '../../test/support/ledger-client.js';

/**
 * Load for the soak (RELIABILITY §3.4): every request goes through the ledger client, so the run
 * ends with a verdict, not just a throughput. Entries are classified at once and slimmed (no body,
 * no events) so a 30-minute run keeps only a few hundred bytes per request.
 */
export interface SoakClient {
  readonly url: string;
  /** Every finished request, classified. */
  readonly entries: ClientEntry[];
  /** The load's own connection pool, closed by closeIdleConnections(). */
  dispatcher: Dispatcher;
}

export function soakDispatcher(): Dispatcher {
  return new Agent({ keepAliveTimeout: 1_000, headersTimeout: 0, bodyTimeout: 0 });
}

/**
 * Closes the load's keep-alive sockets (and starts a fresh pool). Switchboard advertises a 72 s
 * keep-alive, so without this an fd count taken after a phase counts the client's idle sockets,
 * not what Switchboard itself holds.
 */
export async function closeIdleConnections(client: SoakClient): Promise<void> {
  const old = client.dispatcher;
  client.dispatcher = soakDispatcher();
  await old.close();
}

/** The harness deadline for one request (longest stream + the gateway's idle timeout + margin). */
const REQUEST_DEADLINE_MS = 30_000;

let sequence = 0;

export function chatBody(stream: boolean, content: string): Record<string, unknown> {
  return { model: 'gpt-test', stream, messages: [{ role: 'user', content }] };
}

/** Sends one request, classifies it, keeps the slim entry. */
export async function sendOne(client: SoakClient, options: { phase: string; stream: boolean; content: string }): Promise<void> {
  const id = `soak-${options.phase}-${sequence++}`;
  const entry = await ledgerRequest({ url: client.url, id, body: chatBody(options.stream, options.content), deadlineMs: REQUEST_DEADLINE_MS, dispatcher: client.dispatcher });
  client.entries.push({ id, path: entry.path, stream: entry.stream, status: entry.status, headers: {}, body: '', events: [], end: entry.end, kind: classify(entry) });
}

export interface LoopOptions {
  readonly phase: string;
  readonly concurrency: number;
  /** Time cap (epoch ms): no request starts after it. */
  readonly until: number;
  /** Count cap on requests started by all workers together. */
  readonly maxRequests: number;
  readonly stream: boolean;
  /** `user` content: the upstream script reads it (chunk count, fault choice). */
  readonly content: string;
}

/** `concurrency` workers, each sending its next request as soon as the last one ended. */
export async function closedLoop(client: SoakClient, options: LoopOptions): Promise<number> {
  let started = 0;
  const worker = async () => {
    while (Date.now() < options.until && started < options.maxRequests) {
      started++;
      await sendOne(client, options);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return started;
}

export interface PacedOptions {
  readonly phase: string;
  readonly ratePerSecond: number;
  readonly until: number;
  readonly maxRequests: number;
  /** Requests in flight above which a tick is skipped (counted), so a slow gateway cannot pile them up. */
  readonly maxInFlight: number;
  readonly content: string;
}

/** Open-loop non-stream load at a fixed rate. Returns how many were sent and how many ticks were skipped. */
export async function pacedLoop(client: SoakClient, options: PacedOptions): Promise<{ sent: number; skipped: number }> {
  const gapMs = 1000 / options.ratePerSecond;
  const pending = new Set<Promise<void>>();
  let sent = 0;
  let skipped = 0;
  for (let next = Date.now(); next < options.until && sent < options.maxRequests; next += gapMs) {
    const wait = next - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (pending.size >= options.maxInFlight) {
      skipped++;
      continue;
    }
    sent++;
    const request = sendOne(client, { phase: options.phase, stream: false, content: options.content }).finally(() => pending.delete(request));
    pending.add(request);
  }
  await Promise.all(pending);
  return { sent, skipped };
}
