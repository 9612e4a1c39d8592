import { parentPort } from 'node:worker_threads';
import type { ParseJob } from './document-parser.js';
import { parseDocument } from './parse-document.js';

// Worker entry (ParserPool): one job at a time; the pool kills the thread on timeout or OOM.
parentPort?.on('message', (job: ParseJob) => {
  void parseDocument(job).then((outcome) => parentPort?.postMessage(outcome));
});
