/**
 * Counts what AWS would bill for the requests the local runtime serves: each emulator adds its
 * billed units here as it handles a request, so a bench run can price a flow from what it did,
 * not from what the design says it does. The units are AWS's billing units (a 64 KB chunk of an
 * SQS request or an EventBridge event, a DynamoDB request unit, a GB-second), never dollars: the
 * price table (bench/prices.json) turns them into money.
 */

/** The billing dimensions the runtime can observe; the price table has one price for each. */
export const BILLED_UNITS = [
  'apigateway.requests',
  'lambda.requests',
  'lambda.gbSeconds.arm64',
  'lambda.gbSeconds.x86_64',
  'sqs.requests',
  'eventbridge.events',
  'dynamodb.writeUnits',
  'dynamodb.readUnits',
  'stepfunctions.transitions',
  'cloudwatch.logBytes',
  'secretsmanager.calls',
  'xray.traces',
] as const;
export type BilledUnit = (typeof BILLED_UNITS)[number];

/** What was counted: per unit, per line (who made the request, and which). */
export type Usage = Readonly<Record<BilledUnit, ReadonlyMap<string, number>>>;

/** SQS bills each 64 KB chunk of a request's payload as one request; EventBridge each 64 KB chunk of an event. */
export const CHUNK_BYTES = 64 * 1024;
export const chunks = (bytes: number): number => Math.max(1, Math.ceil(bytes / CHUNK_BYTES));

/**
 * Lambda's pollers long-poll SQS for 20 s; the local poller waits less so a stopping runtime is not
 * held up. An empty local receive is counted as the share of a 20 s AWS long poll it stands for.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
 */
export const LAMBDA_POLLER_WAIT_SECONDS = 20;

export class BillingMeter {
  private counts = new Map<BilledUnit, Map<string, number>>();

  add(unit: BilledUnit, quantity: number, line: string): void {
    if (quantity === 0) return;
    let lines = this.counts.get(unit);
    if (!lines) {
      lines = new Map();
      this.counts.set(unit, lines);
    }
    lines.set(line, (lines.get(line) ?? 0) + quantity);
  }

  /**
   * One Lambda invocation: a request, and GB-seconds from the duration rounded up to the millisecond
   * times the configured memory. The init phase of a cold start is billed too (since August 2025,
   * https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/).
   */
  lambdaInvocation(
    functionName: string,
    memoryMb: number,
    architecture: 'arm64' | 'x86_64',
    durationMs: number,
    initMs = 0,
  ): void {
    this.add('lambda.requests', 1, functionName);
    const billedMs = Math.ceil(durationMs) + Math.ceil(initMs);
    this.add(`lambda.gbSeconds.${architecture}`, (memoryMb / 1024) * (billedMs / 1000), functionName);
  }

  /** One SQS API request (or a batch), billed per 64 KB chunk of its payload. */
  sqsRequest(operation: string, payloadBytes: number, caller: string): void {
    this.add('sqs.requests', chunks(payloadBytes), `${operation} (${caller})`);
  }

  /** PutEvents: every entry is one event per 64 KB chunk, however many entries one request carries. */
  putEvents(entryBytes: readonly number[], caller: string): void {
    this.add(
      'eventbridge.events',
      entryBytes.reduce((sum, bytes) => sum + chunks(bytes), 0),
      `PutEvents (${caller})`,
    );
  }

  /** Everything counted, per unit and line; a copy. */
  usage(): Usage {
    return Object.fromEntries(
      BILLED_UNITS.map((unit) => [unit, new Map(this.counts.get(unit) ?? [])]),
    ) as unknown as Usage;
  }

  /** Total of one unit over its lines. */
  total(unit: BilledUnit): number {
    let sum = 0;
    for (const quantity of this.counts.get(unit)?.values() ?? []) sum += quantity;
    return sum;
  }

  reset(): void {
    this.counts = new Map();
  }
}

/**
 * The size EventBridge bills for an entry: the UTF-8 bytes of Detail, DetailType, Source and
 * Resources, plus 14 bytes for Time when given.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
 */
export const putEventsEntrySize = (entry: Readonly<Record<string, unknown>>): number => {
  let size = entry.Time === undefined ? 0 : 14;
  for (const key of ['Detail', 'DetailType', 'Source'] as const) {
    const value = entry[key];
    if (typeof value === 'string') size += Buffer.byteLength(value);
  }
  if (Array.isArray(entry.Resources)) {
    for (const resource of entry.Resources)
      if (typeof resource === 'string') size += Buffer.byteLength(resource);
  }
  return size;
};
