/** The local EventBridge's limits and request rules: names, bus references, entry sizes and event times. */
import type { JsonValue } from './pattern';
import type { PutEventsRequestEntry } from './types';

export const DEFAULT_BUS = 'default';
// Limits from https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html and the API reference.
export const MAX_ENTRIES_PER_PUT = 10;
export const MAX_TARGETS_PER_RULE = 5;
export const DEFAULT_RETRY_ATTEMPTS = 185;
export const DEFAULT_EVENT_AGE_SECONDS = 86_400;
export const NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
export const BUS_NAME = /^[/.\-_A-Za-z0-9]{1,256}$/;

export const isJsonObject = (value: unknown): value is { [key: string]: JsonValue } =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
/** EventBridge writes event times to the second: "2017-12-22T18:43:48Z". */
export const eventTime = (ms: number) =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
export const utf8Bytes = (text: string | undefined) =>
  text === undefined ? 0 : Buffer.byteLength(text, 'utf8');

export const resolveBusName = (nameOrArn: string | undefined): string => {
  if (nameOrArn === undefined || nameOrArn === '') return DEFAULT_BUS;
  const marker = ':event-bus/';
  const at = nameOrArn.indexOf(marker);
  return nameOrArn.startsWith('arn:') && at >= 0 ? nameOrArn.slice(at + marker.length) : nameOrArn;
};

/** An entry's size as PutEvents counts it (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html). */
export const entrySize = (entry: PutEventsRequestEntry): number =>
  (entry.Time === undefined ? 0 : 14) +
  utf8Bytes(entry.Source) +
  utf8Bytes(entry.DetailType) +
  utf8Bytes(entry.Detail) +
  (entry.Resources ?? []).reduce((total, resource) => total + utf8Bytes(resource), 0);
