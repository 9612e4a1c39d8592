import { SwitchboardError } from '../platform/errors.js';
import { SlotList } from '../platform/slot-list.js';

/** Why an exchange in flight was ended by us rather than by its client or target. */
export type EndReason = 'shutdown';

/** What a request gets once a graceful stop has begun: new ones at once, those still waiting on a target at the deadline. */
export function shuttingDownError(): SwitchboardError {
  return new SwitchboardError('overloaded', 'Switchboard is shutting down; retry the request.', { headers: { connection: 'close', 'retry-after': '1' } });
}

/** An exchange in flight, as a graceful stop sees it. */
export interface LiveExchange {
  end(reason: EndReason): void;
}

/**
 * Exchanges in flight, so a graceful stop can end the ones still running at the drain deadline
 * cleanly (RELIABILITY F19): an in-band error event for streams, a 503 for calls still waiting on
 * a target, and a record for each. Also the source of the in-flight figures on /admin/debug.
 */
export class LiveExchanges {
  /** Slots, not a Set: one add and one delete per request is the churn slot-list.ts is about. */
  private readonly live = new SlotList<LiveExchange>();
  /** Set once SIGTERM (Fastify close) started: new requests get 503, /health fails. */
  isDraining = false;

  /** Registers an exchange in flight; pass the slot returned to `delete` when it settles. */
  add(exchange: LiveExchange): number {
    return this.live.add(exchange);
  }

  delete(slot: number, exchange: LiveExchange): void {
    this.live.remove(slot, exchange);
  }

  get size(): number {
    return this.live.size;
  }

  endAll(reason: EndReason): void {
    for (const exchange of this.live.values()) exchange.end(reason);
  }
}
