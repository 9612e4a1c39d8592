import { request, type Dispatcher } from 'undici';

export interface ModelClientOptions {
  /** API_URL; `/chat/completions` is appended (SEEDS-SPEC §1.6 c). */
  readonly apiUrl: string;
  readonly apiKey: string;
  /** Until response headers. */
  readonly timeoutMs: number;
  /** Between two body chunks. */
  readonly idleMs: number;
}

/** The OpenAI-compatible server a worker calls. */
export class ModelClient {
  private readonly url: string;

  constructor(private readonly options: ModelClientOptions) {
    this.url = `${options.apiUrl.replace(/\/+$/, '')}/chat/completions`;
  }

  /** Sends the client's body as it is; the caller reads (or dumps) the response body. */
  call(body: string, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    return request(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.apiKey}` },
      body,
      ...(signal ? { signal } : {}),
      headersTimeout: this.options.timeoutMs,
      bodyTimeout: this.options.idleMs,
    });
  }
}
