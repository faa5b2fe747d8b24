import * as z from 'zod/mini';
import { PermanentError } from '../shared/errors';

/** ISO 4217 code, upper case. Vendors disagree on case (Stripe sends `usd`); we normalise once here. */
export const currencySchema = z.pipe(
  z.string().check(z.regex(/^[A-Za-z]{3}$/, 'must be a three-letter ISO 4217 code')),
  z.transform((value: string) => value.toUpperCase()),
);

/** Integer minor units (cents). Never a float: rounding on money is a posting error. */
export const minorUnitsSchema = z.int();

export const moneySchema = z.object({ amount: minorUnitsSchema, currency: currencySchema });
export type Money = z.infer<typeof moneySchema>;

/** ISO 4217 minor-unit exponents that are not 2. https://www.iso.org/iso-4217-currency-codes.html */
const EXPONENTS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
};

/** Digits after the decimal point in the currency's minor unit (2 unless ISO 4217 says otherwise). */
export const currencyExponent = (currency: string): number => EXPONENTS[currency] ?? 2;

/**
 * A vendor's decimal amount (`99.99`, or `"99.99"` as HubSpot sends numbers) to integer minor units,
 * through its decimal digits rather than a float multiplication. An amount finer than the currency's
 * minor unit (`10.005` USD) cannot be represented without rounding money, so it is refused.
 */
export const toMinorUnits = (major: number | string, currency: string): number => {
  const text = typeof major === 'number' ? String(major) : major.trim();
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) {
    throw new PermanentError(`amount ${text} is not a decimal number`, { code: 'InvalidAmount' });
  }
  const [, sign = '', whole = '0', fraction = ''] = match;
  const exponent = currencyExponent(currency);
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > exponent) {
    throw new PermanentError(`amount ${text} is finer than one minor unit of ${currency}`, {
      code: 'SubMinorUnitAmount',
    });
  }
  const minor = Number(`${whole}${significant.padEnd(exponent, '0')}`);
  if (!Number.isSafeInteger(minor)) {
    throw new PermanentError(`amount ${text} is too large`, { code: 'InvalidAmount' });
  }
  return sign === '-' && minor !== 0 ? -minor : minor;
};

/**
 * NetSuite takes decimal amounts. The conversion happens only here, at the API boundary, from integer
 * minor units through a decimal string, so no binary rounding error enters a posting.
 */
export const toMajorUnits = (minor: number, currency: string): number => {
  const exponent = EXPONENTS[currency] ?? 2;
  if (exponent === 0) return minor;
  const sign = minor < 0 ? '-' : '';
  const digits = Math.abs(minor)
    .toString()
    .padStart(exponent + 1, '0');
  return Number(`${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`);
};
