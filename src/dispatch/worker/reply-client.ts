import { request } from 'undici';
import WebSocket from 'ws';

/** A reply POST that gets no answer within this long is given up. */
const REPLY_TIMEOUT_MS = 10_000;
/** Same cap as the gateway's frames (RELIABILITY §4). */
const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

export interface ReplyAddress {
  readonly requestId: string;
  readonly replyToken: string;
}

/** `{"request_id","reply_token",…,"data":<raw>}`: `data` is embedded as text, never re-serialised. */
export function replyJson(address: ReplyAddress, fields: { end?: boolean; dataText?: string | undefined }): string {
  const head = `{"request_id":${JSON.stringify(address.requestId)},"reply_token":${JSON.stringify(address.replyToken)}`;
  const end = fields.end === undefined ? '' : `,"end":${String(fields.end)}`;
  const data = fields.dataText === undefined ? '' : `,"data":${fields.dataText}`;
  return `${head}${end}${data}}`;
}

/** `POST <endpoint>` (SEEDS-SPEC §1.5 non-stream); resolves with the gateway's status. */
export async function postResult(endpoint: string, address: ReplyAddress, dataText: string): Promise<number> {
  const response = await request(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: replyJson(address, { dataText }),
    headersTimeout: REPLY_TIMEOUT_MS,
    bodyTimeout: REPLY_TIMEOUT_MS,
  });
  await response.body.dump();
  return response.statusCode;
}

/**
 * One WebSocket to `/res/ws` for one stream reply. Frames sent before the socket is open are
 * queued (the seed TS worker did not wait for `open` either); `closed` settles when the socket
 * is gone, which tells the caller to stop working for a gateway that will not listen.
 */
export class FrameSocket {
  private readonly socket: WebSocket;
  private readonly queue: string[] = [];
  readonly closed: Promise<void>;

  /** `onCancel`: the gateway said nobody reads this request's stream any more. */
  constructor(endpoint: string, onCancel: (requestId: string) => void = () => undefined) {
    // Seed Python worker: an http:// stream endpoint is the same place over ws://.
    this.socket = new WebSocket(endpoint.replace(/^http/, 'ws'), { maxPayload: MAX_PAYLOAD_BYTES, handshakeTimeout: REPLY_TIMEOUT_MS });
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    this.socket.on('error', () => undefined);
    this.socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (isBinary) return;
      try {
        const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8');
        const message = JSON.parse(text) as { request_id?: unknown; cancel?: unknown };
        if (message.cancel === true && typeof message.request_id === 'string') onCancel(message.request_id);
      } catch {
        // Not ours to understand; the gateway sends nothing else.
      }
    });
    this.socket.once('open', () => {
      for (const frame of this.queue.splice(0)) this.socket.send(frame);
    });
  }

  get isGone(): boolean {
    return this.socket.readyState === WebSocket.CLOSING || this.socket.readyState === WebSocket.CLOSED;
  }

  send(frame: string): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(frame);
    else if (this.socket.readyState === WebSocket.CONNECTING) this.queue.push(frame);
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
