import * as z from 'zod/mini';

/** ISO 4217 code, upper case. Vendors disagree on case (Stripe sends `usd`); we normalise once here. */
export const currencySchema = z.pipe(
  z.string().check(z.regex(/^[A-Za-z]{3}$/, 'must be a three-letter ISO 4217 code')),
  z.transform((value: string) => value.toUpperCase()),
);

/** Integer minor units (cents). Never a float: rounding on money is a posting error. */
export const minorUnitsSchema = z.int();

export const moneySchema = z.object({ amount: minorUnitsSchema, currency: currencySchema });
export type Money = z.infer<typeof moneySchema>;
