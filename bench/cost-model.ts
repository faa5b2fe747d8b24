import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { BILLED_UNITS, type BilledUnit, type Usage } from '../local/aws/billing-meter';

/**
 * Dollars per million flows from what the local runtime counted (local/aws/billing-meter.ts) and the
 * dated price table (bench/prices.json), beside the floor: the parts the architecture requires.
 */

interface Price {
  readonly usd: number;
  readonly per: number;
  readonly unit: string;
  readonly source: string;
  readonly sampled?: number;
}

export interface PriceTable {
  readonly region: string;
  readonly writtenOn: string;
  readonly status: string;
  readonly prices: Readonly<Record<string, Price>>;
  readonly modeled: {
    readonly lambdaPlatformLogBytesPerInvocation: { readonly bytes: number };
    readonly apiAccessLogBytesPerRequest: { readonly bytes: number };
  };
}

export type ApiKind = 'rest' | 'http';

export const loadPrices = (): PriceTable =>
  JSON.parse(readFileSync(path.join(__dirname, 'prices.json'), 'utf8')) as PriceTable;

const priceKey = (unit: BilledUnit, api: ApiKind): string =>
  unit === 'apigateway.requests' ? `apigateway.${api}.requests` : unit;

const LABELS: Record<BilledUnit, string> = {
  'apigateway.requests': 'API Gateway',
  'lambda.requests': 'Lambda requests',
  'lambda.gbSeconds.arm64': 'Lambda GB-s arm64',
  'lambda.gbSeconds.x86_64': 'Lambda GB-s x86',
  'sqs.requests': 'SQS requests',
  'eventbridge.events': 'EventBridge events',
  'dynamodb.writeUnits': 'DynamoDB WRU',
  'dynamodb.readUnits': 'DynamoDB RRU',
  'stepfunctions.transitions': 'Step Functions',
  'cloudwatch.logBytes': 'CloudWatch Logs bytes',
  'secretsmanager.calls': 'Secrets Manager',
  'xray.traces': 'X-Ray traces',
};

export interface CostLine {
  readonly unit: BilledUnit;
  readonly label: string;
  readonly line: string;
  /** What was counted over the measured run. */
  readonly quantity: number;
  readonly perFlow: number;
  readonly usdPerMillionFlows: number;
}

/** Adds what the runtime cannot see but AWS bills: Lambda's platform log lines and the API access log. */
export const withModeledLogs = (usage: Usage, prices: PriceTable): Usage => {
  const logs = new Map(usage['cloudwatch.logBytes']);
  let invocations = 0;
  for (const count of usage['lambda.requests'].values()) invocations += count;
  let requests = 0;
  for (const count of usage['apigateway.requests'].values()) requests += count;
  const platform = invocations * prices.modeled.lambdaPlatformLogBytesPerInvocation.bytes;
  const access = requests * prices.modeled.apiAccessLogBytesPerRequest.bytes;
  if (platform > 0) logs.set('Lambda platform lines (modeled)', platform);
  if (access > 0) logs.set('API access log (modeled)', access);
  return { ...usage, 'cloudwatch.logBytes': logs };
};

export const costLines = (usage: Usage, flows: number, prices: PriceTable, api: ApiKind): CostLine[] => {
  const lines: CostLine[] = [];
  for (const unit of BILLED_UNITS) {
    const price = prices.prices[priceKey(unit, api)];
    if (!price) throw new Error(`bench/prices.json has no price for ${priceKey(unit, api)}`);
    for (const [line, quantity] of usage[unit]) {
      const perFlow = quantity / flows;
      const billed = perFlow * (price.sampled ?? 1);
      lines.push({
        unit,
        label: unit === 'apigateway.requests' ? `API Gateway ${api.toUpperCase()}` : LABELS[unit],
        line,
        quantity,
        perFlow,
        usdPerMillionFlows: (billed * 1e6 * price.usd) / price.per,
      });
    }
  }
  return lines;
};

export const total = (lines: readonly CostLine[]): number =>
  lines.reduce((sum, line) => sum + line.usdPerMillionFlows, 0);

/** The Lambda compute per flow of the functions whose name contains one of `names` (case-insensitive). */
const computeOf = (usage: Usage, names: readonly string[], unit: BilledUnit): number => {
  let sum = 0;
  for (const [fn, quantity] of usage[unit]) {
    const lower = fn.toLowerCase().replace(/[^a-z0-9]/g, '');
    if (names.some((name) => lower.includes(name))) sum += quantity;
  }
  return sum;
};

/**
 * The floor of a queue-consumer flow: one API request, one ingest invocation, one EventBridge event,
 * one SQS message (sent, then received and deleted in batches of 10), a consumer invoked once per 10
 * records, one idempotency write, one ERP call (no AWS charge: its wait is in the consumer's measured
 * duration). The two functions' GB-seconds are the measured ones: the floor is about requests per hop.
 * The log lines every invocation and request write (platform lines, access log) are in it too.
 */
export const floorUsage = (
  usage: Usage,
  flows: number,
  functions: { readonly ingest: string; readonly consumer: string },
  prices: PriceTable,
  extra: Partial<Record<BilledUnit, number>> = {},
): Usage => {
  const names = [functions.ingest, functions.consumer].map((name) =>
    name.replace(/[^a-z0-9]/gi, '').toLowerCase(),
  );
  const per = (quantity: number) => quantity * flows;
  const invocations = 1 + 1 / 10;
  const parts: Record<BilledUnit, Map<string, number>> = Object.fromEntries(
    BILLED_UNITS.map((unit) => [unit, new Map<string, number>()]),
  ) as Record<BilledUnit, Map<string, number>>;
  parts['apigateway.requests'].set('one webhook request', per(1));
  parts['lambda.requests'].set('ingest + consumer per 10 records', per(invocations));
  for (const unit of ['lambda.gbSeconds.arm64', 'lambda.gbSeconds.x86_64'] as const) {
    const measured = computeOf(usage, names, unit);
    if (measured > 0) parts[unit].set('ingest + consumer, as measured', measured);
  }
  parts['eventbridge.events'].set('one canonical event', per(1));
  parts['sqs.requests'].set('send 1, receive and delete per 10', per(1 + 2 / 10));
  parts['dynamodb.writeUnits'].set('one idempotency write', per(1));
  parts['cloudwatch.logBytes'].set(
    'platform lines + access log',
    per(
      invocations * prices.modeled.lambdaPlatformLogBytesPerInvocation.bytes +
        prices.modeled.apiAccessLogBytesPerRequest.bytes,
    ),
  );
  for (const [unit, quantity] of Object.entries(extra) as [BilledUnit, number][])
    parts[unit].set('required by the flow', per(quantity));
  return parts;
};

/** Per billed unit: counted quantity per flow (for the "request count behind each line"). */
export const formatLines = (lines: readonly CostLine[]): string[] =>
  lines
    .filter((line) => line.quantity > 0)
    .map(
      (line) =>
        `        ${line.label.padEnd(22)} ${line.line.slice(0, 58).padEnd(58)} ${formatQuantity(line.quantity).padStart(12)} ${formatQuantity(line.perFlow).padStart(9)}/flow  $${line.usdPerMillionFlows.toFixed(3).padStart(7)}`,
    );

const formatQuantity = (value: number): string =>
  value >= 1e6
    ? `${(value / 1e6).toFixed(2)}M`
    : value >= 1000
      ? `${(value / 1000).toFixed(1)}k`
      : value >= 10
        ? value.toFixed(0)
        : value.toFixed(value >= 1 ? 2 : 4);
