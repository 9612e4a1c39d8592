import { SwitchboardError } from '../../platform/errors.js';

/** Streams held at once across all keys; beyond it new posts are shed (RELIABILITY §4). */
const MAX_LOCKS = 10_000;

/**
 * The seed's one-answer-at-a-time lock (SEEDS-SPEC §4.6): a held key answers 409. The seed used
 * an unsynchronised Go map; here the check-and-set is one synchronous step on a Map, so two
 * requests can never both take a key, and the map only holds keys of answers in progress.
 */
export class ConversationLocks {
  private readonly held = new Set<string>();

  /** Takes `key` or throws 409; call the returned function exactly when the response has ended. */
  acquire(key: string): () => void {
    if (this.held.has(key)) throw new SwitchboardError('conflict', 'an answer is already streaming for this conversation');
    if (this.held.size >= MAX_LOCKS) throw new SwitchboardError('overloaded', 'too many answers in progress', { headers: { 'retry-after': '1' } });
    this.held.add(key);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held.delete(key);
    };
  }

  isHeld(key: string): boolean {
    return this.held.has(key);
  }
}
