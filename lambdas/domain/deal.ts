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
  /** Where the deal already points (ids written back by an earlier run), if anywhere. */
  existing: z.object({
    billingCustomerId: z.nullable(z.string()),
    subscriptionId: z.nullable(z.string()),
    erpCustomerId: z.nullable(z.string()),
    salesOrderId: z.nullable(z.string()),
  }),
});
export type Deal = z.infer<typeof dealSchema>;

/** What the saga writes back to the CRM when it ends. */
export interface DealWriteBack {
  readonly billingCustomerId?: string;
  readonly subscriptionId?: string;
  readonly erpCustomerId?: string;
  readonly salesOrderId?: string;
  /** `Activated`, or `Failed: <safe reason>` for the CRM owner to read. */
  readonly status: string;
}

/** The CRM side of the saga. Implementations: Salesforce (REST), HubSpot (CRM v3). */
export interface CrmClient {
  /** The deal with its line items and account, as the CRM has them now. `null` if it does not exist. */
  getDeal(dealId: string): Promise<Deal | null>;
  writeBack(dealId: string, values: DealWriteBack): Promise<void>;
}

/**
 * Writes fields of a deal by their names in the CRM (Salesforce field API names, HubSpot property
 * names), for flows whose fields are configured per stage rather than fixed like the saga's.
 */
export interface DealFieldWriter {
  /** Numbers go as numbers to Salesforce and as decimal strings to HubSpot. */
  writeDealFields(dealId: string, fields: Readonly<Record<string, string | number>>): Promise<void>;
}

/** The billing side (Stripe). Every write carries an idempotency key derived from the deal. */
export interface BillingClient {
  /** Creates the billing customer for the CRM account, or returns the one already made for it. */
  upsertCustomer(deal: Deal, idempotencyKey: string): Promise<string>;
  /** Creates the subscription for the deal's lines (prices from the catalog). */
  createSubscription(
    deal: Deal,
    customerId: string,
    items: readonly { priceId: string; quantity: number }[],
    idempotencyKey: string,
  ): Promise<{ subscriptionId: string }>;
  /** Compensation: cancels the subscription at once, without deleting anything (invoices stay). */
  cancelSubscription(subscriptionId: string, idempotencyKey: string): Promise<void>;
}

/** The ERP side (NetSuite), upserting by external id. */
export interface ErpClient {
  upsertCustomer(deal: Deal, externalId: string): Promise<string>;
  upsertSalesOrder(
    deal: Deal,
    externalId: string,
    erpCustomerId: string,
    lines: readonly { itemId: string; quantity: number; unitAmount: number }[],
  ): Promise<string>;
  /** Compensation: closes the sales order's lines (NetSuite's finance-safe undo; never deletes). */
  closeSalesOrder(externalId: string): Promise<void>;
  /** Compensation for a customer created by this saga: marks it inactive (never deleted). */
  deactivateCustomer(externalId: string): Promise<void>;
}
