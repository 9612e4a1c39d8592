/** What the heartbeat needs of a `ws` socket (the worker's client socket or the gateway's server-side one). */
export interface HeartbeatSocket {
  readonly readyState: number;
  readonly OPEN: number;
  on(event: 'pong' | 'message', listener: () => void): unknown;
  off(event: 'pong' | 'message', listener: () => void): unknown;
  once(event: 'close', listener: () => void): unknown;
  ping(): void;
  terminate(): void;
}

/**
 * Pings `socket` every `intervalMs` and terminates it when nothing (no pong, no message) was heard
 * for a whole interval after a ping. Workers run behind NAT, whose tables drop idle connections
 * without telling either end: without this a worker would write its next stream into a socket that
 * leads nowhere, and a gateway would keep the sockets of workers that vanished. A message counts as
 * a sign of life too, so a peer that sends frames but only answers pings when it reads (a send-only
 * client) is never cut off mid-stream. An interval of 0 turns the heartbeat off. Returns a function
 * that stops the heartbeat.
 */
export function keepSocketAlive(socket: HeartbeatSocket, intervalMs: number): () => void {
  if (intervalMs <= 0) return () => undefined;
  let heard = true;
  const markHeard = () => {
    heard = true;
  };
  socket.on('pong', markHeard);
  socket.on('message', markHeard);
  const timer = setInterval(() => {
    if (socket.readyState !== socket.OPEN) return;
    if (!heard) {
      socket.terminate();
      return;
    }
    heard = false;
    socket.ping();
  }, intervalMs);
  timer.unref();
  const stop = () => {
    clearInterval(timer);
    socket.off('pong', markHeard);
    socket.off('message', markHeard);
  };
  socket.once('close', stop);
  return stop;
}
