import { defineConfig } from 'vitest/config';

// Test files talk to real sockets and real databases; two cores means two forks at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/app-logs-on-failure.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    allowOnly: false,
  },
});
