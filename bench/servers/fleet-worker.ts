/**
 * A `switchboard worker` for the broker bench, in its own process: the real worker command
 * (BROKER_URL, MODEL_NAME, API_URL, API_KEY) plus a readiness port the bench waits on.
 *
 * Usage: node --import tsx bench/servers/fleet-worker.ts --port N --broker URL --model M --api-url URL
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { runWorkerCommand } from '../../src/dispatch/index.js';

const { values } = parseArgs({
  options: { port: { type: 'string' }, broker: { type: 'string' }, model: { type: 'string' }, 'api-url': { type: 'string' } },
});
const port = Number(values.port);
if (!Number.isInteger(port) || !values.broker || !values.model || !values['api-url']) {
  throw new Error('usage: fleet-worker.ts --port N --broker URL --model M --api-url URL');
}

const ready = createServer((_request, response) => response.end('ok'));
const done = runWorkerCommand({
  env: { BROKER_URL: values.broker, MODEL_NAME: values.model, API_URL: values['api-url'], API_KEY: 'sk-bench', MAX_PROCESS_NUM: '256', LOG_LEVEL: 'warn' },
  isTTY: false,
});
ready.listen(port, '127.0.0.1');
await done;
ready.close();
