import type { Migration } from 'kysely';
import * as gateway from './0001-gateway.js';
import * as gatewayReliability from './0002-gateway-reliability.js';
import * as recordsClientRequestId from './0003-records-client-request-id.js';
import * as chat from './0040-chat.js';
import * as rag from './0060-rag.js';

/**
 * Every migration in its one global order. Number ranges per capability keep parallel work apart:
 * 0001–0019 gateway, 0020–0039 dispatch, 0040–0059 chat, 0060–0079 rag, 0080–0099 browser.
 * A database made by an earlier release has run later-numbered migrations of other ranges already:
 * the migrator runs a new one of a lower range all the same (migrate.ts, allowUnorderedMigrations).
 */
export const migrations: Record<string, Migration> = {
  '0001-gateway': gateway,
  '0002-gateway-reliability': gatewayReliability,
  '0003-records-client-request-id': recordsClientRequestId,
  '0040-chat': chat,
  '0060-rag': rag,
};
