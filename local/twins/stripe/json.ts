export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export const isJsonObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    if (!jsonEqual(a[key], b[key])) return false;
  }
  return true;
}

/**
 * Stripe's `data.previous_attributes`: the values an update changed, as they were before. Nested hashes
 * (metadata, settings) report only their changed keys; a key the update added reports `null`. Lists
 * (`object: 'list'`) and arrays are reported whole.
 */
export function previousAttributes(before: JsonObject, after: JsonObject): JsonObject {
  const previous: JsonObject = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const old = before[key];
    const now = after[key];
    if (jsonEqual(old, now)) continue;
    if (isJsonObject(old) && isJsonObject(now) && old.object !== 'list' && typeof old.id !== 'string') {
      previous[key] = previousAttributes(old, now);
    } else {
      previous[key] = old ?? null;
    }
  }
  return previous;
}
