import { Readable } from 'node:stream';

/** Seed 000 §1.3: a comment line written when the stream has been quiet for keepAliveMs. */
const KEEP_ALIVE = ': keep-alive\n\n';
const DONE = 'data: [DONE]\n\n';

export interface StreamRelayOptions {
  readonly keepAliveMs: number;
  /** No worker frame for this long ends the stream with an error (the seed had no limit). */
  readonly idleMs: number;
  /** Most bytes held for a reader that is behind (gateway `maxBufferedBytes`, R7). */
  readonly maxBufferedBytes: number;
  /** Once over that, a reader that takes nothing for this long loses the stream (gateway `clientStallMs`, F11). */
  readonly clientStallMs: number;
  /** The reader fell behind past maxBufferedBytes: the worker must stop sending (its frames would have nowhere to go). */
  readonly onOverflow: () => void;
  /** Runs once when the body ends, fails or is destroyed by its reader. */
  readonly onClose: () => void;
}

/** CR and LF end an SSE line; in JSON text they can only be whitespace between tokens. */
const LINE_BREAK = /[\r\n]/;
const LINE_BREAKS = /[\r\n]/g;

/**
 * A frame's `data` as one SSE line: byte for byte, except that line breaks between JSON tokens
 * (pretty-printed JSON, such as OpenAI's error bodies) are dropped. Written as they are, they would
 * end the `data:` line and the client would read a cut JSON text.
 */
function oneLine(dataText: string): string {
  return LINE_BREAK.test(dataText) ? dataText.replace(LINE_BREAKS, '') : dataText;
}

/** Body errors the gateway turns into a record outcome and one in-band error event (R1). */
function bodyError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * The SSE body of one worker-served stream, fed by `/res/ws` frames (SEEDS-SPEC §1.3): each
 * frame's `data` is written as `data: <exact bytes>\n\n` (on one line: oneLine); `end` writes
 * its `data` first if present, then `data: [DONE]\n\n`. A stream whose worker goes quiet or
 * whose worker socket closes fails with an error (no [DONE]) that the gateway renders in-band.
 *
 * Bounded for slow readers (R7): the gateway pauses this body while its client's queue is full,
 * but a worker cannot be slowed for one stream (its socket carries others), so frames would pile
 * up here. Past maxBufferedBytes the worker is told to stop and nothing more is taken; what is
 * held waits for the reader. A stalled /v1 client is then cut by the gateway's own stall rule
 * (record: client_stalled); a reader that catches up gets the held bytes and then an error, and
 * one that takes nothing for clientStallMs loses the stream (in-process readers have no other
 * stall rule).
 */
export class StreamRelay {
  readonly body: Readable;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private isOverflowed = false;
  private heldAtCheck = 0;

  constructor(private readonly options: StreamRelayOptions) {
    // highWaterMark 0: Node then asks for more (onRead) only once the queue is empty, which is
    // how an overflowed stream learns its reader has everything. Frames are pushed whatever
    // push() answers; the cap above is what bounds them.
    this.body = new Readable({ highWaterMark: 0, read: () => this.onRead() });
    // The body can fail before the gateway reads it (client gone during the publish); the
    // gateway's own pipeline listens for errors once it has the body.
    this.body.on('error', () => undefined);
    this.body.once('close', () => {
      this.clearTimers();
      options.onClose();
    });
    this.armKeepAlive();
    this.armIdle();
  }

  private clearTimers(): void {
    clearTimeout(this.keepAliveTimer);
    clearTimeout(this.idleTimer);
    clearTimeout(this.stallTimer);
  }

  private armKeepAlive(): void {
    clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = setTimeout(() => this.write(KEEP_ALIVE), this.options.keepAliveMs);
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.fail(bodyError('The worker stopped sending data.', 'ERR_SWITCHBOARD_IDLE'));
    }, this.options.idleMs);
  }

  private write(text: string): void {
    if (this.body.destroyed || this.body.readableEnded) return;
    this.body.push(text);
    this.armKeepAlive();
  }

  /** The reader wants more: after an overflow, an empty queue means it has everything there will be. */
  private onRead(): void {
    if (this.isOverflowed && this.body.readableLength === 0) {
      this.fail(bodyError('The client read the stream more slowly than the worker wrote it.', 'ERR_SWITCHBOARD_CLIENT_SLOW'));
    }
  }

  /** The gateway's rule for its own queue: progress, not emptiness, is what counts. */
  private checkStall(): void {
    const held = this.body.readableLength;
    if (held < this.heldAtCheck) {
      this.heldAtCheck = held;
      this.stallTimer = setTimeout(() => this.checkStall(), this.options.clientStallMs);
      return;
    }
    this.fail(bodyError('The client stopped reading the stream.', 'ERR_SWITCHBOARD_CLIENT_STALLED'));
  }

  private overflow(): void {
    this.isOverflowed = true;
    this.clearTimers();
    this.heldAtCheck = this.body.readableLength;
    // clientStallMs 0: no stall rule; the reader keeps what is held (bounded) for as long as it stays.
    if (this.options.clientStallMs > 0) this.stallTimer = setTimeout(() => this.checkStall(), this.options.clientStallMs);
    this.options.onOverflow();
  }

  /** One worker frame; `dataText` is the frame's `data` exactly as sent (undefined when absent). */
  frame(dataText: string | undefined, isEnd: boolean): void {
    if (this.isOverflowed) return;
    if (dataText !== undefined && dataText !== 'null') this.write(`data: ${oneLine(dataText)}\n\n`);
    if (!isEnd) {
      // A last frame is kept even past the cap: the answer is then complete and nothing more comes.
      if (this.body.readableLength > this.options.maxBufferedBytes) this.overflow();
      else this.armIdle();
      return;
    }
    this.write(DONE);
    this.clearTimers();
    this.body.push(null);
  }

  /** The worker's socket closed before `end` (F17): the client gets an error, never a second answer. */
  lost(): void {
    this.fail(bodyError('The worker connection closed before the stream ended.', 'ERR_SWITCHBOARD_WORKER_LOST'));
  }

  /** A worker frame could not be taken (too large): the client gets an error, not a stream with a gap. */
  refused(message: string): void {
    this.fail(bodyError(message, 'ERR_SWITCHBOARD_WORKER_FRAME_REFUSED'));
  }

  fail(error: Error): void {
    this.clearTimers();
    if (!this.body.destroyed) this.body.destroy(error);
  }
}
