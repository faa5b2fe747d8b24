import { invalidRequest } from './errors';
import type { Params } from './form';
import { isJsonObject, type Json, type JsonObject } from './json';

/**
 * Stripe's cursor pagination (https://docs.stripe.com/api/pagination): newest first, `limit` 1..100
 * (default 10), `starting_after` for the next page and `ending_before` for the previous one, and
 * `has_more` saying whether another page exists in that direction.
 */
export interface Listable {
  id: string;
  seq: number;
  created: number;
}

export const PAGE_PARAMS = ['limit', 'starting_after', 'ending_before', 'created'] as const;

export function paginate<T extends Listable>(
  params: Params,
  items: readonly T[],
  render: (item: T) => JsonObject,
  url: string,
): JsonObject {
  const limit = params.int('limit', { min: 1, max: 100 }) ?? 10;
  const startingAfter = params.string('starting_after');
  const endingBefore = params.string('ending_before');
  if (startingAfter !== undefined && endingBefore !== undefined) {
    throw invalidRequest(
      'You may only specify one of these parameters: ending_before, starting_after.',
      'ending_before',
    );
  }
  const created = createdFilter(params);
  const sorted = items
    .filter((item) => created(item.created))
    .sort((a, b) => b.created - a.created || b.seq - a.seq);
  let page: T[];
  let hasMore: boolean;
  if (endingBefore !== undefined) {
    const index = cursorIndex(sorted, endingBefore, 'ending_before');
    const start = Math.max(0, index - limit);
    page = sorted.slice(start, index);
    hasMore = start > 0;
  } else {
    const start = startingAfter === undefined ? 0 : cursorIndex(sorted, startingAfter, 'starting_after') + 1;
    page = sorted.slice(start, start + limit);
    hasMore = start + limit < sorted.length;
  }
  return { object: 'list', data: page.map(render), has_more: hasMore, url };
}

function cursorIndex(items: readonly Listable[], id: string, param: string): number {
  const index = items.findIndex((item) => item.id === id);
  if (index < 0) throw invalidRequest(`No such object: '${id}'`, param, 'resource_missing');
  return index;
}

/** `created=<ts>` or `created[gt|gte|lt|lte]=<ts>`. */
function createdFilter(params: Params): (created: number) => boolean {
  if (!params.has('created')) return () => true;
  const range = params.object('created');
  if (range === undefined) {
    const exact = params.int('created');
    return (created) => exact === undefined || created === exact;
  }
  range.allow('gt', 'gte', 'lt', 'lte');
  const gt = range.int('gt');
  const gte = range.int('gte');
  const lt = range.int('lt');
  const lte = range.int('lte');
  return (c) =>
    (gt === undefined || c > gt) &&
    (gte === undefined || c >= gte) &&
    (lt === undefined || c < lt) &&
    (lte === undefined || c <= lte);
}

export interface Expander {
  /** Renders the object an id refers to, or undefined when the id is not an expandable reference. */
  resolve(id: string): JsonObject | undefined;
  /** Includable fields, present only when expanded (an invoice's `payments`). */
  include(object: JsonObject, key: string): Json | undefined;
}

/** https://docs.stripe.com/expand: "Expansions have a maximum depth of four levels". */
const MAX_EXPAND_DEPTH = 4;

/** Replaces id strings named by `expand[]` paths (`latest_invoice`, `data.customer`, `items.data.price.product`). */
export function applyExpand(body: JsonObject, paths: readonly string[], expander: Expander): void {
  for (const path of paths) {
    const segments = path.split('.');
    if (segments.filter((s) => s !== 'data').length > MAX_EXPAND_DEPTH) {
      throw invalidRequest(
        `You cannot expand more than ${MAX_EXPAND_DEPTH} levels of a property. (${path})`,
        'expand',
      );
    }
    expandAt(body, segments, path, expander);
  }
}

function expandAt(
  node: Json | undefined,
  segments: readonly string[],
  path: string,
  expander: Expander,
): void {
  const [key, ...rest] = segments;
  if (key === undefined || node === null || node === undefined) return;
  if (Array.isArray(node)) {
    for (const item of node) expandAt(item, segments, path, expander);
    return;
  }
  if (!isJsonObject(node)) throw cannotExpand(path);
  let value = node[key];
  if (value === undefined) {
    value = expander.include(node, key);
    if (value === undefined) throw cannotExpand(path);
    node[key] = value;
  }
  if (typeof value === 'string') {
    const resolved = expander.resolve(value);
    if (resolved === undefined) throw cannotExpand(path);
    node[key] = resolved;
    value = resolved;
  }
  if (typeof value !== 'object') throw cannotExpand(path);
  if (rest.length > 0) expandAt(value, rest, path, expander);
}

const cannotExpand = (path: string) =>
  invalidRequest(
    `This property cannot be expanded (${path}). You may want to try expanding 'data.${path}' instead.`,
    'expand',
  );
