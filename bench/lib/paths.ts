import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/ sits directly under it). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * tsx's loader named by absolute URL: `--import tsx` would resolve from the child's cwd, which
 * is a temp dir for Switchboard (same trick as test/support/process.ts).
 */
export const TSX_LOADER = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;

/** Absolute path of a file in the repository. */
export function repoPath(relative: string): string {
  return join(REPO_ROOT, relative);
}
