/**
 * A `.` or `..` path segment, plain or percent-encoded, between `/`, `\` or their escapes. An
 * upstream that normalises it (`/v1/../admin` → `/admin`) would take the request, with the
 * upstream's key, out of the endpoint's prefix; a /v1 path holding one is refused (routes.ts).
 */
const DOT_SEGMENT = /(?:^|\/|\\|%2f|%5c)(?:\.|%2e){1,2}(?=$|\/|\\|%2f|%5c)/i;

export function hasDotSegment(url: string): boolean {
  const query = url.indexOf('?');
  return DOT_SEGMENT.test(query === -1 ? url : url.slice(0, query));
}
