import { BodyTap } from './body-tap.js';
import type { BodySource } from './target.js';
import { plainBodyFacts, unparsedBodyFacts, type PlainBodyFacts } from './plain-body-facts.js';
import { maskSecrets, type Usage } from './usage-tap.js';

export interface PlainTapOptions {
  /** Most response text kept for the record. */
  readonly maxCaptureChars: number;
  /** Largest body parsed for usage (and held back for masking). */
  readonly maxJsonBytes: number;
  /**
   * Our own credentials, masked wherever a plain body reflects them: upstream error bodies are
   * untrusted and some echo the key they were sent (OWASP API10, LiteLLM #24902, RELIABILITY S3).
   */
  readonly secrets?: readonly { readonly secret: string; readonly mask: string }[];
}

/** Answers up to this size are kept whole for their record instead of read at their end. */
const MAX_UNPARSED_BYTES = 16 * 1024;

/** The tap for a plain (non-SSE) body: passes bytes on as they come and keeps the whole body (bounded) for its usage and text. */
export class PlainTap extends BodyTap {
  /** Only SSE streams can end early; a plain body ends when its source does. */
  readonly endedEarly = false;
  readonly contentEvents = 0;
  readonly sawErrorEvent = false;
  private parts: Buffer[] = [];
  private bytes = 0;
  private readonly isMasking: boolean;
  private parsed: PlainBodyFacts | undefined;

  constructor(
    source: BodySource,
    private readonly options: PlainTapOptions,
    done: (error?: Error) => void,
  ) {
    super(source, done);
    this.isMasking = (options.secrets?.length ?? 0) > 0;
  }

  /** Passed on as it comes, or held whole (bounded) when secrets must be masked. */
  protected take(chunk: Buffer): void {
    const wasWithinCap = this.bytes <= this.options.maxJsonBytes;
    this.bytes += chunk.length;
    if (this.bytes <= this.options.maxJsonBytes) {
      this.parts.push(chunk);
      if (!this.isMasking) this.emit('data', chunk);
      return;
    }
    // Past the cap: release what was held and go on chunk by chunk (best effort for a huge body).
    if (this.isMasking && wasWithinCap) this.emit('data', maskSecrets(Buffer.concat(this.parts), this.options.secrets ?? []));
    this.parts = [];
    this.emit('data', this.isMasking ? maskSecrets(chunk, this.options.secrets ?? []) : chunk);
  }

  protected takeEnd(): void {
    if (this.bytes <= this.options.maxJsonBytes) {
      const whole = this.parts.length === 1 && this.parts[0] ? this.parts[0] : Buffer.concat(this.parts);
      // A chat answer is not parsed here: JSON.parse of every answer was ~5 % of a proxied
      // request's CPU, and only the record needs it, which reads it when it is written
      // (records/finish-records.ts). A large one (embeddings) is read now: queued whole, records
      // waiting for a store that is down would hold megabytes each.
      if (whole.length <= MAX_UNPARSED_BYTES) this.unparsedBody = whole.toString('latin1');
      else this.parsed = plainBodyFacts(whole.toString('utf8'), this.options.maxCaptureChars);
      if (this.isMasking) this.emit('data', maskSecrets(whole, this.options.secrets ?? []));
    }
    this.parts = [];
  }

  /** Unmasked, the bytes passed on are the kept answer's; masked, they are not. */
  override get passedOnLatin1(): string | undefined {
    return this.isMasking ? undefined : this.unparsedBody;
  }

  /** Read from the body on first use (the request's log line at info level, in-process callers). */
  get usage(): Usage | undefined {
    return this.facts()?.usage;
  }

  get text(): string {
    return this.facts()?.text ?? '';
  }

  private facts(): PlainBodyFacts | undefined {
    if (this.parsed === undefined && this.unparsedBody !== undefined) this.parsed = unparsedBodyFacts(this.unparsedBody, this.options.maxCaptureChars);
    return this.parsed;
  }
}
