/**
 * Vitest setup file: when a test fails, its file's open apps print their warn and error log lines.
 * An app's own reason for a 503 (a broker error, a failed upstream) is in its log, which a test
 * otherwise keeps to itself; a failure seen once in a full CI run is then not a guess.
 */
import { beforeEach } from 'vitest';
import { openAppLogs } from './open-app-logs.js';

/** pino's numeric level for warn. */
const WARN = 40;
const MAX_LINES_PER_APP = 30;

function warnings(lines: readonly string[]): string[] {
  return lines.filter((line) => {
    try {
      return (JSON.parse(line) as { level?: number }).level! >= WARN;
    } catch {
      return true;
    }
  });
}

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    for (const [url, lines] of openAppLogs) {
      const shown = warnings(lines).slice(-MAX_LINES_PER_APP);
      if (shown.length > 0)
        process.stderr.write(
          `app ${url}: last ${shown.length} warn/error log lines\n${shown.join('\n')}\n`,
        );
    }
  });
});
