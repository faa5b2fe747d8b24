import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Vendor-authored fixtures, byte-for-byte copies kept in the project (`test/fixtures/vendors/`,
 * sources in its SOURCES.md): a clone with nothing beside it runs every test.
 */
export const VENDOR_FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'vendors');

export const readVendorFixture = (relative: string): string =>
  readFileSync(path.join(VENDOR_FIXTURES, relative), 'utf8');

export const vendorJson = <T = Record<string, unknown>>(relative: string): T =>
  JSON.parse(readVendorFixture(relative)) as T;

/** Wraps a Stripe resource in the envelope of Stripe's own sample event, as a webhook would carry it. */
export const stripeEventFor = (
  type: string,
  object: unknown,
  id = 'evt_fixture_1',
): Record<string, unknown> => {
  const envelope = vendorJson('stripe/resources/event.json');
  return { ...envelope, id, type, created: 1_721_954_054, data: { object } };
};
