import * as z from 'zod/mini';
import { SeededRandom } from './random';

export interface FaultConfig {
  seed?: number;
  /** Added to every request before it is answered. */
  latencyMs?: { min: number; max: number };
  /** 0..1: answer 503 (or the vendor's 5xx shape, see `vendorError` in the server). */
  errorRate?: number;
  throttle?: {
    /** 0..1 chance that a request starts a burst. */
    rate: number;
    /** How many consecutive requests get 429, the starting one included. */
    burst: number;
    retryAfterSeconds: number;
  };
  /** 0..1: hold the request for `timeoutMs`, then destroy the socket without answering. */
  timeoutRate?: number;
  timeoutMs?: number;
  /** 0..1: a webhook is delivered twice. */
  duplicateRate?: number;
  /** 0..1: a webhook is held back and sent after the next one. */
  reorderRate?: number;
  /** Delay before a webhook's first attempt. */
  deliveryDelayMs?: { min: number; max: number };
  /**
   * Requests the vendor refuses with a 4xx in its own error shape, as a validation rule or a script in
   * the customer's account would (a NetSuite user event script, a Salesforce validation rule): the
   * permanent failure a client must not retry. Checked before the random faults; draws nothing.
   */
  reject?: RejectRule[];
}

export interface RejectRule {
  /** e.g. `PUT`. @default any method */
  method?: string;
  /** A substring of the request path, e.g. `/salesOrder/`. */
  path: string;
  /** @default 400 */
  status?: number;
  /** Matching requests to refuse before the rule is spent. @default all of them */
  times?: number;
}

export type RequestFaultKind = 'none' | 'error' | 'throttle' | 'timeout';

export interface RequestFault {
  kind: RequestFaultKind;
  latencyMs: number;
  retryAfterSeconds?: number;
}

export interface DeliveryFault {
  duplicate: boolean;
  reorder: boolean;
  delayMs: number;
}

/** Used when a config has no seed, so "no seed" is still reproducible. */
export const DEFAULT_FAULT_SEED = 1;
/** Used when `timeoutRate` is set without `timeoutMs`. */
export const DEFAULT_TIMEOUT_MS = 30_000;

const rate = z.number().check(z.minimum(0), z.maximum(1));
const nonNegative = z.number().check(z.minimum(0));
const range = z
  .strictObject({ min: nonNegative, max: nonNegative })
  .check(z.refine((r) => r.min <= r.max, { message: 'min must be <= max' }));

export const faultConfigSchema = z.strictObject({
  seed: z.optional(z.int()),
  latencyMs: z.optional(range),
  errorRate: z.optional(rate),
  throttle: z.optional(
    z.strictObject({
      rate,
      burst: z.int().check(z.minimum(1)),
      retryAfterSeconds: nonNegative,
    }),
  ),
  timeoutRate: z.optional(rate),
  timeoutMs: z.optional(nonNegative),
  duplicateRate: z.optional(rate),
  reorderRate: z.optional(rate),
  deliveryDelayMs: z.optional(range),
  reject: z.optional(
    z.array(
      z.strictObject({
        method: z.optional(z.string()),
        path: z.string().check(z.minLength(1)),
        status: z.optional(z.int().check(z.minimum(400), z.maximum(499))),
        times: z.optional(z.int().check(z.minimum(1))),
      }),
    ),
  ),
});

export class FaultConfigError extends Error {
  override readonly name = 'FaultConfigError';
}

/**
 * Validates an untrusted fault config. `source` names where it came from (an env variable, the control
 * endpoint) so the message says what to fix.
 */
export function parseFaultConfig(input: unknown, source: string): FaultConfig {
  const result = faultConfigSchema.safeParse(input);
  if (result.success) {
    return stripUndefined(result.data);
  }
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `${field}: ${describeIssue(issue)}`;
  });
  throw new FaultConfigError(`${source} is not a valid fault config: ${problems.join('; ')}`);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'too_big':
      return `must be <= ${String(issue.maximum)}`;
    case 'too_small':
      return `must be >= ${String(issue.minimum)}`;
    case 'unrecognized_keys':
      return `unknown field(s) ${issue.keys.join(', ')}`;
    default:
      return issue.message;
  }
}

