import type { ServerResponse } from 'node:http';

/** An AbortSignal for "the client left", and how to stop watching. */
export interface ClientGoneWatch {
  readonly signal: AbortSignal;
  /** Stops watching (idempotent): the response finished, or a relay that watches for itself took it. */
  stop(): void;
}

/**
 * Aborts when the client's connection closes before its response finished, and is aborted at
 * once when it closed before this was called (its close event has fired and will not fire again).
 * For in-process callers of the gateway (chat, /chat, /conv), which pass an AbortSignal; the /v1
 * proxy has a lighter signal of its own (gateway/client-signal.ts).
 */
export function watchClientGone(raw: ServerResponse): ClientGoneWatch {
  const controller = new AbortController();
  const onClose = () => {
    if (!raw.writableFinished) controller.abort();
  };
  raw.on('close', onClose);
  if (raw.destroyed) onClose();
  return { signal: controller.signal, stop: () => raw.off('close', onClose) };
}
