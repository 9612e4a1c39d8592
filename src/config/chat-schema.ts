import { z } from 'zod';
import { durationMs, optionalText, positiveInt, timerMs } from './schema-helpers.js';

/**
 * Seed 002 ships this secret in its sample config.yaml and hard-codes it (SEEDS-SPEC §3.1), so
 * anyone can mint tokens for it; Switchboard refuses to start with it (RELIABILITY §2.1 API2).
 */
export const SEED_SAMPLE_JWT_SECRET = 'S3cureK3y#2024!AIsafety';

export const chatSchema = z
  .object({
    /** HS256 secret for user tokens (seed 002 jwt.secret); generated and stored when unset. */
    jwtSecret: optionalText()
      .refine((secret) => secret !== SEED_SAMPLE_JWT_SECRET, {
        error: 'is the sample secret published with seed 002; set a random value (e.g. `openssl rand -base64 32`) or unset it to have one generated',
      })
      .describe('JWT secret (jwt.secret, JWT_SECRET)'),
    /** Token lifetime (seed 002: 24 h). @default 24h */
    tokenTtlMs: durationMs().default(86_400_000),
    /** Redis cache for verified tokens and hot conversations; unset = no cache. */
    redisUrl: optionalText().describe('Redis URL (REDIS_URL, redis.address)'),
    /** Prefix of every Redis key chat writes (several instances or tests may share one Redis). @default "switchboard:chat:" */
    redisKeyPrefix: z.string().default('switchboard:chat:'),
    /** A Redis command slower than this counts as a miss and SQL answers instead. @default 250ms */
    redisCommandTimeoutMs: timerMs().default(250),
    /** How long a verified token stays cached; bounds how late a deletion is seen by another instance. @default 60s */
    tokenCacheTtlMs: durationMs().default(60_000),
    /** How long a conversation's messages stay cached after their last use. @default 10m */
    conversationCacheTtlMs: durationMs().default(600_000),
    /** bcrypt cost. @default 10 */
    bcryptCost: z.coerce.number().int().min(4).max(15).default(10),
    /** Failed logins per username+IP per minute before 429. @default 5 */
    loginAttemptsPerMinute: z.coerce.number().int().positive().default(5),
    /** Longest chat message accepted, in characters. @default 100000 */
    maxMessageChars: positiveInt().default(100_000),
    /** System prompt a new conversation starts with (seed 002). */
    systemPrompt: z.string().default('你是一个乐于回答各种问题的小助手'),
  })
  .prefault({});
