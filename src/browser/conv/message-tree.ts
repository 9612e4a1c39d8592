import type { StoredMessage } from './conversation-store.js';

/**
 * The branch that ends at `leafId`, root first: what a continuation sends upstream, so editing an
 * earlier question (a new child of an older parent) forks the tree instead of rewriting it.
 * Undefined when the leaf is not in this conversation.
 */
export function branchTo(messages: readonly StoredMessage[], leafId: string): StoredMessage[] | undefined {
  const byId = new Map(messages.map((message) => [message.id, message]));
  const branch: StoredMessage[] = [];
  let current = byId.get(leafId);
  if (!current) return undefined;
  // Each step moves to a different stored message, so a corrupt cycle stops after messages.length steps.
  while (current && branch.length <= messages.length) {
    branch.push(current);
    current = current.parent_id === null ? undefined : byId.get(current.parent_id);
  }
  return branch.reverse();
}

/** ChatGPT web's `current_node`: the newest message of the conversation. */
export function currentNode(messages: readonly StoredMessage[]): StoredMessage | undefined {
  return messages.reduce<StoredMessage | undefined>((newest, message) => (newest === undefined || message.seq > newest.seq ? message : newest), undefined);
}
