import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread from a module next to the caller, given as its `.js` URL. Built output
 * runs that file; under tsx or vitest the caller is TypeScript, so a tiny bootstrap registers tsx
 * in the worker before importing the `.ts` source.
 */
export function startModuleWorker(callerUrl: string, file: string, options: WorkerOptions = {}): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${file}.js`, callerUrl), options);
  const entry = new URL(`./${file}.ts`, callerUrl).href;
  // Resolved here: an eval'd worker resolves bare names from the process cwd, which may be anywhere.
  const tsx = typeof import.meta.resolve === 'function' ? import.meta.resolve('tsx/esm/api') : 'tsx/esm/api';
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}
