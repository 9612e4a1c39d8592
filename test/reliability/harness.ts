import { checkLedger, collectRows, printLedger, type LedgerAllowances, type LedgerVerdict } from '../support/ledger.js';
import { ledgerRequest, type ClientEntry, type LedgerRequestOptions } from '../support/ledger-client.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { startApp, type StartAppOptions, type TestApp } from '../support/start-app.js';

/** Small deadlines (RELIABILITY §3.1.5): every fault resolves in well under a second. */
export const FAST = {
  'gateway.timeouts.connectMs': 300,
  'gateway.timeouts.firstByteMs': 500,
  'gateway.timeouts.idleMs': 400,
  'gateway.timeouts.totalMs': 3_000,
  'gateway.timeouts.clientStallMs': 400,
  'gateway.records.flushIntervalMs': 25,
  'gateway.records.heartbeatMs': 200,
} as const;

/** The harness deadline for one request: the gateway's total deadline + 2 s (§3.2 drain phase). */
export const HANG_DEADLINE_MS = 5_000;

export interface Rig {
  readonly app: TestApp;
  readonly upstreams: ScriptedUpstream[];
  close(): Promise<void>;
}

/** N named scripted upstreams (`a`, `b`, …) behind one in-process gateway. */
export async function startRig(count: number, options: StartAppOptions & { names?: string[] } = {}): Promise<Rig> {
  const names = options.names ?? ['a', 'b', 'c', 'd'].slice(0, count);
  const upstreams = await Promise.all(names.map((name) => startScriptedUpstream({ name })));
  const app = await startApp({
    ...options,
    overrides: {
      ...FAST,
      'gateway.upstreams': upstreams.map((upstream, index) => ({ endpoint: `${upstream.url}/v1`, sk: `sk-up-${names[index] ?? index}` })),
      ...options.overrides,
    },
  });
  return {
    app,
    upstreams,
    async close() {
      await app.close();
      await Promise.all(upstreams.map((upstream) => upstream.close()));
    },
  };
}

export type ScenarioRequest = Omit<LedgerRequestOptions, 'url' | 'id'> & { readonly id?: string };

export interface ScenarioOptions {
  readonly rig: Rig;
  /** Ids are `<name>-<index>`; rows are collected by this prefix. */
  readonly name: string;
  readonly requests: readonly ScenarioRequest[];
  /** Send them all at once instead of one after another. @default false */
  readonly concurrent?: boolean;
  readonly allow?: LedgerAllowances;
  readonly forbidden?: readonly string[];
  /** Extra servers whose ledgers count (e.g. an SSRF target outside the rig). */
  readonly extraUpstreams?: readonly ScriptedUpstream[];
}

export interface ScenarioResult {
  readonly verdict: LedgerVerdict;
  readonly client: readonly ClientEntry[];
}

/** Sends the requests, drains, collects the three ledgers, prints and returns the verdict. */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const { rig, name } = options;
  const send = (request: ScenarioRequest, index: number) =>
    ledgerRequest({ deadlineMs: HANG_DEADLINE_MS, ...request, url: rig.app.url, id: request.id ?? `${name}-${index}` });
  const client: ClientEntry[] = [];
  if (options.concurrent) client.push(...(await Promise.all(options.requests.map(send))));
  else for (const [index, request] of options.requests.entries()) client.push(await send(request, index));
  const servers = [...rig.upstreams, ...(options.extraUpstreams ?? [])];
  const upstream = servers.flatMap((server) => server.requests).filter((request) => request.requestId?.startsWith(`${name}-`) === true);
  const rows = await collectRows(rig.app.app.store.db, { prefix: `${name}-`, served: upstream.map((request) => request.requestId!) });
  const verdict = checkLedger({ client, upstream, rows, allow: options.allow, forbidden: options.forbidden });
  return { verdict: printLedger(`scenario ${name}`, verdict), client };
}

/** A chat body; `stream` toggles SSE. */
export const chat = (stream: boolean, content = 'hello'): Record<string, unknown> => ({ model: 'gpt-test', stream, messages: [{ role: 'user', content }] });
