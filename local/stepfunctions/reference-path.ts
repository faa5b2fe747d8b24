/**
 * Reference Paths (the subset of JSONPath that `SecondsPath`/`TimestampPath` accept: `$`, `.name`,
 * `['name']`, `[0]`), used where the local engine evaluates a Wait state itself.
 * https://states-language.net/spec.html#ref-paths
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export const isJsonObject = (value: unknown): value is { [key: string]: JsonValue } =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Turns any value into plain JSON (what crosses a state boundary in Step Functions). */
export const toJson = (value: unknown): JsonValue => {
  if (value === undefined) return null;
  const text = JSON.stringify(value);
  return text === undefined ? null : (JSON.parse(text) as JsonValue);
};

const parseSegments = (path: string): (string | number)[] | undefined => {
  if (!path.startsWith('$')) return undefined;
  const segments: (string | number)[] = [];
  let i = 1;
  while (i < path.length) {
    const char = path[i];
    if (char === '.') {
      let end = i + 1;
      while (end < path.length && path[end] !== '.' && path[end] !== '[') end += 1;
      const name = path.slice(i + 1, end);
      if (name.length === 0) return undefined;
      segments.push(name);
      i = end;
    } else if (char === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) return undefined;
      const inner = path.slice(i + 1, close).trim();
      const quoted = /^'(.*)'$|^"(.*)"$/.exec(inner);
      if (quoted) segments.push(quoted[1] ?? quoted[2] ?? '');
      else if (/^\d+$/.test(inner)) segments.push(Number(inner));
      else return undefined;
      i = close + 1;
    } else {
      return undefined;
    }
  }
  return segments;
};

/**
 * Resolves a Reference Path against the input (`$...`) or the context object (`$$...`).
 * Returns `undefined` when the path does not point to a value; throws on a malformed path.
 */
export const resolveReferencePath = (
  path: string,
  input: JsonValue,
  context: JsonValue,
): JsonValue | undefined => {
  const fromContext = path.startsWith('$$');
  const segments = parseSegments(fromContext ? path.slice(1) : path);
  if (!segments) throw new Error(`'${path}' is not a valid Reference Path`);
  let current: JsonValue | undefined = fromContext ? context : input;
  for (const segment of segments) {
    if (typeof segment === 'number') {
      current = Array.isArray(current) ? current[segment] : undefined;
    } else {
      current = isJsonObject(current) ? current[segment] : undefined;
    }
    if (current === undefined) return undefined;
  }
  return current;
};
