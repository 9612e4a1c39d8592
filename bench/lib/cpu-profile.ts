import { readFileSync } from 'node:fs';

/** The parts of V8's .cpuprofile format (node --cpu-prof) we read. */
interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileRow {
  readonly name: string;
  /** Self time, ms. */
  readonly selfMs: number;
  /** Share of busy (non-idle) time, 0–100. */
  readonly percent: number;
}

export interface ProfileSummary {
  readonly busyMs: number;
  readonly idleMs: number;
  readonly byFunction: readonly ProfileRow[];
  readonly byArea: readonly ProfileRow[];
  /** Inclusive time of frames whose name or file matches a pattern (e.g. a module of ours). */
  inclusive(pattern: RegExp): number;
  /** Self time of frames matching `pattern`, grouped by the chain of their `depth` nearest callers. */
  callers(pattern: RegExp, depth?: number): readonly ProfileRow[];
}

/** `src/gateway/x.ts`, `node_modules/<pkg>`, `node:<module>` or a V8 pseudo-frame such as `(garbage collector)`. */
export function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  // Switchboard compiled by bench/lib/build-switchboard.ts: name it by its source file.
  const built = /switchboard-bench\/build-\d+\/(.+)\.js$/.exec(url);
  if (built?.[1]) return `src/${built[1]}.ts`;
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules?.[1]) return `npm:${modules[1]}`;
  if (url.startsWith('node:')) return url.replace(/^node:internal\/(\w+).*/, 'node:$1');
  const ours = /\/(src|bench)\/(.+)$/.exec(url);
  return ours ? `${ours[1]}/${ours[2]}` : url;
}

function rank(totals: Map<string, number>, busyMs: number, top: number): ProfileRow[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, selfMs]) => ({ name, selfMs, percent: (100 * selfMs) / busyMs }));
}

/** Self time per function and per area, and inclusive time by pattern, from a .cpuprofile file. */
export function summariseProfile(file: string, top = 30): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, index) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));

  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let idleUs = 0;
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id)?.callFrame;
    if (!frame) continue;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const area = areaOf(frame.url, frame.functionName);
    const name = `${frame.functionName || '(anonymous)'} ${area}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us / 1000);
    byArea.set(area, (byArea.get(area) ?? 0) + us / 1000);
  }
  const busyMs = busyUs / 1000;
  return {
    busyMs,
    idleMs: idleUs / 1000,
    byFunction: rank(byFunction, busyMs, top),
    byArea: rank(byArea, busyMs, top),
    inclusive(pattern) {
      let totalUs = 0;
      for (const [id, us] of selfUs) {
        // Count a sample once if any frame on its stack matches.
        for (let cursor: number | undefined = id; cursor !== undefined; cursor = parent.get(cursor)) {
          const frame = nodes.get(cursor)?.callFrame;
          if (frame && (pattern.test(frame.functionName) || pattern.test(frame.url))) {
            totalUs += us;
            break;
          }
        }
      }
      return totalUs / 1000;
    },
    callers(pattern, depth = 4) {
      const chains = new Map<string, number>();
      for (const [id, us] of selfUs) {
        const frame = nodes.get(id)?.callFrame;
        if (!frame || !(pattern.test(frame.functionName) || pattern.test(frame.url))) continue;
        const chain: string[] = [];
        for (let cursor = parent.get(id); cursor !== undefined && chain.length < depth; cursor = parent.get(cursor)) {
          const caller = nodes.get(cursor)?.callFrame;
          if (caller) chain.push(`${caller.functionName || '(anonymous)'} ${areaOf(caller.url, caller.functionName)}:${caller.lineNumber + 1}`);
        }
        const key = `${frame.functionName} <- ${chain.join(' <- ')}`;
        chains.set(key, (chains.get(key) ?? 0) + us / 1000);
      }
      return rank(chains, busyMs, 15);
    },
  };
}

/** Plain-text report for the terminal. */
export function formatProfile(summary: ProfileSummary): string {
  const row = (entry: ProfileRow) => `${entry.selfMs.toFixed(0).padStart(8)} ms ${entry.percent.toFixed(1).padStart(5)} %  ${entry.name}`;
  return [
    `busy ${summary.busyMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms`,
    '-- self time by area',
    ...summary.byArea.map(row),
    '-- self time by function',
    ...summary.byFunction.map(row),
  ].join('\n');
}
