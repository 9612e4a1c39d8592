/** Checks and display of the two seed 001 upstream fields, `SK` and `Endpoint`. */

// The endpoint rule is shared with config.yaml's validation, which may not import the gateway.
export { displayEndpoint, endpointProblem } from '../../platform/upstream-endpoint.js';

/** Whether a key can go out as `Authorization: Bearer <sk>` (no control characters). */
export function isHeaderSafe(sk: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  return !/[\u0000-\u001f\u007f]/.test(sk);
}
