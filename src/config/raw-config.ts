/** A nested plain object being assembled from config sources, with where each value came from. */
export class RawConfig {
  readonly tree: Record<string, unknown> = {};
  readonly origins = new Map<string, string>();

  set(path: string, value: unknown, source: string): void {
    const keys = path.split('.');
    let node = this.tree;
    for (const key of keys.slice(0, -1)) {
      const next = node[key];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1] ?? ''] = value;
    this.origins.set(path, source);
  }

  /** Copies every leaf of `value` under `prefix` (objects merge; arrays and scalars replace). */
  merge(prefix: string, value: unknown, source: string): void {
    if (isPlainObject(value)) {
      for (const [key, child] of Object.entries(value)) {
        this.merge(prefix ? `${prefix}.${key}` : key, child, source);
      }
      return;
    }
    this.set(prefix, value, source);
  }

  /** The value at a dotted path; numeric segments index lists (`gateway.upstreams.0.endpoint`). */
  get(path: string): unknown {
    let node: unknown = this.tree;
    for (const key of path.split('.')) {
      if (Array.isArray(node)) node = (node as unknown[])[Number(key)];
      else if (isPlainObject(node)) node = node[key];
      else return undefined;
    }
    return node;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
