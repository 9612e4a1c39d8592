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
 * Pings `socket` every `intervalMs`; once the peer has answered a ping, it is terminated when
 * nothing (no pong, no message) was heard for a whole interval after a later ping. Workers run
 * behind NAT, whose tables drop idle connections without telling either end: the pings keep the
 * mapping open, and without the check a worker would write its next stream into a socket that
 * leads nowhere and a gateway would keep the sockets of workers that vanished. A message counts as
 * a sign of life too. A peer that has never answered a ping is never cut off: the seed's Python
 * worker writes its frames with a synchronous client that reads nothing, so it answers no ping,
 * and it may sit silent until the model's whole answer is in (SEEDS-SPEC §1.6 c). An interval of 0
 * turns the heartbeat off. Returns a function that stops the heartbeat.
 */
export function keepSocketAlive(socket: HeartbeatSocket, intervalMs: number): () => void {
  if (intervalMs <= 0) return () => undefined;
  let heard = true;
  let answersPings = false;
  const onPong = () => {
    heard = true;
    answersPings = true;
  };
  const onMessage = () => {
    heard = true;
  };
  socket.on('pong', onPong);
  socket.on('message', onMessage);
  const timer = setInterval(() => {
    if (socket.readyState !== socket.OPEN) return;
    if (!heard && answersPings) {
      socket.terminate();
      return;
    }
    heard = false;
    socket.ping();
  }, intervalMs);
  timer.unref();
  const stop = () => {
    clearInterval(timer);
    socket.off('pong', onPong);
    socket.off('message', onMessage);
  };
  socket.once('close', stop);
  return stop;
}
