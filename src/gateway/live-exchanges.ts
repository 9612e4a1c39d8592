/** Why an exchange in flight was ended by us rather than by its client or target. */
export type EndReason = 'shutdown';

/**
 * Exchanges in flight, so a graceful stop can end the ones still running at the drain deadline
 * cleanly (RELIABILITY F19): an in-band error event for streams, a 503 for calls still waiting on
 * a target, and a record for each. Also the source of the in-flight figures on /admin/debug.
 */
export class LiveExchanges {
  private readonly live = new Set<(reason: EndReason) => void>();
  /** Set once SIGTERM (Fastify close) started: new requests get 503, /health fails. */
  isDraining = false;

  /** Registers an exchange's end function; call the returned function when it settles. */
  add(end: (reason: EndReason) => void): () => void {
    this.live.add(end);
    return () => this.live.delete(end);
  }

  get size(): number {
    return this.live.size;
  }

  endAll(reason: EndReason): void {
    for (const end of [...this.live]) end(reason);
  }
}
