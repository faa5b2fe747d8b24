import type { AwsFaultConfig } from '../aws/faults';
import type { LocalRuntime } from '../runtime/runtime';
import type { FaultConfig } from '../twins/common';

/**
 * The seeded faults of a chaos run, as the twins and the AWS emulators take them. Rates are per
 * request (twins), per call (AWS) or per delivery (webhooks).
 */
export interface ChaosFaults {
  /** Webhook deliveries sent twice (every vendor). */
  readonly duplicateRate: number;
  /** Webhook deliveries swapped with the next one (every vendor). */
  readonly reorderRate: number;
  /** NetSuite answers 503. */
  readonly erpErrorRate: number;
  /** NetSuite starts a burst of 429 with Retry-After. */
  readonly erpThrottle: { readonly rate: number; readonly burst: number; readonly retryAfterSeconds: number };
  /** NetSuite holds the request, then resets the connection without answering. */
  readonly erpTimeoutRate: number;
  readonly erpTimeoutMs: number;
  /** Stripe and the CRMs answer their API callers 503 (the saga's calls). */
  readonly vendorApiErrorRate: number;
  /** PutEvents entries failed in place (`FailedEntryCount`). */
  readonly putEventsFailedEntryRate: number;
  /** DynamoDB calls throttled (`ProvisionedThroughputExceededException`). */
  readonly dynamoDbThrottleRate: number;
  /** Execution environments killed mid-batch, at 25% of the flows sent. */
  readonly crashes: number;
  /** Functions the crash may hit (a name or logical id part). */
  readonly crashFunctions: readonly string[];
  /** At half the flows sent, PutEvents fails for this long: the ingests answer 5xx and vendors retry. */
  readonly webhookOutageMs: number;
}

export const DEFAULT_CHAOS_FAULTS: ChaosFaults = {
  duplicateRate: 0.2,
  reorderRate: 0.2,
  erpErrorRate: 0.1,
  erpThrottle: { rate: 0.01, burst: 4, retryAfterSeconds: 1 },
  erpTimeoutRate: 0.005,
  erpTimeoutMs: 1000,
  vendorApiErrorRate: 0.02,
  putEventsFailedEntryRate: 0.02,
  dynamoDbThrottleRate: 0.02,
  crashes: 1,
  crashFunctions: ['PostInvoice', 'ApplyPayment'],
  webhookOutageMs: 3000,
};

/** What each twin is set to for the run. */
export const twinFaults = (faults: ChaosFaults, seed: number) => {
  const webhooks: FaultConfig = { duplicateRate: faults.duplicateRate, reorderRate: faults.reorderRate };
  return {
    netsuite: {
      seed,
      errorRate: faults.erpErrorRate,
      throttle: { ...faults.erpThrottle },
      timeoutRate: faults.erpTimeoutRate,
      timeoutMs: faults.erpTimeoutMs,
    },
    stripe: { seed: seed + 1, errorRate: faults.vendorApiErrorRate },
    salesforce: { seed: seed + 2, errorRate: faults.vendorApiErrorRate, ...webhooks },
    hubspot: { seed: seed + 3, errorRate: faults.vendorApiErrorRate, ...webhooks },
  } satisfies Record<string, FaultConfig>;
};

/** The AWS emulators' steady faults for the run (the crash and the outage come and go). */
export const awsFaults = (faults: ChaosFaults, seed: number): AwsFaultConfig => ({
  seed,
  eventbridge: { failedEntryRate: faults.putEventsFailedEntryRate },
  dynamodb: { errorRate: faults.dynamoDbThrottleRate },
});

export const setTwinFaults = (runtime: LocalRuntime, faults: ReturnType<typeof twinFaults> | undefined) => {
  runtime.netsuite?.faults.set(faults?.netsuite ?? {});
  runtime.stripe?.faults.set(faults?.stripe ?? {});
  runtime.salesforce?.faults.set(faults?.salesforce ?? {});
  runtime.hubspot?.faults.set(faults?.hubspot ?? {});
};
