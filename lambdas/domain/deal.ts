import * as z from 'zod/mini';
import { currencySchema, minorUnitsSchema } from './money';

/**
 * A won deal as the quote-to-cash saga works on it: re-fetched from the CRM (the webhook may be stale
 * or partial), so every field here is the CRM's current state.
 */

export const dealLineSchema = z.object({
  /** The CRM line item id. */
  id: z.string(),
  /** The CRM product's code (Salesforce ProductCode / HubSpot hs_sku): the catalog key. */
  productCode: z.string(),
  quantity: z.int().check(z.positive()),
  /** Unit price in minor units, as sold (may differ from the list price). */
  unitAmount: minorUnitsSchema,
});
export type DealLine = z.infer<typeof dealLineSchema>;

export const addressSchema = z.object({
  line1: z.string(),
  line2: z.nullable(z.string()),
  city: z.string(),
  postalCode: z.string(),
  state: z.nullable(z.string()),
  /** ISO 3166-1 alpha-2. */
  country: z.string().check(z.length(2)),
});
export type Address = z.infer<typeof addressSchema>;

export const dealSchema = z.object({
  crm: z.enum(['salesforce', 'hubspot']),
  dealId: z.string(),
  /** The CRM's last-modified stamp: with the deal id it names the saga execution. */
  version: z.string(),
  name: z.string(),
  stage: z.string(),
  isWon: z.boolean(),
  currency: currencySchema,
  /** The CRM account / company the deal belongs to. */
  account: z.object({
    id: z.string(),
    name: z.string(),
    email: z.nullable(z.string()),
    billingAddress: z.nullable(addressSchema),
    taxId: z.nullable(z.string()),
  }),
  /** Subsidiary key from the deal or account (routing), if the CRM carries one. */
  subsidiary: z.nullable(z.string()),
  lines: z.array(dealLineSchema),
  /**
   * The deal this one amends, when it is an amendment or upsell of an active contract (the CRM field
   * the stage names: `salesforce.amendmentOfField`, `hubspot.amendmentOfProperty`); absent or null for
   * a new contract. One place decides which saga a won deal runs: lambdas/start-deal-saga/logic.ts.
   */
  amends: z.optional(z.nullable(z.string())),
  /** Where the deal already points (ids written back by an earlier run), if anywhere. */
  existing: z.object({
    billingCustomerId: z.nullable(z.string()),
    subscriptionId: z.nullable(z.string()),
    erpCustomerId: z.nullable(z.string()),
    salesOrderId: z.nullable(z.string()),
  }),
});
export type Deal = z.infer<typeof dealSchema>;

/** The CRM, billing and ERP ports of the saga live with the others in ./ports. */
export type { BillingClient, CrmClient, DealFieldWriter, DealWriteBack, ErpClient } from './ports';
