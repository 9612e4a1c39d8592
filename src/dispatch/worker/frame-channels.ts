import { FrameChannel, type FrameChannelOptions, type StreamLease } from './frame-channel.js';

/**
 * A worker's stream reply channels, one per gateway endpoint: opened by the first stream that
 * names the endpoint, reused by the next ones, and replaced when its socket is gone (the gateway
 * restarted), so a worker outlives the gateways it answers.
 */
export class FrameChannels {
  private readonly channels = new Map<string, FrameChannel>();

  constructor(private readonly options: FrameChannelOptions) {}

  /** Open channels (for tests and logs). */
  get size(): number {
    return this.channels.size;
  }

  /** Starts a stream answer to `endpoint` on its channel, connecting one if there is none. */
  open(endpoint: string, requestId: string): StreamLease {
    let channel = this.channels.get(endpoint);
    if (!channel || channel.isGone) {
      const fresh = new FrameChannel(endpoint, this.options);
      this.channels.set(endpoint, fresh);
      void fresh.closed.then(() => {
        if (this.channels.get(endpoint) === fresh) this.channels.delete(endpoint);
      });
      channel = fresh;
    }
    return channel.open(requestId);
  }

  /** Graceful: closes every channel after its frames went out. */
  async closeAll(): Promise<void> {
    const channels = [...this.channels.values()];
    this.channels.clear();
    await Promise.all(channels.map((channel) => channel.close()));
  }

  /** Drops every socket at once, as a crashing process would. */
  terminateAll(): void {
    for (const channel of this.channels.values()) channel.terminate();
    this.channels.clear();
  }
}
