import {
  caseSafeSuffix,
  hasValidSuffix,
  sameRecordId,
  toCaseSafeId,
} from '../../lambdas/adapters/salesforce/record-id';

/**
 * Published 15 → 18 pairs: gammone.com "How to convert Salesforce ID from 15 to 18 chars"
 * (a0D30000001n7Pi), and the worked example and test cases of codegolf.stackexchange.com question 69127.
 */
const PUBLISHED_PAIRS: readonly [string, string][] = [
  ['a0D30000001n7Pi', 'a0D30000001n7PiEAI'],
  ['a0RE000000IJmcN', 'a0RE000000IJmcNMAT'],
  ['a01M00000062mPg', 'a01M00000062mPgIAI'],
  ['001M000000qfPyS', '001M000000qfPySIAU'],
  ['a0FE000000D6r3F', 'a0FE000000D6r3FMAR'],
  ['0F9E000000092w2', '0F9E000000092w2KAA'],
  ['aaaaaaaaaaaaaaa', 'aaaaaaaaaaaaaaaAAA'],
  ['AbCdEfGhIjKlMnO', 'AbCdEfGhIjKlMnOVKV'],
  ['aBcDEfgHIJKLMNO', 'aBcDEfgHIJKLMNO025'],
];

describe('Salesforce 15- and 18-character ids', () => {
  it.each(PUBLISHED_PAIRS)('computes the published case-safe suffix of %s', (id15, id18) => {
    expect(caseSafeSuffix(id15)).toBe(id18.slice(15));
    expect(toCaseSafeId(id15)).toBe(id18);
    expect(toCaseSafeId(id18)).toBe(id18);
    expect(hasValidSuffix(id18)).toBe(true);
  });

  it('treats the 15- and 18-character forms of one id as the same id, either way round', () => {
    expect(sameRecordId('a0D30000001n7Pi', 'a0D30000001n7PiEAI')).toBe(true);
    expect(sameRecordId('a0D30000001n7PiEAI', 'a0D30000001n7Pi')).toBe(true);
    expect(sameRecordId('a0D30000001n7PiEAI', 'a0D30000001n7PiEAI')).toBe(true);
    expect(sameRecordId('a0D30000001n7Pi', 'a0D30000001n7Pi')).toBe(true);
  });

  it('compares the first 15 characters case-sensitively: ids that differ only in case are different records', () => {
    expect(sameRecordId('a0D30000001n7Pi', 'a0D30000001N7Pi')).toBe(false);
    expect(sameRecordId('a0D30000001n7PiEAI', 'A0D30000001n7Pi')).toBe(false);
  });

  it('accepts a suffix in any case, as the suffix exists to survive case folding', () => {
    expect(sameRecordId('a0D30000001n7PiEAI', 'a0D30000001n7Pieai')).toBe(true);
    expect(hasValidSuffix('a0D30000001n7Pieai')).toBe(true);
  });

  it('refuses two 18-character ids whose suffixes disagree', () => {
    expect(sameRecordId('a0D30000001n7PiEAI', 'a0D30000001n7PiEAA')).toBe(false);
    expect(hasValidSuffix('a0D30000001n7PiEAA')).toBe(false);
  });

  it('refuses values that are not ids', () => {
    expect(sameRecordId('', '')).toBe(false);
    expect(sameRecordId('a0D30000001n7P', 'a0D30000001n7P')).toBe(false);
    expect(sameRecordId('a0D30000001n7Pi!', 'a0D30000001n7Pi!')).toBe(false);
    expect(toCaseSafeId('not an id')).toBeUndefined();
  });
});
