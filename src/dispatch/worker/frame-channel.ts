import WebSocket from 'ws';
import { wsFrameText } from '../ws-frame-text.js';
import { keepSocketAlive } from '../ws-heartbeat.js';

/** A reply socket that does not open within this long is given up (its streams are aborted). */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Same cap as the gateway's frames (RELIABILITY §4). */
const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

export interface FrameChannelOptions {
  /** Ping interval; a gateway not heard from for a whole interval after a ping is dropped (ws-heartbeat.ts). */
  readonly heartbeatMs: number;
}

/** One stream answer on a shared channel. */
export interface StreamLease {
  /** Aborted when the gateway cancels this request or the channel's socket is gone. */
  readonly signal: AbortSignal;
  /** Sends one frame; frames sent before the socket is open are queued, after it is gone dropped. */
  send(frame: string): void;
  /** Resolves once every frame sent so far went out (or the socket is gone); then stops listening for cancels. */
  release(): Promise<void>;
}

/** `{"request_id","cancel":true}` (reply-routes.ts sendCancel); undefined for anything else. */
function cancelledId(text: string): string | undefined {
  try {
    const message = JSON.parse(text) as { request_id?: unknown; cancel?: unknown };
    return message.cancel === true && typeof message.request_id === 'string' ? message.request_id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One persistent WebSocket to a gateway's `/res/ws`, shared by every stream answered to it
 * (SEEDS-SPEC §1.3: one socket may carry frames for many request_ids), so a stream costs no
 * handshake. Frames are routed by the request_id inside them; the gateway's cancel messages are
 * routed back the same way. When the socket closes (the gateway stopped, or stopped answering
 * pings), every stream still using it is aborted and the channel is done: the next stream opens a
 * new one.
 */
export class FrameChannel {
  private readonly socket: WebSocket;
  private readonly queue: { frame: string; sent: () => void }[] = [];
  private readonly leases = new Map<string, Set<AbortController>>();
  readonly closed: Promise<void>;

  constructor(endpoint: string, options: FrameChannelOptions) {
    // Seed Python worker: an http:// stream endpoint is the same place over ws://.
    this.socket = new WebSocket(endpoint.replace(/^http/, 'ws'), { maxPayload: MAX_PAYLOAD_BYTES, handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    void this.closed.then(() => this.abortAll());
    this.socket.on('error', () => undefined);
    this.socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (isBinary) return;
      const requestId = cancelledId(wsFrameText(data));
      if (requestId === undefined) return;
      for (const controller of this.leases.get(requestId) ?? []) controller.abort();
    });
    this.socket.once('open', () => {
      keepSocketAlive(this.socket, options.heartbeatMs);
      for (const { frame, sent } of this.queue.splice(0)) this.socket.send(frame, sent);
    });
  }

  get isGone(): boolean {
    return this.socket.readyState === WebSocket.CLOSING || this.socket.readyState === WebSocket.CLOSED;
  }

  private abortAll(): void {
    this.queue.length = 0;
    for (const controllers of this.leases.values()) for (const controller of controllers) controller.abort();
  }

  private write(frame: string): Promise<void> {
    return new Promise((resolve) => {
      const sent = () => resolve();
      if (this.socket.readyState === WebSocket.OPEN) this.socket.send(frame, sent);
      else if (this.socket.readyState === WebSocket.CONNECTING) this.queue.push({ frame, sent });
      else resolve();
    });
  }

  /** Starts answering `requestId` on this channel. */
  open(requestId: string): StreamLease {
    const controller = new AbortController();
    let controllers = this.leases.get(requestId);
    if (!controllers) this.leases.set(requestId, (controllers = new Set()));
    controllers.add(controller);
    if (this.isGone) controller.abort();
    let lastSent = Promise.resolve();
    return {
      signal: controller.signal,
      send: (frame) => {
        lastSent = this.write(frame);
      },
      release: async () => {
        await Promise.race([lastSent, this.closed]);
        controllers.delete(controller);
        if (controllers.size === 0 && this.leases.get(requestId) === controllers) this.leases.delete(requestId);
      },
    };
  }

  /** Closes after every sent frame went out (ws writes the close frame after queued data). */
  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CONNECTING) {
      await new Promise<void>((resolve) => {
        this.socket.once('open', () => resolve());
        this.socket.once('close', () => resolve());
      });
    }
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close(1000);
    await this.closed;
  }

  /** Drops the connection at once, as a crashing process would. */
  terminate(): void {
    this.socket.terminate();
  }
}
