// What one render may spend on functions with real CPU or memory cost (key generation, scrypt,
// bcrypt): a count and a weight per render, checked before each call. The byte and step limits of
// execute.ts do not see this cost (scrypt's 64 MiB and key generation live outside the V8 heap a
// worker's resourceLimits bound), so it is budgeted here; the caller's wall-clock limit is the
// last line. Weights are about the milliseconds one call takes on one core of a small machine.
import { TemplateError } from './lexer.ts';
import { GoBytes } from './values.ts';

type Weight = number | ((args: unknown[]) => number);

const KEY_WEIGHTS: Record<string, number> = { rsa: 300, dsa: 1000, ecdsa: 5, ed25519: 5 };

/** The functions that are budgeted, by name; every other function costs nothing here. */
export const FUNCTION_WEIGHTS: Readonly<Record<string, Weight>> = {
  derivePassword: 250,
  bcrypt: 150,
  htpasswd: (args) => (args[2] === 'sha' ? 1 : 150),
  genPrivateKey: (args) => (typeof args[0] === 'string' ? (KEY_WEIGHTS[args[0]] ?? 1) : 1),
  genCA: 300,
  genSelfSignedCert: 300,
  genSignedCert: 300,
  genCAWithKey: 10,
  genSelfSignedCertWithKey: 10,
  genSignedCertWithKey: 10,
  buildCustomCert: 10,
  pemToPkcs12: 10,
  pemToPkcs12Pass: 10,
  fullPemToPkcs12: 10,
  fullPemToPkcs12Pass: 10,
  pemTruststoreToPKCS12: 10,
  pemTruststoreToPKCS12Pass: 10,
  pkcs12key: 10,
  pkcs12keyPass: 10,
  pkcs12cert: 10,
  pkcs12certPass: 10,
};

/** Most budgeted calls in one render: a CA, a few certificates and a few password hashes fit. */
export const MAX_COSTLY_CALLS = 32;
/** Most total weight in one render: about 2.5 s of one core (ten derivePassword calls). */
export const MAX_COST_WEIGHT = 2500;

/** Thrown when a render passes the byte limit its caller set (withCostBudget's maxBytes). */
export class ByteLimitReached extends TemplateError {
  override name = 'ByteLimitReached';
}

export class CostBudget {
  private calls = 0;
  private weight = 0;
  private bytes = 0;
  private readonly maxBytes: number;

  constructor(maxBytes = Number.POSITIVE_INFINITY) {
    this.maxBytes = maxBytes;
  }

  /**
   * Counts the bytes one call read (its string arguments) and made, at least 64 for any call;
   * throws ByteLimitReached past the limit.
   */
  handled(args: unknown[], resultSize: number): void {
    if (this.maxBytes === Number.POSITIVE_INFINITY) return;
    this.bytes += Math.max(64, resultSize);
    for (const a of args) {
      if (typeof a === 'string') this.bytes += a.length;
      else if (a instanceof GoBytes) this.bytes += a.bytes.length;
    }
    if (this.bytes > this.maxBytes) throw new ByteLimitReached(`the render handled over ${this.maxBytes} bytes`);
  }

  /** Counts bytes written to a template's output, as handled() counts a call's. */
  wrote(length: number): void {
    this.handled([], length);
  }

  /** Counts a call of `name`; throws TemplateError when it would pass the render's budget. */
  charge(name: string, args: unknown[], where: string): void {
    const w = FUNCTION_WEIGHTS[name];
    if (w === undefined || !Object.hasOwn(FUNCTION_WEIGHTS, name)) return;
    const cost = typeof w === 'function' ? w(args) : w;
    if (++this.calls > MAX_COSTLY_CALLS) {
      throw new TemplateError(
        `${where}: error calling ${name}: the render's budget of ${MAX_COSTLY_CALLS} calls of costly functions (key generation, certificates, derivePassword, bcrypt, PKCS#12) is spent`,
      );
    }
    this.weight += cost;
    if (this.weight > MAX_COST_WEIGHT) {
      throw new TemplateError(
        `${where}: error calling ${name}: the render's budget for costly functions is spent (their weights add up to over ${MAX_COST_WEIGHT}; ${name} weighs ${cost})`,
      );
    }
  }
}

let current: CostBudget | undefined;

/**
 * Runs `fn` (synchronous) with one budget shared by every template it executes; with `maxBytes`,
 * the bytes its function calls read and make are limited too (a caller's cheap path).
 */
export function withCostBudget<T>(fn: () => T, maxBytes?: number): T {
  const outer = current;
  current = new CostBudget(maxBytes);
  try {
    return fn();
  } finally {
    current = outer;
  }
}

/** The budget of the render in progress, or a fresh one for a template executed on its own. */
export function costBudget(): CostBudget {
  return current ?? new CostBudget();
}
