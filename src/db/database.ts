import type { ChatTables } from '../chat/tables.js';
import type { GatewayTables } from '../gateway/tables.js';
import type { RagTables } from '../rag/tables.js';

/** Every table Switchboard owns, merged from each capability's tables.ts. */
export type Database = GatewayTables & ChatTables & RagTables;
