/** The gateway's public surface: other capabilities import only from here. */
export type { BodySource, CancelSignal, ForwardCall, Principal, Target, TargetReply, TargetResponse } from './target.js';
export type { Gateway, GatewayRequest } from './gateway.js';
export type { GatewayTables } from './tables.js';
export type { ModelTargets } from './router.js';
export { SEED_MESSAGES, openAiErrorBody, renderOpenAiError, sseErrorEvent } from './openai-errors.js';
export { addGatewayKey, maskSecret } from './keys/gateway-keys.js';
export { GatewayKeysRepository } from './keys/keys-repository.js';
export { UpstreamsRepository } from './admin/upstreams-repository.js';
export { displayEndpoint, endpointProblem, isHeaderSafe } from './admin/upstream-fields.js';
