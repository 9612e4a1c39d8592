import { z } from 'zod';
import { toMilliseconds } from './duration.js';

const durationNumber = () => z.number({ error: 'is not a duration; use 300ms, 1.5h or 2m30s' }).nonnegative({ error: 'must not be negative' });

/** A duration in ms; accepts `1500`, `"1500"`, or Go syntax like `"1.5s"`, `"2m30s"`. */
export const durationMs = () => z.preprocess(toMilliseconds, durationNumber());

/** The longest delay a Node timer keeps: a longer one fires after 1 ms instead (TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2_147_483_647;

/** A duration that runs a timer (a timeout, an interval): refused past what a Node timer keeps. */
export const timerMs = () => z.preprocess(toMilliseconds, durationNumber().max(MAX_TIMER_MS, { error: `must be at most ${MAX_TIMER_MS} ms (about 24 days), the longest timer Node keeps` }));

/** Booleans from env and flags arrive as strings: "1", "true", "yes", "on" are true. */
export const flag = () =>
  z.preprocess((value) => {
    if (typeof value !== 'string') return value;
    const lowered = value.trim().toLowerCase();
    if (['', '1', 'true', 'yes', 'on'].includes(lowered)) return true;
    if (['0', 'false', 'no', 'off'].includes(lowered)) return false;
    return value;
  }, z.boolean());

/** Comma-separated list (env) or array (yaml); entries trimmed, empty ones dropped. */
export const stringList = () =>
  z.preprocess((value) => {
    if (typeof value === 'string') return value.split(',');
    return value;
  }, z.array(z.string()).transform((items) => items.map((item) => item.trim()).filter(Boolean)));

/** Optional string where an empty value means "not set". */
export const optionalText = () =>
  z.preprocess((value) => (value === '' ? undefined : value), z.string().optional());

export const positiveInt = () => z.coerce.number().int().positive();
