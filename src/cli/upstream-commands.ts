import type { Config } from '../config/schema.js';
import { UpstreamsRepository, displayEndpoint, endpointProblem, isHeaderSafe, maskSecret } from '../gateway/index.js';
import { withStore } from './with-store.js';

/** Go's default time format, as seed 001's -list prints it. */
function goTimeString(ms: number): string {
  if (ms === 0) return '0001-01-01 00:00:00 +0000 UTC';
  return `${new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '')} +0000 UTC`;
}

function withRepository<T>(config: Config, cwd: string, work: (repository: UpstreamsRepository) => Promise<T>): Promise<T> {
  return withStore(config, cwd, (db) => work(new UpstreamsRepository(db)));
}

export interface AddUpstreamInput {
  readonly sk: string | undefined;
  readonly endpoint: string;
  readonly name?: string | undefined;
  readonly profile?: string | undefined;
  readonly models?: readonly string[] | undefined;
}

/** Seed 001 `-add`: exit 1 with `Missing --sk flag` or `Can not add upstream …`; keys are shown masked. */
export async function addUpstream(config: Config, cwd: string, input: AddUpstreamInput): Promise<number> {
  if (!input.sk) {
    console.error('Missing --sk flag');
    return 1;
  }
  const sk = input.sk;
  if (!isHeaderSafe(sk)) {
    console.error('Can not add upstream: SK must not contain control characters');
    return 1;
  }
  // The same rules as POST /admin/upstreams: a stored endpoint the gateway cannot call stopped the
  // next start ("Invalid URL protocol"), credentials in it would be dropped and listed in clear.
  const problem = endpointProblem(input.endpoint);
  if (problem) {
    console.error(`Can not add upstream: ${problem} (endpoint ${JSON.stringify(displayEndpoint(input.endpoint))})`);
    return 1;
  }
  try {
    const id = await withRepository(config, cwd, (repository) => repository.create({ ...input, sk }));
    console.log(`Successuflly add upstream ${maskSecret(sk)} ${input.endpoint} (id ${id})`);
    return 0;
  } catch (error) {
    console.error(`Can not add upstream ${maskSecret(sk)} ${input.endpoint}: ${(error as Error).message}`);
    return 1;
  }
}

/** Seed 001 `-list`: a header line, then one space-separated line per live upstream. */
export async function listUpstreams(config: Config, cwd: string, options: { withIds?: boolean } = {}): Promise<number> {
  const rows = await withRepository(config, cwd, (repository) => repository.listLive());
  console.log(`${options.withIds ? 'ID\t' : ''}SK\tEndpoint\tSuccess\tFailed\tLast Success Time`);
  for (const row of rows) {
    const line = `${maskSecret(row.sk)} ${displayEndpoint(row.endpoint)} ${row.success_count} ${row.failed_count} ${goTimeString(row.last_call_success_time)}`;
    console.log(options.withIds ? `${row.id} ${line}` : line);
  }
  return 0;
}

export async function removeUpstream(config: Config, cwd: string, id: number): Promise<number> {
  const removed = await withRepository(config, cwd, (repository) => repository.softDelete(id));
  if (!removed) {
    console.error(`No live upstream has id ${id} (see switchboard upstream list).`);
    return 1;
  }
  console.log(`removed upstream ${id}`);
  return 0;
}
