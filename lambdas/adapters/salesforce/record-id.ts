/**
 * Salesforce record ids (organization ids included) come in two forms: 15 characters, case-sensitive,
 * and 18 characters, the same 15 followed by a 3-character suffix that encodes which of them are
 * upper-case, so that systems comparing case-insensitively cannot confuse two ids. The API accepts
 * both and answers with the 18-character form; administrators copy either one from Setup.
 * https://help.salesforce.com/s/articleView?id=000385008 (What are Salesforce IDs composed of?)
 *
 * The suffix: split the 15 characters into three chunks of 5; in each chunk, character i (from the
 * left) sets bit i when it is an upper-case A-Z; each chunk's 5-bit value indexes `A-Z0-5`.
 */

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const ID_15 = /^[a-zA-Z0-9]{15}$/;
const ID_18 = /^[a-zA-Z0-9]{18}$/;

export const isRecordId = (value: string): boolean => ID_15.test(value) || ID_18.test(value);

/** The 3-character case-safe suffix of a 15-character id. */
export const caseSafeSuffix = (id15: string): string => {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let position = 0; position < 5; position++) {
      const char = id15.charAt(chunk * 5 + position);
      if (char >= 'A' && char <= 'Z') bits |= 1 << position;
    }
    suffix += SUFFIX_ALPHABET.charAt(bits);
  }
  return suffix;
};

/** True when an 18-character id's suffix is the one its first 15 characters produce. */
export const hasValidSuffix = (id18: string): boolean =>
  ID_18.test(id18) && caseSafeSuffix(id18.slice(0, 15)) === id18.slice(15).toUpperCase();

/**
 * The 18-character form of a 15- or 18-character id (the suffix recomputed, so upper-case), or
 * `undefined` when the value is not a record id.
 */
export const toCaseSafeId = (id: string): string | undefined => {
  if (!isRecordId(id)) return undefined;
  const id15 = id.slice(0, 15);
  return id15 + caseSafeSuffix(id15);
};

/**
 * Whether two ids, each in either form, name the same record: the first 15 characters must be equal
 * case-sensitively (`00Dxx...a` and `00Dxx...A` are different records), and when both carry a suffix
 * the suffixes must agree (case-insensitively: the suffix exists to survive case folding).
 */
export const sameRecordId = (a: string, b: string): boolean => {
  if (!isRecordId(a) || !isRecordId(b)) return false;
  if (a.slice(0, 15) !== b.slice(0, 15)) return false;
  if (a.length === 18 && b.length === 18) return a.slice(15).toUpperCase() === b.slice(15).toUpperCase();
  return true;
};
