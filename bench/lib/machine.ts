import { cpus, loadavg, release, totalmem } from 'node:os';

/** One line describing where the figures were taken, for BENCHMARKS.md. */
export function machineLine(): string {
  const cores = cpus();
  const model = cores[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  const load = loadavg().map((value) => value.toFixed(2)).join(' ');
  const memory = (totalmem() / 1024 ** 3).toFixed(1);
  return `${cores.length} cores (${model}), ${memory} GiB RAM, Node ${process.version}, Linux ${release()}, load average at start ${load}, ${new Date().toISOString()}`;
}
