/** Apps started in this test file and not yet closed, by URL, with their log lines (app-logs-on-failure.ts). */
export const openAppLogs = new Map<string, string[]>();
