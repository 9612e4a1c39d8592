#!/usr/bin/env node
import { ConfigError, loadConfig } from '../config/load.js';
import { readProcessInput, type ProcessInput } from '../config/process-input.js';
import { runServer } from '../server.js';
import { addKey, listKeys, revokeKey } from './key-commands.js';
import { parseSubcommandArgs } from './subcommand-args.js';
import { addUpstream, listUpstreams, removeUpstream } from './upstream-commands.js';
import { runWorkerCommand } from '../dispatch/index.js';

const USAGE = `usage:
  switchboard [flags]                      serve (flags: -addr :8080 -database FILE -noauth …)
  switchboard -add -sk KEY [-endpoint URL]  add an upstream (seed 001)
  switchboard -list                        list upstreams (seed 001)
  switchboard upstream add --sk KEY --endpoint URL [--name N] [--profile P] [--models a,b]
  switchboard upstream list
  switchboard upstream remove ID
  switchboard key add [--name N]           make a gateway key (printed once; only its hash is stored)
  switchboard key list
  switchboard key revoke ID
  switchboard worker                       run a worker (env: BROKER_URL, MODEL_NAME, API_URL, API_KEY, MAX_PROCESS_NUM)`;

/**
 * The config a store subcommand (`upstream`, `key`) works on: env, .env, config.yaml, and
 * `--database`, read as the seed's `-database` is (a postgres:// URL switches stores; set as a
 * SQLite path, it made a file named `postgres:`).
 */
function storeCommandConfig(input: ProcessInput, options: ReadonlyMap<string, string>) {
  const database = options.get('database');
  return loadConfig({ argv: database === undefined ? [] : ['-database', database], env: input.env, cwd: input.cwd });
}

async function runKeyCommand(input: ProcessInput, args: readonly string[]): Promise<number> {
  const [action, ...rest] = args;
  const { options, positional } = parseSubcommandArgs('key', action, rest);
  const config = storeCommandConfig(input, options);
  switch (action) {
    case 'add':
      return addKey(config, input.cwd, options.get('name'));
    case 'list':
      return listKeys(config, input.cwd);
    case 'revoke':
      if (!/^\d+$/.test(positional[0] ?? '')) break;
      return revokeKey(config, input.cwd, Number(positional[0]));
  }
  console.error(USAGE);
  return 2;
}

async function runUpstreamCommand(input: ProcessInput, args: readonly string[]): Promise<number> {
  const [action, ...rest] = args;
  const { options, positional } = parseSubcommandArgs('upstream', action, rest);
  const config = storeCommandConfig(input, options);
  switch (action) {
    case 'add':
      return addUpstream(config, input.cwd, {
        sk: options.get('sk') ?? input.env['UPSTREAM_SK'],
        endpoint: options.get('endpoint') ?? 'https://api.openai.com/v1',
        name: options.get('name'),
        profile: options.get('profile'),
        models: options.get('models')?.split(',').map((model) => model.trim()).filter(Boolean),
      });
    case 'list':
      return listUpstreams(config, input.cwd, { withIds: true });
    case 'remove':
      if (!/^\d+$/.test(positional[0] ?? '')) break;
      return removeUpstream(config, input.cwd, Number(positional[0]));
  }
  console.error(USAGE);
  return 2;
}

async function runCli(input: ProcessInput): Promise<number> {
  const [command, ...rest] = input.argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return 0;
  }
  if (command === 'upstream') return runUpstreamCommand(input, rest);
  if (command === 'key') return runKeyCommand(input, rest);
  if (command === 'worker') return runWorkerCommand(input);
  const config = loadConfig(input);
  if (config.gateway.cli.add) return addUpstream(config, input.cwd, { sk: config.gateway.cli.sk, endpoint: config.gateway.cli.endpoint });
  if (config.gateway.cli.list) return listUpstreams(config, input.cwd);
  await runServer(config, input);
  return -1;
}

runCli(readProcessInput()).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) console.error(error.message);
    else console.error(`switchboard: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
