import fc from 'fast-check';

/**
 * Seeded mutations of valid vendor requests, for property-based tests of the ingests. Every run is
 * reproducible from `FC_SEED` (fast-check prints the seed and the shrunk counterexample on failure).
 */
export const PROPERTY_SEED = Number(process.env.FC_SEED ?? 20_261_203);

/** Edits of raw bytes, as a proxy, a truncating load balancer or an attacker would make them. */
export type ByteEdit =
  | { kind: 'flip'; at: number; byte: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'truncate'; at: number };

export const byteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

/** Applies the edits in order; positions wrap around the current length, so every edit lands. */
export const applyByteEdits = (body: Buffer, edits: readonly ByteEdit[]): Buffer => {
  let bytes = Buffer.from(body);
  for (const edit of edits) {
    const at = bytes.length === 0 ? 0 : edit.at % bytes.length;
    switch (edit.kind) {
      case 'flip': {
        const copy = Buffer.from(bytes);
        if (copy.length > 0) copy[at] = edit.byte;
        bytes = copy;
        break;
      }
      case 'insert':
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(edit.bytes), bytes.subarray(at)]);
        break;
      case 'delete':
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + edit.length)]);
        break;
      case 'truncate':
        bytes = bytes.subarray(0, at);
        break;
    }
  }
  return bytes;
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = readonly (string | number)[];

/** Every path to a value inside a JSON document (the root excluded). */
export const jsonPaths = (value: unknown, prefix: Path = []): Path[] => {
  if (Array.isArray(value)) {
    return value.flatMap((item, index) => [[...prefix, index], ...jsonPaths(item, [...prefix, index])]);
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => [
      [...prefix, key],
      ...jsonPaths(item, [...prefix, key]),
    ]);
  }
  return [];
};

/** A structural edit: a field removed, or its value replaced by any JSON value (wrong type, null...). */
export type JsonEdit = { path: Path; replacement: { remove: true } | { value: unknown } };

export const jsonEdit = (document: unknown): fc.Arbitrary<JsonEdit> =>
  fc.record({
    path: fc.constantFrom(...jsonPaths(document)),
    replacement: fc.oneof(
      fc.constant({ remove: true as const }),
      fc.record({
        value: fc.oneof(
          fc.jsonValue({ maxDepth: 2 }),
          fc.constantFrom(null, '', -1, 0, 1e308, 'NaN', [], {}, '9'.repeat(40)),
        ),
      }),
    ),
  });

/** A deep copy of the document with the edits applied (paths that an earlier edit removed are skipped). */
export const applyJsonEdits = (document: unknown, edits: readonly JsonEdit[]): unknown => {
  const copy = structuredClone(document) as Json;
  for (const { path, replacement } of edits) {
    let parent: Json | undefined = copy;
    for (const key of path.slice(0, -1)) {
      parent =
        parent !== null && typeof parent === 'object' ? (parent as Record<string, Json>)[key] : undefined;
    }
    const last = path[path.length - 1];
    if (parent === null || typeof parent !== 'object' || last === undefined) continue;
    const container = parent as Record<string | number, Json>;
    if (!(last in container)) continue;
    if ('remove' in replacement) {
      if (Array.isArray(container)) container.splice(Number(last), 1);
      else delete container[last];
    } else {
      container[last] = replacement.value as Json;
    }
  }
  return copy;
};

/**
 * What a rejection told the sender must be safe and useful: a short sentence, no stack trace, no
 * secret. Returns the problems found (empty when the reason is fine).
 */
export const reasonProblems = (reason: string, secrets: readonly string[]): string[] => {
  const problems: string[] = [];
  if (reason.trim().length === 0) problems.push('empty reason');
  if (reason.length > 500) problems.push(`reason of ${reason.length} characters`);
  if (/\n\s+at /.test(reason)) problems.push('stack trace in the reason');
  for (const secret of secrets) if (reason.includes(secret)) problems.push('secret in the reason');
  return problems;
};
