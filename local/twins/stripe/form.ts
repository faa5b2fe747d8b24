import { invalidRequest, missingParam, unknownParam } from './errors';

/**
 * Stripe's v1 API takes `application/x-www-form-urlencoded` bodies (and query strings) with nested keys
 * in brackets, the way the official SDKs encode them: `items[0][price]=price_1&metadata[k]=v&expand[]=x`.
 */
export type ParamValue = string | ParamValue[] | ParamMap;
export interface ParamMap {
  [key: string]: ParamValue;
}

const INDEX = /^\d+$/;

export class FormParseError extends Error {
  override readonly name = 'FormParseError';
}

/** Parses `a[b][0]=x` pairs into nested maps; maps whose keys are all indices become arrays. */
export function parseForm(pairs: Iterable<[string, string]>): ParamMap {
  const root: ParamMap = {};
  for (const [rawKey, value] of pairs) {
    const path = splitKey(rawKey);
    let node: ParamMap = root;
    path.forEach((segment, i) => {
      const key = segment === '' ? String(Object.keys(node).length) : segment;
      if (i === path.length - 1) {
        node[key] = value;
        return;
      }
      const next = node[key];
      if (next === undefined || typeof next === 'string') {
        // A scalar followed by a nested key (`a=1&a[b]=2`): Stripe keeps the nested form.
        const created: ParamMap = {};
        node[key] = created;
        node = created;
      } else if (Array.isArray(next)) {
        throw new FormParseError(`unexpected array at ${rawKey}`);
      } else {
        node = next;
      }
    });
  }
  return toArrays(root) as ParamMap;
}

function splitKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open < 0) return [key];
  const segments = [key.slice(0, open)];
  const rest = key.slice(open);
  const pattern = /\[([^\]]*)\]/g;
  let consumed = 0;
  for (let match = pattern.exec(rest); match !== null; match = pattern.exec(rest)) {
    if (match.index !== consumed) throw new FormParseError(`malformed key ${key}`);
    segments.push(match[1] ?? '');
    consumed = match.index + match[0].length;
  }
  if (consumed !== rest.length) throw new FormParseError(`malformed key ${key}`);
  return segments;
}

function toArrays(value: ParamValue): ParamValue {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const converted: ParamMap = {};
  for (const key of keys) {
    const child = value[key];
    if (child !== undefined) converted[key] = toArrays(child);
  }
  if (keys.length > 0 && keys.every((k) => INDEX.test(k))) {
    return keys
      .map(Number)
      .sort((a, b) => a - b)
      .map((k) => converted[String(k)])
      .filter((v): v is ParamValue => v !== undefined);
  }
  return converted;
}

/** Canonical form of a parameter tree, for comparing an idempotent retry with the first request. */
export function canonicalParams(value: ParamValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalParams).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalParams(value[k] ?? '')}`).join(',')}}`;
}

/** What a metadata parameter asks for: Stripe merges keys, and an empty value unsets a key or everything. */
export type MetadataUpdate =
  | { kind: 'clear' }
  | { kind: 'merge'; set: Record<string, string>; unset: string[] };

/**
 * Typed access to one level of parameters. Every error names the parameter the way Stripe does
 * (`items[0][price]`), and `allow` rejects parameters the twin does not serve instead of ignoring them,
 * so a client bug surfaces here rather than against the real API.
 */
export class Params {
  constructor(
    private readonly data: ParamMap,
    private readonly prefix = '',
  ) {}

  name(key: string): string {
    return this.prefix === '' ? key : `${this.prefix}[${key}]`;
  }

  has(key: string): boolean {
    return this.data[key] !== undefined;
  }

  /** True when the key was sent with an empty value, Stripe's way to unset a field. */
  isEmpty(key: string): boolean {
    return this.data[key] === '';
  }

  allow(...keys: string[]): this {
    const allowed = new Set([...keys, 'expand']);
    for (const key of Object.keys(this.data)) {
      if (!allowed.has(key)) throw unknownParam(this.name(key));
    }
    return this;
  }

