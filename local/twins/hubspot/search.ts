/** CRM search: filter groups, operators, sorts and paging over the portal's records. */
import { badRequest } from './errors';
import { present } from './render';
import type { ObjectTypeDef } from './schema';
import type { CrmObject, CrmStore } from './store';

const MAX_SEARCH_PAGE = 200;

/**
 * CRM search with filter groups (OR of ANDed filters), sorts and paging. Unlike HubSpot, where new and
 * changed records show up in search after a few seconds, the twin's index is always current.
 */
export function search(store: CrmStore, def: ObjectTypeDef, body: Record<string, unknown>) {
  const groups = Array.isArray(body.filterGroups) ? (body.filterGroups as Array<{ filters?: unknown }>) : [];
  const limit = clamp(Number(body.limit ?? 10), 1, MAX_SEARCH_PAGE);
  const after = Number(body.after ?? 0);
  const matches = store.list(def.name).filter((o) => {
    if (groups.length === 0) return true;
    return groups.some((g) => {
      const filters = Array.isArray(g.filters) ? (g.filters as Array<Record<string, unknown>>) : [];
      return filters.every((f) => matchFilter(def, o, f));
    });
  });
  const sorts = Array.isArray(body.sorts) ? body.sorts : [];
  const sorted = [...matches];
  for (const sort of [...sorts].reverse()) {
    const spec =
      typeof sort === 'string'
        ? {
            propertyName: sort.replace(/^-/, ''),
            direction: sort.startsWith('-') ? 'DESCENDING' : 'ASCENDING',
          }
        : (sort as { propertyName?: string; direction?: string });
    const name = spec.propertyName ?? 'hs_object_id';
    const sign = spec.direction === 'DESCENDING' ? -1 : 1;
    sorted.sort((a, b) => sign * compareValues(a.properties[name] ?? null, b.properties[name] ?? null));
  }
  const page = sorted.slice(after, after + limit);
  const requested = Array.isArray(body.properties) ? body.properties.map(String) : undefined;
  const results = page.map((o) => present(store, def, o, requested));
  const nextAfter = after + page.length;
  return {
    total: sorted.length,
    results,
    ...(nextAfter < sorted.length ? { paging: { next: { after: String(nextAfter) } } } : {}),
  };
}

function matchFilter(def: ObjectTypeDef, object: CrmObject, filter: Record<string, unknown>): boolean {
  const name = String(filter.propertyName ?? '');
  if (!def.properties.some((p) => p.name === name)) {
    throw badRequest(`There was a problem with the request: property ${name} does not exist`);
  }
  const actual = object.properties[name] ?? null;
  const value = filter.value === undefined ? undefined : String(filter.value);
  const values = Array.isArray(filter.values) ? filter.values.map(String) : [];
  switch (String(filter.operator ?? 'EQ')) {
    case 'EQ':
      return actual !== null && value !== undefined && compareValues(actual, value) === 0;
    case 'NEQ':
      return actual === null || value === undefined || compareValues(actual, value) !== 0;
    case 'LT':
      return actual !== null && value !== undefined && compareValues(actual, value) < 0;
    case 'LTE':
      return actual !== null && value !== undefined && compareValues(actual, value) <= 0;
    case 'GT':
      return actual !== null && value !== undefined && compareValues(actual, value) > 0;
    case 'GTE':
      return actual !== null && value !== undefined && compareValues(actual, value) >= 0;
    case 'BETWEEN': {
      const high = filter.highValue === undefined ? undefined : String(filter.highValue);
      return (
        actual !== null &&
        value !== undefined &&
        high !== undefined &&
        compareValues(actual, value) >= 0 &&
        compareValues(actual, high) <= 0
      );
    }
    case 'IN':
      return actual !== null && values.some((v) => compareValues(actual, v) === 0);
    case 'NOT_IN':
      return actual === null || !values.some((v) => compareValues(actual, v) === 0);
    case 'HAS_PROPERTY':
      return actual !== null;
    case 'NOT_HAS_PROPERTY':
      return actual === null;
    case 'CONTAINS_TOKEN':
      return (
        actual !== null &&
        value !== undefined &&
        actual.toLowerCase().includes(value.replace(/\*/g, '').toLowerCase())
      );
    default:
      throw badRequest(`Unsupported filter operator ${String(filter.operator)}`);
  }
}

export function clamp(n: number, min: number, max: number): number {
  if (!Number.isFinite(n)) return min;
  return Math.min(max, Math.max(min, Math.trunc(n)));
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** Numbers compare as numbers, everything else case-insensitively, as HubSpot search does. */
function compareValues(a: string | null, b: string | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  // Date-time properties hold ISO strings; filters give them in epoch milliseconds (or ISO).
  const ta = ISO_DATE_TIME.test(a) ? String(Date.parse(a)) : a;
  const tb = ISO_DATE_TIME.test(b) ? String(Date.parse(b)) : b;
  if (ta !== a || tb !== b) return compareValues(ta, tb);
  const na = Number(a);
  const nb = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  return la < lb ? -1 : la > lb ? 1 : 0;
}
