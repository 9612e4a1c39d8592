import { existsSync } from 'node:fs';

/** Debian's Chromium, installed by scripts/install-chromium.sh. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags that keep a headless Chromium quiet and offline (ENVIRONMENT.md §2). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Like requireService: under CI=true a missing Chromium fails loudly; elsewhere the browser suite
 * skips with one line naming the install command. Use: `describe.skipIf(!status.available)`.
 */
export function requireChromium(): { available: boolean; reason: string } {
  if (existsSync(CHROMIUM_PATH)) return { available: true, reason: '' };
  const reason = `${CHROMIUM_PATH} is missing; install it with: bash scripts/install-chromium.sh`;
  if (process.env['CI'] === 'true') throw new Error(`CI requires Chromium: ${reason}`);
  process.stderr.write(`skipping browser suite: ${reason}\n`);
  return { available: false, reason };
}
