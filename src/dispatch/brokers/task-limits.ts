/**
 * A task nobody took within this long is dropped by the broker (JetStream max_age, in-process
 * age check): its client has long had its answer or its timeout.
 */
export const TASK_MAX_AGE_MS = 60 * 60 * 1000;

/** Tasks kept per topic before publishes are refused instead of piling up (RELIABILITY R8). */
export const MAX_QUEUED_TASKS = 100_000;

/** How long one fetch waits for messages before the loop looks at its state again. */
export const FETCH_WAIT_MS = 1_000;

/** A publish whose broker does not confirm within this long fails (fast 503, not a hang). */
export const PUBLISH_TIMEOUT_MS = 2_000;
