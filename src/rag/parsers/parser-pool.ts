import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../platform/module-worker.js';
import { SwitchboardError } from '../../platform/errors.js';
import type { ParseJob, ParseOutcome, PreparedChunk } from './document-parser.js';

export interface ParserPoolOptions {
  /** Worker threads at most. */
  readonly workers: number;
  /** Wall-clock limit per document; the worker is terminated past it. */
  readonly timeoutMs: number;
  /** Old-generation heap per worker (resourceLimits). */
  readonly heapMb: number;
  /** Jobs waiting for a worker before parse() refuses with 503. */
  readonly maxQueued: number;
}

interface PendingJob {
  readonly job: ParseJob;
  readonly resolve: (chunks: PreparedChunk[]) => void;
  readonly reject: (error: SwitchboardError) => void;
}

/** A parse worker with its heap capped (a hostile document cannot take the process down). */
function spawnWorker(heapMb: number): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: Math.max(16, Math.floor(heapMb / 8)) };
  return startModuleWorker(import.meta.url, 'parse-worker', { resourceLimits });
}

function failureOf(outcome: Extract<ParseOutcome, { ok: false }>): SwitchboardError {
  return new SwitchboardError(outcome.code, outcome.message);
}

/**
 * Parses documents off the main thread (RELIABILITY §2.4: pdf.js and mammoth run in a worker
 * with resourceLimits and a wall-clock kill), so a large or hostile upload never blocks other
 * requests. A worker that times out or runs out of memory is terminated and replaced.
 */
export class ParserPool {
  private readonly idle: Worker[] = [];
  private readonly queue: PendingJob[] = [];
  private readonly all = new Set<Worker>();
  private closed = false;

  constructor(private readonly options: ParserPoolOptions) {}

  /** Parses and chunks a document in a worker. */
  parse(job: ParseJob): Promise<PreparedChunk[]> {
    if (this.closed) return Promise.reject(new SwitchboardError('overloaded', '服务正在关闭'));
    if (this.queue.length >= this.options.maxQueued) return Promise.reject(new SwitchboardError('overloaded', '文档解析繁忙，请稍后重试'));
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) pending.reject(new SwitchboardError('overloaded', '服务正在关闭'));
    await Promise.all([...this.all].map((worker) => worker.terminate()));
    this.all.clear();
    this.idle.length = 0;
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.all.size < this.options.workers ? this.start() : undefined);
      if (!worker) return;
      const pending = this.queue.shift();
      if (pending) this.run(worker, pending);
    }
  }

  private start(): Worker {
    const worker = spawnWorker(this.options.heapMb);
    worker.unref();
    this.all.add(worker);
    return worker;
  }

  private retire(worker: Worker): void {
    this.all.delete(worker);
    const index = this.idle.indexOf(worker);
    if (index >= 0) this.idle.splice(index, 1);
    void worker.terminate();
  }

  private run(worker: Worker, pending: PendingJob): void {
    let settled = false;
    const finish = (outcome: ParseOutcome | SwitchboardError, keepWorker: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (keepWorker && !this.closed) this.idle.push(worker);
      else this.retire(worker);
      if (outcome instanceof SwitchboardError) pending.reject(outcome);
      else if (outcome.ok) pending.resolve(outcome.chunks);
      else pending.reject(failureOf(outcome));
      this.pump();
    };
    const onMessage = (outcome: ParseOutcome) => finish(outcome, true);
    const onError = (error: Error & { code?: string }) => {
      const isOutOfMemory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
      finish(new SwitchboardError(isOutOfMemory ? 'payload_too_large' : 'unprocessable', isOutOfMemory ? '文档过大: 解析时内存超限' : '无法解析文档'), false);
    };
    const onExit = () => finish(new SwitchboardError('unprocessable', '无法解析文档'), false);
    const timer = setTimeout(() => finish(new SwitchboardError('unprocessable', `文档解析超时 (${this.options.timeoutMs} ms)`), false), this.options.timeoutMs);
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    // A fresh copy: a pooled Buffer's ArrayBuffer is shared with other buffers and must not be detached.
    const bytes = new Uint8Array(pending.job.bytes);
    worker.postMessage({ ...pending.job, bytes }, [bytes.buffer]);
  }
}
