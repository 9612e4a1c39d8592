import { z } from 'zod';
import { browserSchema } from './browser-schema.js';
import { chatSchema } from './chat-schema.js';
import { dispatchSchema } from './dispatch-schema.js';
import { gatewaySchema } from './gateway-schema.js';
import { ragSchema } from './rag-schema.js';
import { databaseSchema, logSchema, serverSchema } from './server-schema.js';

/** The whole configuration. Sections live beside this file, one per capability. */
export const configSchema = z.object({
  server: serverSchema,
  log: logSchema,
  database: databaseSchema,
  gateway: gatewaySchema,
  dispatch: dispatchSchema,
  chat: chatSchema,
  rag: ragSchema,
  browser: browserSchema,
});

/** Parsed, validated and deep-frozen settings; the only source of configuration. */
export type Config = Readonly<z.infer<typeof configSchema>>;
/** What a caller may override before validation (tests, CLI). */
export type ConfigInput = z.input<typeof configSchema>;
