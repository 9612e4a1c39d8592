import { lookup, reverse } from 'node:dns/promises';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';

/** DNS lookups for the callback host never hold a request longer than this. */
const DNS_TIMEOUT_MS = 2_000;
const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);

export interface CallbackEndpointOptions {
  /** `server.publicUrl`: used as given. */
  readonly publicUrl: string | undefined;
  /** `dispatch.endpointHost` (ENDPOINT_HOST): replaces the host part only. */
  readonly endpointHost: string | undefined;
  /** The address the server binds. */
  readonly listenHost: string;
  /** The server's bound addresses (known after listen; tests listen on port 0). */
  readonly addresses: () => readonly AddressInfo[];
}

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([promise, new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('DNS timeout')), DNS_TIMEOUT_MS).unref())]);
}

/**
 * Seed 000's FQDN rule (SEEDS-SPEC §1.2): hostname → its IPs → the first reverse name without its
 * trailing dot. Where the seed exits, we fall back to the hostname if it resolves, then 127.0.0.1.
 */
export async function findFqdn(): Promise<string> {
  const name = hostname();
  let addresses: { address: string }[];
  try {
    addresses = await withTimeout(lookup(name, { all: true }));
  } catch {
    return '127.0.0.1';
  }
  for (const { address } of addresses) {
    try {
      const [first] = await withTimeout(reverse(address));
      if (first) return first.replace(/\.$/, '');
    } catch {
      // No PTR record for this address; try the next one.
    }
  }
  return name;
}

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * Where workers send replies for this instance: `http://<host>:<port>/res` and
 * `ws://<host>:<port>/res/ws`. The base is `server.publicUrl` when set; otherwise the host is
 * ENDPOINT_HOST, else the bound address when the server binds one address, else the FQDN rule,
 * and the port is the one actually bound. Computed once, at the first task.
 */
export class CallbackEndpoint {
  private base: Promise<string> | undefined;

  constructor(private readonly options: CallbackEndpointOptions) {}

  private async computeBase(): Promise<string> {
    const { publicUrl, endpointHost, listenHost } = this.options;
    if (publicUrl) return publicUrl.replace(/\/+$/, '');
    const address = this.options.addresses()[0];
    if (!address) throw new Error('the server is not listening yet');
    const host = endpointHost ?? (WILDCARD_HOSTS.has(listenHost) ? await findFqdn() : listenHost);
    return `http://${hostForUrl(host)}:${address.port}`;
  }

  private resolveBase(): Promise<string> {
    if (!this.base) {
      this.base = this.computeBase();
      this.base.catch(() => (this.base = undefined));
    }
    return this.base;
  }

  /** The URL a task names for its replies. */
  async forTask(stream: boolean): Promise<string> {
    const base = await this.resolveBase();
    return stream ? `${base.replace(/^http/, 'ws')}/res/ws` : `${base}/res`;
  }
}
