/**
 * The ONLY file that knows how vendors differ (STYLE.md §4). The pipeline reads these fields and
 * never names a vendor. Add a hook only when a real upstream needs it.
 */
export interface UpstreamProfile {
  readonly name: string;
  /** Client-visible model name → the vendor's own name. */
  readonly mapModel?: (model: string) => string;
  /** Whether we may add `stream_options.include_usage` to learn a stream's token usage. */
  readonly streamUsage: 'stream_options' | 'none';
  /** Whether an OpenAI-style stream from this vendor always ends with `data: [DONE]`. */
  readonly endsStreamWithDone: boolean;
}

const openAiCompatible: UpstreamProfile = {
  name: 'openai-compatible',
  streamUsage: 'stream_options',
  endsStreamWithDone: true,
};

// Seed 002 names zhipu's embedding models `zhipu-embedding-3`/`-2`; the API calls them `embedding-3`/`-2`.
const zhipu: UpstreamProfile = {
  name: 'zhipu',
  mapModel: (model) => model.replace(/^zhipu-/, ''),
  streamUsage: 'none',
  endsStreamWithDone: true,
};

const PROFILES: Readonly<Record<string, UpstreamProfile>> = {
  'openai-compatible': openAiCompatible,
  openai: openAiCompatible,
  vllm: openAiCompatible,
  ollama: { name: 'ollama', streamUsage: 'stream_options', endsStreamWithDone: true },
  zhipu,
  // Streams without a usage option and without a guaranteed [DONE]: accept a clean end as complete.
  'plain-sse': { name: 'plain-sse', streamUsage: 'none', endsStreamWithDone: false },
};

export const PROFILE_NAMES = Object.keys(PROFILES);

export function profileFor(name: string): UpstreamProfile {
  return PROFILES[name] ?? openAiCompatible;
}

/** Picks a profile from an endpoint's host when none is configured. */
export function guessProfile(endpoint: string): string {
  const host = URL.canParse(endpoint) ? new URL(endpoint).hostname : '';
  if (host.endsWith('bigmodel.cn')) return 'zhipu';
  return 'openai-compatible';
}
