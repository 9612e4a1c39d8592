import { z } from 'zod';
import { durationMs, optionalText } from './schema-helpers.js';

export const chatSchema = z
  .object({
    /** HS256 secret for user tokens (seed 002 jwt.secret); generated and stored when unset. */
    jwtSecret: optionalText().describe('JWT secret (jwt.secret, JWT_SECRET)'),
    /** Token lifetime (seed 002: 24 h). @default 24h */
    tokenTtlMs: durationMs().default(86_400_000),
    /** Redis cache for verified tokens and hot conversations; unset = no cache. */
    redisUrl: optionalText().describe('Redis URL (REDIS_URL, redis.address)'),
    /** bcrypt cost. @default 10 */
    bcryptCost: z.coerce.number().int().min(4).max(15).default(10),
    /** Failed logins per username+IP per minute before 429. @default 5 */
    loginAttemptsPerMinute: z.coerce.number().int().positive().default(5),
    /** System prompt a new conversation starts with (seed 002). */
    systemPrompt: z.string().default('你是一个乐于回答各种问题的小助手'),
  })
  .prefault({});
