import { z } from 'zod';
import { positiveInt } from './schema-helpers.js';

export const ragSchema = z
  .object({
    /** Chunk size in characters. @default 500 */
    chunkSize: positiveInt().default(500),
    /** Overlap between chunks in characters. @default 50 */
    chunkOverlap: z.coerce.number().int().nonnegative().default(50),
    /** Results per retrieval when the request gives none (seed 002). @default 5 */
    defaultTopK: positiveInt().default(5),
    /** Upload size limit. @default 20 MiB */
    maxUploadBytes: positiveInt().default(20 * 1024 * 1024),
    /** Directory for uploaded files while they are parsed. */
    uploadDir: z.string().default('./data/uploads'),
  })
  .prefault({});