function stripUndefined(config: z.infer<typeof faultConfigSchema>): FaultConfig {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value !== undefined) out[key] = value;
  }
  return out as FaultConfig;
}

/** The env variable a twin reads its faults from: `TWIN_FAULTS_STRIPE`, `TWIN_FAULTS_NETSUITE`, ... */
export function faultsEnvVar(vendor: string): string {
  return `TWIN_FAULTS_${vendor.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Reads `TWIN_FAULTS_<VENDOR>` (JSON). Unset or empty means no faults. */
export function faultsFromEnv(vendor: string, env: NodeJS.ProcessEnv = process.env): FaultConfig {
  const name = faultsEnvVar(vendor);
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new FaultConfigError(`${name} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return parseFaultConfig(parsed, name);
}

/**
 * Decides, from a seeded PRNG, which fault (if any) hits each request and each webhook delivery.
 * Every decision consumes a fixed number of draws whatever the config, so the same seed and the same
 * sequence of calls always give the same faults.
 */
export class FaultInjector {
  private current: FaultConfig = {};
  private random = new SeededRandom(DEFAULT_FAULT_SEED);
  private burstRemaining = 0;
  /** Refusals left per `reject` rule (Infinity when the rule has no `times`). */
  private rejectsLeft: number[] = [];

  constructor(config: FaultConfig = {}) {
    this.set(config);
  }

  get config(): FaultConfig {
    return structuredClone(this.current);
  }

  /** Replaces the config and re-seeds, so a run after `set` is reproducible on its own. */
  set(config: FaultConfig): void {
    this.current = structuredClone(config);
    this.random = new SeededRandom(config.seed ?? DEFAULT_FAULT_SEED);
    this.burstRemaining = 0;
    this.rejectsLeft = (config.reject ?? []).map((rule) => rule.times ?? Number.POSITIVE_INFINITY);
  }

  /** The 4xx status to refuse this request with, per the first matching `reject` rule not yet spent. */
  nextRejection(method: string, path: string): number | undefined {
    const rules = this.current.reject ?? [];
    for (const [index, rule] of rules.entries()) {
      if ((this.rejectsLeft[index] ?? 0) <= 0) continue;
      if (rule.method !== undefined && rule.method.toUpperCase() !== method.toUpperCase()) continue;
      if (!path.includes(rule.path)) continue;
      this.rejectsLeft[index] = (this.rejectsLeft[index] ?? 0) - 1;
      return rule.status ?? 400;
    }
    return undefined;
  }

  nextRequestFault(): RequestFault {
    const c = this.current;
    const latencyDraw = this.random.next();
    const throttleHit = this.random.chance(c.throttle?.rate);
    const errorHit = this.random.chance(c.errorRate);
    const timeoutHit = this.random.chance(c.timeoutRate);
    const latencyMs = c.latencyMs ? pickInRange(c.latencyMs, latencyDraw) : 0;

    if (c.throttle && (this.burstRemaining > 0 || throttleHit)) {
      this.burstRemaining = this.burstRemaining > 0 ? this.burstRemaining - 1 : c.throttle.burst - 1;
      return { kind: 'throttle', latencyMs, retryAfterSeconds: c.throttle.retryAfterSeconds };
    }
    if (timeoutHit) return { kind: 'timeout', latencyMs };
    if (errorHit) return { kind: 'error', latencyMs };
    return { kind: 'none', latencyMs };
  }

  nextDeliveryFault(): DeliveryFault {
    const c = this.current;
    const duplicate = this.random.chance(c.duplicateRate);
    const reorder = this.random.chance(c.reorderRate);
    const delayDraw = this.random.next();
    return {
      duplicate,
      reorder,
      delayMs: c.deliveryDelayMs ? pickInRange(c.deliveryDelayMs, delayDraw) : 0,
    };
  }

  /** How long a `timeout` fault holds the request. */
  get timeoutMs(): number {
    return this.current.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }
}

function pickInRange(r: { min: number; max: number }, draw: number): number {
  return Math.round(r.min + (r.max - r.min) * draw);
}
