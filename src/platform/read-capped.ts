/**
 * A whole response body as UTF-8 text, or undefined once it passes `maxBytes` (the body is then
 * destroyed: leaving a for-await loop early destroys the stream it reads). For bodies read into
 * memory from outside (upstream answers, proxies), which must not grow it without bound (R7).
 */
export async function readCappedText(body: AsyncIterable<Buffer | string>, maxBytes: number): Promise<string | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > maxBytes) return undefined;
    parts.push(bytes);
  }
  return Buffer.concat(parts, size).toString('utf8');
}
