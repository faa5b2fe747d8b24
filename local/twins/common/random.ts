/**
 * A small seeded PRNG (mulberry32): the same seed gives the same sequence on every machine, which is
 * what makes twin faults and ids reproducible. Not for anything security related.
 */
export class SeededRandom {
  private state: number;

  constructor(seed = 1) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    const lo = Math.ceil(Math.min(min, max));
    const hi = Math.floor(Math.max(min, max));
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** True with probability `p` (0..1). Always consumes one draw so call sequences stay aligned. */
  chance(p: number | undefined): boolean {
    const draw = this.next();
    return p !== undefined && p > 0 && draw < p;
  }
}
