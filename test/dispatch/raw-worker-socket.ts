import WebSocket, { type RawData } from 'ws';
import { wsFrameText } from '../../src/dispatch/ws-frame-text.js';

/** A worker's `/res/ws` socket driven by hand: frames for any request ids, and what the gateway says back. */
export class RawWorkerSocket {
  /** The request ids of every `cancel` message the gateway sent, in order. */
  readonly cancels: string[] = [];
  /** The close code, once the socket closed. */
  closeCode: number | undefined;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: RawData) => {
      const message = JSON.parse(wsFrameText(data)) as { request_id?: string; cancel?: boolean };
      if (message.cancel === true && typeof message.request_id === 'string') this.cancels.push(message.request_id);
    });
    socket.once('close', (code) => (this.closeCode = code));
    socket.on('error', () => undefined);
  }

  static async open(endpoint: string): Promise<RawWorkerSocket> {
    const socket = new WebSocket(endpoint);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    return new RawWorkerSocket(socket);
  }

  /** The `/res/ws` URL of a test app. */
  static endpointOf(appUrl: string): string {
    return `${appUrl.replace(/^http/, 'ws')}/res/ws`;
  }

  send(text: string): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(text, (error) => (error ? reject(error) : resolve())));
  }

  frame(fields: { requestId: string; token: string; end?: boolean; data?: unknown }): Promise<void> {
    return this.send(JSON.stringify({ request_id: fields.requestId, reply_token: fields.token, end: fields.end ?? false, data: fields.data ?? null }));
  }

  /** How many cancels named `requestId`. */
  cancelsFor(requestId: string): number {
    return this.cancels.filter((id) => id === requestId).length;
  }

  /**
   * Waits until the gateway has handled every frame sent so far: frames on one socket are handled
   * in order, so once the cancel for a fresh unknown id comes back, all earlier answers are in.
   */
  async settle(marker: string): Promise<void> {
    await this.frame({ requestId: marker, token: 'x' });
    for (let waited = 0; !this.cancels.includes(marker); waited += 10) {
      if (waited > 3_000 || this.closeCode !== undefined) throw new Error(`no cancel for ${marker}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): void {
    this.socket.terminate();
  }
}
