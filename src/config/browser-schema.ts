import { z } from 'zod';
import { flag, optionalText, timerMs } from './schema-helpers.js';

export const browserSchema = z
  .object({
    /** HMAC key for /token-issued tokens (seed 003 SECRET_KEY); empty refuses every token. */
    secretKey: optionalText(),
    /** Official API host[:port] for /chat (seed 003 API_PROXY). */
    apiProxy: optionalText(),
    /** Key sent to API_PROXY (seed 003 CHAT_API_KEY). */
    chatApiKey: optionalText(),
    /** ChatGPT-web backend-api proxy host[:port] for /conv (seed 003 UNOFFICIAL_PROXY). */
    unofficialProxy: optionalText(),
    /** Raw Authorization value for UNOFFICIAL_PROXY (seed 003 ACCESS_TOKEN). */
    accessToken: optionalText(),
    /** Longest token lifetime /token may issue, in hours. @default 24 */
    maxTokenHours: z.coerce.number().int().positive().default(24),
    /** Model /conv uses on the local conversation store (the seed's ChatGPT web picked its own). @default "gpt-3.5-turbo" */
    defaultModel: z.string().min(1).default('gpt-3.5-turbo'),
    /** Pause before each /event data line (seed 003 sleeps 2 s). @default 2s */
    eventIntervalMs: timerMs().default(2_000),
    /** Wrong-key /token calls per client IP per minute before 429 (RELIABILITY §2.5). @default 10 */
    tokenFailuresPerMinute: z.coerce.number().int().positive().default(10),
    /** Multi-conversation mode (seed 003 -multi). @default false */
    multi: flag().default(false),
    /** Hide all upstream conversations at start (seed 003 -clear). @default false */
    clear: flag().default(false),
  })
  .prefault({});
