/**
 * Topic names. The seed publishes to `model-<model>` and workers share the subscription
 * `model-<model>-subscription` (SEEDS-SPEC §1.4, §1.6).
 */
export function topicFor(model: string): string {
  return `model-${model}`;
}

/** The consumer group every worker of a topic joins (seed Go and Python workers). */
export function groupFor(topic: string): string {
  return `${topic}-subscription`;
}

/**
 * Topics longer than this once escaped (escapeName) are refused: NATS caps stream names at 255
 * bytes, and the consumer is named after the escaped topic plus `-subscription`.
 */
export const MAX_TOPIC_LENGTH = 200;

const SAFE = /[A-Za-z0-9-]/;

/**
 * A reversible mapping for brokers that forbid characters in names: NATS stream names and subject
 * tokens may not hold `.`, `*`, `>`, `/`, `\` or whitespace, and Pulsar topics may not hold `/`.
 * Letters, digits and `-` stay; every other character becomes `_` plus the upper-case hex of each
 * of its UTF-8 bytes (`_` itself becomes `_5F`), so `model-gpt-3.5-turbo` ↔ `model-gpt-3_2E5-turbo`
 * and `model-org/m` ↔ `model-org_2Fm`.
 */
export function escapeName(name: string): string {
  let escaped = '';
  for (const char of name) {
    if (SAFE.test(char)) escaped += char;
    else for (const byte of Buffer.from(char, 'utf8')) escaped += `_${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return escaped;
}

/** The inverse of escapeName. */
export function unescapeName(escaped: string): string {
  const bytes: number[] = [];
  for (let index = 0; index < escaped.length; index++) {
    if (escaped[index] === '_') {
      bytes.push(Number.parseInt(escaped.slice(index + 1, index + 3), 16));
      index += 2;
    } else bytes.push(escaped.charCodeAt(index));
  }
  return Buffer.from(bytes).toString('utf8');
}
