/**
 * Salesforce record ids: a 3-character key prefix naming the object, 12 more characters, and a 3-character
 * suffix that makes the case-sensitive 15-character id safe for case-insensitive systems. The API accepts
 * both forms and always answers with the 18-character one.
 * https://help.salesforce.com/s/articleView?id=000385008 (What are Salesforce IDs composed of?)
 */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/** The 3-character suffix: one character per 5-character chunk, a bit set for every upper-case letter. */
export function idSuffix(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charAt(chunk * 5 + i);
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    suffix += SUFFIX_ALPHABET.charAt(bits);
  }
  return suffix;
}

const ID15 = /^[a-zA-Z0-9]{15}$/;
const ID18 = /^[a-zA-Z0-9]{18}$/;

/** The 18-character form of a 15- or 18-character id, or `undefined` when it is not an id at all. */
export function toId18(id: string): string | undefined {
  if (ID15.test(id)) return id + idSuffix(id);
  if (ID18.test(id)) {
    const id15 = id.slice(0, 15);
    // The suffix is case-insensitive by design; the first 15 characters are not.
    return idSuffix(id15) === id.slice(15).toUpperCase() ? id15 + idSuffix(id15) : undefined;
  }
  return undefined;
}

/**
 * Mints ids like a real org: key prefix, a 2-character pod/instance part, then a zero-padded base62
 * counter, so ids sort by creation and are reproducible across runs.
 */
export class RecordIdMinter {
  private readonly counters = new Map<string, number>();

  constructor(private readonly instance = '8d') {}

  next(keyPrefix: string): string {
    const n = (this.counters.get(keyPrefix) ?? 0) + 1;
    this.counters.set(keyPrefix, n);
    let digits = '';
    let rest = n;
    while (rest > 0) {
      digits = BASE62.charAt(rest % 62) + digits;
      rest = Math.floor(rest / 62);
    }
    const body = `${keyPrefix}${this.instance}${digits.padStart(10, '0')}`;
    return body + idSuffix(body);
  }
}
