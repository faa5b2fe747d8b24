import { invalidValue } from './errors';

/**
 * The keys of a transaction's item sublist, as NetSuite keeps them
 * (https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545297048.html): a line keeps
 * its `line` key for life; a line written with its key updates that line, with only the fields given
 * (the others stay as they were); a line written without a key is new and gets the next key; a key the
 * record does not have is refused. What is sent is the whole sublist: under `replace=item` an existing
 * line left out is removed, without `replace` the lines sent are added to the existing ones.
 */

type Json = Record<string, unknown>;

/** Fields NetSuite derives from others: given a new quantity or rate, it works the amount out again. */
const DERIVED_FROM_QUANTITY_AND_RATE = ['amount'] as const;

export interface KeyedLine {
  readonly key: number;
  /** The line's fields to validate: the stored line's, overlaid by the ones written. */
  readonly fields: Json;
}

export function keyItemLines(incoming: readonly unknown[], previous: readonly Json[]): KeyedLine[] {
  const byKey = new Map<number, Json>();
  for (const line of previous) if (typeof line.line === 'number') byKey.set(line.line, line);
  let next = Math.max(0, ...byKey.keys()) + 1;
  const seen = new Set<number>();
  return incoming.map((line, index) => {
    const path = `item.items[${index}]`;
    if (typeof line !== 'object' || line === null || Array.isArray(line)) {
      throw invalidValue('Invalid line: expected an object.', path);
    }
    const { line: key, links: _links, ...written } = line as Json;
    // A record being created has no lines yet: whatever keys the body carries, lines count from 1.
    if (key === undefined || key === null || byKey.size === 0) return { key: next++, fields: written };
    const stored = typeof key === 'number' ? byKey.get(key) : undefined;
    if (stored === undefined || seen.has(key as number)) {
      throw invalidValue(
        `Invalid line reference ${JSON.stringify(key)}: the transaction has no such line.`,
        `${path}.line`,
      );
    }
    seen.add(key as number);
    const { line: _key, ...kept } = stored;
    const recomputed = 'quantity' in written || 'rate' in written;
    for (const field of DERIVED_FROM_QUANTITY_AND_RATE) {
      if (recomputed && !(field in written)) delete kept[field];
    }
    if (written.isClosed !== undefined && typeof written.isClosed !== 'boolean') {
      throw invalidValue('Invalid value for field isClosed: expected true or false.', `${path}.isClosed`);
    }
    return { key: key as number, fields: { ...kept, ...written } };
  });
}
