import { SeededRandom } from './random';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Reproducible vendor-looking ids: the same seed and the same sequence of calls give the same ids, so a
 * demo or a failing test can be replayed exactly.
 */
export class IdGenerator {
  private readonly random: SeededRandom;
  private readonly counters = new Map<string, number>();

  constructor(seed = 1) {
    this.random = new SeededRandom(seed);
  }

  /** `prefix` followed by `length` characters from `alphabet` (default: letters and digits), e.g. `cus_` + 14. */
  next(prefix: string, length: number, alphabet: string = ALPHANUMERIC): string {
    let id = prefix;
    for (let i = 0; i < length; i++) {
      id += alphabet.charAt(this.random.int(0, alphabet.length - 1));
    }
    return id;
  }

  /** Lower-case hex, e.g. for HubSpot-style or hash-like ids. */
  hex(length: number): string {
    return this.next('', length, '0123456789abcdef');
  }

  /** A UUID v4-shaped string drawn from the seed. */
  uuid(): string {
    const h = this.hex(32);
    const variant = '89ab'.charAt(this.random.int(0, 3));
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /**
   * Monotonic numeric ids per scope (NetSuite internal ids, HubSpot object ids): `start`, `start + 1`, ...
   * Deterministic without consuming the random sequence.
   */
  sequence(scope: string, start = 1): number {
    const next = this.counters.get(scope) ?? start;
    this.counters.set(scope, next + 1);
    return next;
  }
}
