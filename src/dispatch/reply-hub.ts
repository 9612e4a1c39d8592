import { timingSafeEqual } from 'node:crypto';

/** How a reply was received: the status `/res` answers with, and whether a frame was used. */
export type ReplyVerdict = 'ok' | 'unknown' | 'unauthorized' | 'forbidden';

/** A parked non-stream request: the first terminal reply settles it. */
export interface PendingResult {
  readonly kind: 'result';
  readonly requestId: string;
  readonly token: string;
  /** `data` exactly as the worker sent it; undefined when the reply had no `data` member. */
  settle(dataText: string | undefined): void;
  /** The worker's reply could not be taken (too large): the client gets an error with `message`. */
  fail(message: string): void;
}

/** A parked stream: frames are relayed until `end`; the worker's socket is bound at the first frame. */
export interface PendingStream {
  readonly kind: 'stream';
  readonly requestId: string;
  readonly token: string;
  frame(dataText: string | undefined, isEnd: boolean): void;
  /** The socket that was answering closed before `end` (worker crash mid-stream, F17). */
  lost(): void;
  /** A frame could not be taken (too large): the stream ends with an error saying `message`. */
  fail(message: string): void;
}

export type PendingReply = PendingResult | PendingStream;

/** Whatever identifies one worker connection (the WebSocket object). */
export type SocketKey = object;

export interface ReplyInput {
  readonly requestId: string;
  /** undefined when the reply carried no token at all. */
  readonly token: string | undefined;
  readonly dataText: string | undefined;
}

/**
 * A pending entry as the map holds it, emptied when the request is forgotten. The map sees one set
 * and one delete per request, and the backing tables it leaves behind may still point at its
 * values (platform/slot-list.ts says why that costs so much); an empty holder keeps nothing of the
 * request alive.
 */
interface Holder {
  entry: PendingReply | undefined;
}

function sameToken(expected: string, given: string): boolean {
  const left = Buffer.from(expected);
  const right = Buffer.from(given);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Pending replies of this instance by request_id (SEEDS-SPEC §1.3 [REC]): delivery never blocks,
 * the first terminal reply wins and removes the entry, so a duplicate, late or unknown reply is
 * answered 404; a reply without the request's token is refused. A stream is bound to the first
 * socket that answers it: frames from any other socket (a redelivered copy of the task started
 * by a second worker) are refused, so a client never gets a second answer (RELIABILITY F17).
 */
export class ReplyHub {
  private readonly pending = new Map<string, Holder>();
  private readonly boundTo = new Map<string, SocketKey>();
  private readonly bySocket = new Map<SocketKey, Set<string>>();

  get size(): number {
    return this.pending.size;
  }

  has(requestId: string): boolean {
    return this.pending.has(requestId);
  }

  add(entry: PendingReply): void {
    if (this.pending.has(entry.requestId)) throw new Error(`request ${entry.requestId} is already pending`);
    this.pending.set(entry.requestId, { entry });
  }

  /** Called when a stream's client left while its worker was still sending: tell that worker to stop. */
  onCancel: ((socket: SocketKey, requestId: string) => void) | undefined;

  /** Forgets a request (timed out, or its client left); later replies get 404. */
  remove(requestId: string): void {
    const wasPending = this.pending.has(requestId);
    const socket = this.forget(requestId);
    if (wasPending && socket !== undefined) this.onCancel?.(socket, requestId);
  }

  /** Drops a request and its socket binding; returns the socket it was bound to. */
  private forget(requestId: string): SocketKey | undefined {
    this.drop(requestId);
    const socket = this.boundTo.get(requestId);
    if (socket === undefined) return undefined;
    this.boundTo.delete(requestId);
    const ids = this.bySocket.get(socket);
    ids?.delete(requestId);
    if (ids?.size === 0) this.bySocket.delete(socket);
    return socket;
  }

  /** Removes and returns a pending entry, emptying its holder first. */
  private drop(requestId: string): PendingReply | undefined {
    const holder = this.pending.get(requestId);
    if (!holder) return undefined;
    const { entry } = holder;
    holder.entry = undefined;
    this.pending.delete(requestId);
    return entry;
  }

  private check(input: ReplyInput, kind: PendingReply['kind']): PendingReply | ReplyVerdict {
    const entry = this.pending.get(input.requestId)?.entry;
    if (entry?.kind !== kind) return 'unknown';
    if (!input.token) return 'unauthorized';
    if (!sameToken(entry.token, input.token)) return 'forbidden';
    return entry;
  }

  /** `POST /res`: settles a non-stream request once. */
  deliverResult(input: ReplyInput): ReplyVerdict {
    const entry = this.check(input, 'result');
    if (typeof entry === 'string') return entry;
    this.forget(input.requestId);
    (entry as PendingResult).settle(input.dataText);
    return 'ok';
  }

  /** A `/res` reply that could not be taken: its request fails now, if the token is its own. */
  failResult(input: Omit<ReplyInput, 'dataText'>, message: string): ReplyVerdict {
    const entry = this.check({ ...input, dataText: undefined }, 'result');
    if (typeof entry === 'string') return entry;
    this.forget(input.requestId);
    (entry as PendingResult).fail(message);
    return 'ok';
  }

  /** One `/res/ws` frame. */
  deliverFrame(input: ReplyInput & { readonly isEnd: boolean; readonly socket: SocketKey }): ReplyVerdict {
    const entry = this.check(input, 'stream');
    if (typeof entry === 'string') return entry;
    const bound = this.boundTo.get(input.requestId);
    if (bound === undefined) {
      this.boundTo.set(input.requestId, input.socket);
      let ids = this.bySocket.get(input.socket);
      if (!ids) this.bySocket.set(input.socket, (ids = new Set()));
      ids.add(input.requestId);
    } else if (bound !== input.socket) {
      return 'forbidden';
    }
    if (input.isEnd) this.forget(input.requestId);
    (entry as PendingStream).frame(input.dataText, input.isEnd);
    return 'ok';
  }

  /** A `/res/ws` frame that could not be taken: its stream fails now, if token and socket are its own. */
  failFrame(input: Omit<ReplyInput, 'dataText'> & { readonly socket: SocketKey }, message: string): ReplyVerdict {
    const entry = this.check({ ...input, dataText: undefined }, 'stream');
    if (typeof entry === 'string') return entry;
    const bound = this.boundTo.get(input.requestId);
    if (bound !== undefined && bound !== input.socket) return 'forbidden';
    this.forget(input.requestId);
    (entry as PendingStream).fail(message);
    return 'ok';
  }

  /** A worker socket closed: every stream it was answering and had not ended is lost. */
  socketClosed(socket: SocketKey): void {
    const ids = this.bySocket.get(socket);
    if (!ids) return;
    this.bySocket.delete(socket);
    for (const requestId of ids) {
      const entry = this.drop(requestId);
      this.boundTo.delete(requestId);
      if (entry?.kind === 'stream') entry.lost();
    }
  }
}
