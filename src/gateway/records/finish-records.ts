import { MAX_RECORD_TEXT_CHARS, unparsedBodyFacts } from '../plain-body-facts.js';
import type { NewRecord } from './records-repository.js';

/**
 * Fills in usage and response text of rows whose plain answer was kept unparsed (body-tap.ts,
 * `unparsedBody`): done when the rows are written, on the records thread for a SQLite file
 * (records-thread.ts), so the JSON parse of every answer stays off the requests' event loop.
 * `bodies[i]` belongs to `rows[i]`; undefined where the row is complete already.
 */
export function finishRecords(rows: readonly NewRecord[], bodies: readonly (string | undefined)[], options: { readonly storeResponse: boolean }): void {
  for (let index = 0; index < rows.length; index++) {
    const body = bodies[index];
    const row = rows[index];
    if (body === undefined || row === undefined) continue;
    const { usage, text } = unparsedBodyFacts(body, MAX_RECORD_TEXT_CHARS);
    row.prompt_tokens = usage?.promptTokens ?? null;
    row.completion_tokens = usage?.completionTokens ?? null;
    row.total_tokens = usage?.totalTokens ?? null;
    row.response = options.storeResponse ? text : '';
  }
}
