/**
 * Preloaded into a server under test (`node --import …/loop-delay-probe.ts`): measures its event
 * loop delay and answers the bench over the IPC channel. `{ type: 'bench:loop-delay', reset }`
 * gets the figures since the last reset (ms). Nothing happens without an IPC channel.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

interface LoopDelayRequest {
  readonly type: 'bench:loop-delay';
  readonly id: number;
  readonly reset: boolean;
}

function isRequest(message: unknown): message is LoopDelayRequest {
  return (message as Partial<LoopDelayRequest> | null)?.type === 'bench:loop-delay';
}

if (process.send) {
  // Node's default 10 ms resolution: a libuv timer on the server's own loop, so a finer one would
  // wake an idle server often enough to show up in its CPU per request at light load.
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const ms = (nanoseconds: number) => nanoseconds / 1e6;
  process.on('message', (message: unknown) => {
    if (!isRequest(message)) return;
    const reply = {
      type: 'bench:loop-delay',
      id: message.id,
      p50: ms(histogram.percentile(50)),
      p99: ms(histogram.percentile(99)),
      max: ms(histogram.max),
      count: histogram.count,
    };
    if (message.reset) histogram.reset();
    process.send?.(reply);
  });
  // The channel must not keep a server alive that is shutting down.
  process.channel?.unref();
}
