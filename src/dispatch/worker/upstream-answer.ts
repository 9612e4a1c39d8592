/** OpenAI's error body, as workers send it back (SEEDS-SPEC §1.5: `data: {"error":{…}}`). */
export function errorData(message: string, code: string): string {
  return JSON.stringify({ error: { message, type: 'upstream_error', param: null, code } });
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Text that is one JSON object or array; undefined otherwise. */
export function jsonText(text: string): string | undefined {
  const trimmed = text.trim();
  return trimmed !== '' && isJson(trimmed) ? trimmed : undefined;
}

/**
 * An upstream error body for the client: kept as it is when it already has OpenAI's `error`
 * object, otherwise wrapped in one that names the status (the seed Python worker forwarded
 * whatever JSON it got, and nothing when the body was not JSON).
 */
export function upstreamErrorData(status: number, text: string): string {
  const body = jsonText(text);
  if (body !== undefined) {
    const value = JSON.parse(body) as unknown;
    if (typeof value === 'object' && value !== null && 'error' in value) return body;
  }
  return errorData(`The model server answered HTTP ${status}.`, `upstream_http_${status}`);
}

interface Choice {
  index?: unknown;
  message?: unknown;
  finish_reason?: unknown;
  logprobs?: unknown;
}

/**
 * A whole `chat.completion` as one `chat.completion.chunk`, for a stream request whose upstream
 * answered with JSON (SEEDS-SPEC §1.5: workers answer in stream format even then).
 */
export function completionAsChunk(text: string): string {
  const value = JSON.parse(text) as { object?: unknown; choices?: unknown } & Record<string, unknown>;
  if (value.object !== 'chat.completion' || !Array.isArray(value.choices)) return text;
  const choices = (value.choices as Choice[]).map((choice) => ({
    index: choice.index ?? 0,
    delta: choice.message ?? {},
    ...(choice.logprobs === undefined ? {} : { logprobs: choice.logprobs }),
    finish_reason: choice.finish_reason ?? null,
  }));
  return JSON.stringify({ ...value, object: 'chat.completion.chunk', choices });
}
