import type { Worker } from 'node:worker_threads';

/** An error as it crosses a thread boundary: structured clone keeps neither its class nor `code`. */
export interface ThreadError {
  readonly name: string;
  readonly message: string;
  readonly code: string | undefined;
}

/** Every reply names the call it answers; a failed call carries its error instead of a result. */
export type ThreadReply<Result> = ({ readonly id: number } & Result) | { readonly id: number; readonly error: ThreadError };

/** The error a thread caught, as its reply carries it (the thread side of ThreadError). */
export function threadError(caught: unknown): ThreadError {
  const error = caught as Error & { code?: unknown };
  return { name: error.name, message: error.message, code: typeof error.code === 'string' ? error.code : undefined };
}

function toError(error: ThreadError): Error {
  return Object.assign(new Error(error.message), { name: error.name, code: error.code });
}

/**
 * Calls answered by a worker thread, matched to their replies by id. The thread starts with the
 * first call; it keeps the process alive only while a call is outstanding, so background work
 * completes at shutdown and an idle thread never holds the process open. A thread that dies fails
 * what it was running, and the next call starts a new one.
 */
export class WorkerCalls<Request extends object, Result extends object> {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (result: Result) => void; reject: (error: Error) => void }>();
  private nextId = 1;

  /** `start` builds the worker; `name` says which thread died in the error its callers get. */
  constructor(
    private readonly start: () => Worker,
    private readonly name: string,
  ) {}

  call(request: Request): Promise<Result> {
    const worker = (this.worker ??= this.startWorker());
    const id = this.nextId++;
    if (this.pending.size === 0) worker.ref();
    return new Promise<Result>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  }

  /** Sends `message` (the thread's own way to stop) and waits for the thread to exit. */
  async close(message: object): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref();
    worker.postMessage(message);
    await exited;
  }

  private startWorker(): Worker {
    const worker = this.start();
    worker.unref();
    worker.on('message', (reply: ThreadReply<Result>) => this.settle(worker, reply));
    worker.on('error', (error) => this.failAll(worker, error));
    worker.on('exit', (code) => this.failAll(worker, new Error(`The ${this.name} exited (code ${code}).`)));
    return worker;
  }

  private settle(worker: Worker, reply: ThreadReply<Result>): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) worker.unref();
    if ('error' in reply) pending.reject(toError(reply.error));
    else pending.resolve(reply);
  }

  private failAll(worker: Worker, error: Error): void {
    if (this.worker === worker) this.worker = undefined;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}
