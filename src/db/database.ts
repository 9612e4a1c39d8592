import type { GatewayTables } from '../gateway/tables.js';

/** Every table Switchboard owns, merged from each capability's tables.ts. */
export type Database = GatewayTables;