  string(key: string): string | undefined {
    const value = this.data[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string')
      throw invalidRequest(`Invalid string: ${this.name(key)} must be a string`, this.name(key));
    return value;
  }

  requiredString(key: string): string {
    const value = this.string(key);
    if (value === undefined || value === '') throw missingParam(this.name(key));
    return value;
  }

  /** A string that may be sent empty to clear the field: `undefined` = untouched, `null` = cleared. */
  nullableString(key: string): string | null | undefined {
    const value = this.string(key);
    return value === '' ? null : value;
  }

  int(key: string, bounds: { min?: number; max?: number } = {}): number | undefined {
    const raw = this.string(key);
    if (raw === undefined || raw === '') return undefined;
    if (!/^-?\d+$/.test(raw)) {
      throw invalidRequest(`Invalid integer: ${raw}`, this.name(key), 'parameter_invalid_integer');
    }
    const value = Number(raw);
    if (bounds.min !== undefined && value < bounds.min) {
      throw invalidRequest(`This value must be greater than or equal to ${bounds.min}.`, this.name(key));
    }
    if (bounds.max !== undefined && value > bounds.max) {
      throw invalidRequest(`This value must be less than or equal to ${bounds.max}.`, this.name(key));
    }
    return value;
  }

  bool(key: string): boolean | undefined {
    const raw = this.string(key);
    if (raw === undefined || raw === '') return undefined;
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    throw invalidRequest(`Invalid boolean: ${raw}`, this.name(key));
  }

  oneOf<T extends string>(key: string, values: readonly T[]): T | undefined {
    const raw = this.string(key);
    if (raw === undefined || raw === '') return undefined;
    const match = values.find((v) => v === raw);
    if (match === undefined) {
      throw invalidRequest(`Invalid ${this.name(key)}: must be one of ${values.join(', ')}`, this.name(key));
    }
    return match;
  }

  object(key: string): Params | undefined {
    const value = this.data[key];
    if (value === undefined || value === '') return undefined;
    if (typeof value === 'string' || Array.isArray(value)) {
      throw invalidRequest(`Invalid object: ${this.name(key)} must be a hash`, this.name(key));
    }
    return new Params(value, this.name(key));
  }

  /** An array of hashes (`items[0][price]`); a hash with numeric keys is read as one too. */
  objects(key: string): Params[] | undefined {
    const value = this.data[key];
    if (value === undefined || value === '') return undefined;
    if (!Array.isArray(value))
      throw invalidRequest(`Invalid array: ${this.name(key)} must be an array`, this.name(key));
    return value.map((item, i) => {
      if (typeof item === 'string' || Array.isArray(item)) {
        throw invalidRequest(
          `Invalid object: ${this.name(key)}[${i}] must be a hash`,
          `${this.name(key)}[${i}]`,
        );
      }
      return new Params(item, `${this.name(key)}[${i}]`);
    });
  }

  /** An array of strings (`expand[]=a&expand[]=b`); a single string counts as one element. */
  strings(key: string): string[] | undefined {
    const value = this.data[key];
    if (value === undefined) return undefined;
    if (value === '') return [];
    if (typeof value === 'string') return [value];
    if (!Array.isArray(value))
      throw invalidRequest(`Invalid array: ${this.name(key)} must be an array`, this.name(key));
    return value.map((item, i) => {
      if (typeof item !== 'string') {
        throw invalidRequest(
          `Invalid string: ${this.name(key)}[${i}] must be a string`,
          `${this.name(key)}[${i}]`,
        );
      }
      return item;
    });
  }

  /**
   * Stripe's metadata rules (https://docs.stripe.com/api/metadata): up to 50 keys, keys up to 40
   * characters, values up to 500; `metadata[k]=` unsets one key and `metadata=` unsets them all.
   */
  metadata(key = 'metadata'): MetadataUpdate | undefined {
    const value = this.data[key];
    if (value === undefined) return undefined;
    if (value === '') return { kind: 'clear' };
    if (typeof value === 'string' || Array.isArray(value)) {
      throw invalidRequest(`Invalid hash: ${this.name(key)} must be a hash`, this.name(key));
    }
    const set: Record<string, string> = {};
    const unset: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      const param = `${this.name(key)}[${k}]`;
      if (typeof v !== 'string') throw invalidRequest(`Invalid string: ${param} must be a string`, param);
      if (k.length > 40)
        throw invalidRequest(`Metadata keys can be at most 40 characters long (${k}).`, param);
      if (v.length > 500) throw invalidRequest(`Metadata values can be at most 500 characters long.`, param);
      if (v === '') unset.push(k);
      else set[k] = v;
    }
    return { kind: 'merge', set, unset };
  }
}

export function applyMetadata(
  current: Record<string, string>,
  update: MetadataUpdate | undefined,
): Record<string, string> {
  if (update === undefined) return current;
  if (update.kind === 'clear') return {};
  const next = { ...current, ...update.set };
  for (const key of update.unset) delete next[key];
  if (Object.keys(next).length > 50) {
    throw invalidRequest('You can specify up to 50 keys in metadata.', 'metadata');
  }
  return next;
}
