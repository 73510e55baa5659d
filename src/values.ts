// SecretValue: the only way a secret value travels through Ferry. Every way of printing it
// (String(), template literals, JSON.stringify, util.inspect, console, pino) yields
// "[redacted]"; the bytes come out only through reveal(), called by the sinks.
import { timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';

const REDACTED = '[redacted]';

export class SecretValue {
  readonly #bytes: Buffer;

  private constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  static fromBytes(bytes: Uint8Array): SecretValue {
    return new SecretValue(Buffer.from(bytes));
  }

  static fromString(text: string): SecretValue {
    return new SecretValue(Buffer.from(text, 'utf8'));
  }

  get byteLength(): number {
    return this.#bytes.length;
  }

  /** The raw bytes. Only sinks (Secret writer, file writer) and decoders may call this. */
  reveal(): Buffer {
    return this.#bytes;
  }

  /** The value as UTF-8 text, for parsing (JSON properties); never for output. */
  revealText(): string {
    return this.#bytes.toString('utf8');
  }

  equals(other: SecretValue): boolean {
    const a = this.#bytes;
    const b = other.#bytes;
    return a.length === b.length && timingSafeEqual(a, b);
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/** The rendered content of one target: Secret key → value. */
export type SecretData = Map<string, SecretValue>;
