/**
 * CORS and OPTIONS behaviour per surface, as each seed does it (SEEDS-SPEC §2.7, §3.1, §4.2).
 * The first entry whose prefix matches wins; otherwise seed 001's global middleware applies.
 */
export interface CorsRule {
  readonly matches: (path: string) => boolean;
  /** Status for any OPTIONS request on this surface; undefined = no special handling. */
  readonly optionsStatus: number | undefined;
  readonly headers: Readonly<Record<string, string>>;
  /** `headers` as entries, computed once: they are set on every request. */
  readonly headerEntries: readonly (readonly [string, string])[];
}

function withEntries(rule: Omit<CorsRule, 'headerEntries'>): CorsRule {
  return { ...rule, headerEntries: Object.entries(rule.headers) };
}

const BROWSER_PATHS = new Set(['/chat', '/conv', '/event']);

export const CORS_RULES: readonly CorsRule[] = [
  withEntries({
    // Seed 003: /token has no CORS and no OPTIONS handling.
    matches: (path) => path === '/token',
    optionsStatus: undefined,
    headers: {},
  }),
  withEntries({
    matches: (path) => BROWSER_PATHS.has(path),
    optionsStatus: 204,
    headers: {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': '*',
      'access-control-allow-methods': 'GET, POST, OPTIONS, PUT, DELETE',
      'access-control-allow-credentials': 'true',
    },
  }),
  withEntries({
    // Seed 000 (uplion's base URL): `Access-Control-Allow-Origin: *` and `Access-Control-Allow-Headers: *`
    // on every response. It had no OPTIONS route (a preflight got 404); answering one with these
    // headers and the methods is what lets a browser client through.
    matches: (path) => path.startsWith('/api/v1/'),
    optionsStatus: 200,
    headers: {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': '*',
      'access-control-allow-methods': 'POST, GET, OPTIONS, PUT, DELETE, PATCH',
    },
  }),
  withEntries({
    matches: (path) => path.startsWith('/api/'),
    optionsStatus: 204,
    headers: {
      'access-control-allow-origin': '*',
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS',
      'access-control-allow-headers': 'Origin,Content-Type,Accept,Authorization',
      'access-control-expose-headers': 'Content-Length',
      'access-control-max-age': '43200',
    },
  }),
];

/** Seed 001's global middleware: every other path, OPTIONS answered 200 with no auth check. */
const FALLBACK_RULE: CorsRule = withEntries({
  matches: () => true,
  optionsStatus: 200,
  headers: {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'POST, GET, OPTIONS, PUT, DELETE, PATCH',
    'access-control-allow-headers': 'Origin, Authorization, Content-Type',
  },
});

export function corsRuleFor(url: string): CorsRule {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  return CORS_RULES.find((rule) => rule.matches(path)) ?? FALLBACK_RULE;
}
