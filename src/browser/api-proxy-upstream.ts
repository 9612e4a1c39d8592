import { deepFreeze } from '../config/raw-config.js';
import type { Config } from '../config/schema.js';

type ConfigUpstream = Config['gateway']['upstreams'][number];

/** host, host:port, [v6]:port — what seed 003 puts between `http://` and `/v1/chat/completions`. */
const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;

/**
 * Seed 003's API_PROXY + CHAT_API_KEY as one more upstream of the shared router (SEEDS-SPEC §4.1,
 * §4.5): `http://API_PROXY` is a bare origin, so `/v1/chat/completions` is kept, and CHAT_API_KEY
 * is sent as `Bearer`. It comes after the config.yaml upstreams and serves any model.
 * app.ts hands the result to the gateway; the Config itself stays as loaded.
 */
export function withApiProxyUpstream(config: Config): Config {
  const host = config.browser.apiProxy;
  if (host === undefined) return config;
  if (!HOST_PORT.test(host)) throw new Error(`API_PROXY="${host}" is not host[:port]; seed 003 always adds http:// and /v1/chat/completions itself`);
  const upstream: ConfigUpstream = {
    name: 'API_PROXY',
    endpoint: `http://${host}`,
    sk: config.browser.chatApiKey ?? '',
    profile: 'openai-compatible',
    weight: 1,
    models: [],
  };
  const gateway: Config['gateway'] = { ...config.gateway, upstreams: [...config.gateway.upstreams, upstream] };
  return deepFreeze({ ...config, gateway });
}
