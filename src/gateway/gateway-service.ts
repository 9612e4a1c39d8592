import type { Gateway, GatewayRequest } from './gateway.js';
import { startExchange, type ExchangeDeps } from './exchange.js';
import type { ModelCatalog } from './model-catalog.js';
import type { TargetResponse } from './target.js';

/** The in-process Gateway: the same exchange as /v1, without an HTTP hop back to ourselves. */
export class InProcessGateway implements Gateway {
  constructor(private readonly deps: ExchangeDeps, private readonly catalog: ModelCatalog) {}

  async forward(request: GatewayRequest): Promise<TargetResponse> {
    const body = Buffer.from(JSON.stringify(request.body));
    const exchange = await startExchange(
      this.deps,
      {
        method: 'POST',
        path: request.path,
        search: '',
        headers: { ...request.headers, 'content-type': 'application/json', accept: request.body['stream'] === true ? 'text/event-stream' : 'application/json' },
        body,
        json: request.body,
        principal: request.principal,
        ip: request.ip ?? 'in-process',
        apiKey: request.apiKey,
      },
      request.signal,
    );
    // In-process callers read the body as a stream; the tap is not one.
    return { status: exchange.status, headers: exchange.headers, body: exchange.body.toReadable() };
  }

  listModels(): Promise<string[]> {
    return this.catalog.list();
  }
}
