const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

function skipWhitespace(text: string, index: number): number {
  let at = index;
  while (at < text.length && WHITESPACE.has(text.charAt(at))) at++;
  return at;
}

/** Index just past the string literal that starts at `index` (a `"`). */
function skipString(text: string, index: number): number {
  let at = index + 1;
  while (at < text.length) {
    const char = text.charAt(at);
    if (char === '\\') at += 2;
    else if (char === '"') return at + 1;
    else at++;
  }
  return at;
}

/** Index just past the JSON value that starts at `index`. */
function skipValue(text: string, index: number): number {
  const first = text.charAt(index);
  if (first === '"') return skipString(text, index);
  if (first !== '{' && first !== '[') {
    let at = index;
    while (at < text.length && !WHITESPACE.has(text.charAt(at)) && !',}]'.includes(text.charAt(at))) at++;
    return at;
  }
  let depth = 0;
  let at = index;
  while (at < text.length) {
    const char = text.charAt(at);
    if (char === '"') {
      at = skipString(text, at);
      continue;
    }
    if (char === '{' || char === '[') depth++;
    else if (char === '}' || char === ']') depth--;
    at++;
    if (depth === 0) return at;
  }
  return at;
}

/**
 * The top-level members of a JSON object, each value as its exact source text, so a worker's
 * `data` reaches the client byte for byte (SEEDS-SPEC §1.3: "byte for byte as the worker sent
 * it"). `text` must already have passed JSON.parse, or be the head of such a text (an oversized
 * reply cut at the limit: the members before the cut are read, the cut one is partial). A
 * repeated key keeps its last value, as JSON.parse does.
 */
export function rawMembers(text: string): Map<string, string> {
  const members = new Map<string, string>();
  let at = skipWhitespace(text, 0);
  if (text.charAt(at) !== '{') return members;
  at++;
  for (;;) {
    at = skipWhitespace(text, at);
    if (text.charAt(at) !== '"') return members;
    const keyEnd = skipString(text, at);
    let key: string;
    try {
      key = JSON.parse(text.slice(at, keyEnd)) as string;
    } catch {
      // A key cut off by the end of a head: nothing after it can be read.
      return members;
    }
    at = skipWhitespace(text, keyEnd) + 1;
    const valueStart = skipWhitespace(text, at);
    at = skipValue(text, valueStart);
    members.set(key, text.slice(valueStart, at));
    at = skipWhitespace(text, at);
    if (text.charAt(at) !== ',') return members;
    at++;
  }
}
