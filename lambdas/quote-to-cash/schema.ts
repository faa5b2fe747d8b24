import * as z from 'zod/mini';
import { dealSchema } from '../domain/deal';
import { minorUnitsSchema } from '../domain/money';
import { ENV } from '../shared/contracts/env';
import { sagaStepsEnv } from '../shared/contracts/env-fields';
import {
  mappingEnvField,
  netsuiteSagaMappingSchema,
  quoteToCashMappingSchema,
} from '../shared/contracts/mappings';

/** Every step the state machine can ask this function to run (`Payload.step`). */
export const STEPS = [
  'validate',
  'upsertErpCustomer',
  'upsertBillingCustomer',
  'createSubscription',
  'createSalesOrder',
  'writeBack',
  'closeSalesOrder',
  'cancelSubscription',
  'deactivateErpCustomer',
  'openException',
  'notifyCrmOwner',
] as const;
export type Step = (typeof STEPS)[number];

/** The stage's quote-to-cash mapping (lib/config.ts validated it at synth; this only re-reads it). */
export {
  type QuoteToCashMapping,
  quoteToCashMappingSchema as mappingSchema,
} from '../shared/contracts/mappings';

export const envSchema = z.object({
  ...sagaStepsEnv,
  [ENV.QUOTE_TO_CASH_MAPPING]: mappingEnvField(quoteToCashMappingSchema),
  [ENV.NETSUITE_MAPPING]: mappingEnvField(netsuiteSagaMappingSchema),
});

/** What the validation step decided: everything later steps need that is not on the deal itself. */
export const planSchema = z.object({
  subsidiaryKey: z.string(),
  erpSubsidiaryId: z.string(),
  /** One item per Stripe price (Stripe refuses the same price twice on a subscription). */
  subscriptionItems: z.array(z.object({ priceId: z.string(), quantity: z.int() })),
  /** One sales order line per CRM line, at the price sold. */
  salesOrderLines: z.array(z.object({ itemId: z.string(), quantity: z.int(), unitAmount: minorUnitsSchema })),
});
export type Plan = z.infer<typeof planSchema>;

/** A Catch's `ResultPath` value: the error name and, for a function error, its JSON cause. */
const caughtSchema = z.object({ Error: z.string(), Cause: z.optional(z.nullable(z.string())) });
export type Caught = z.infer<typeof caughtSchema>;

/**
 * The execution's state as it grows: the start input (the `crm.deal.won` event and the re-fetched
 * deal), then each step's result under its own key. Unknown keys are tolerated (the state machine
 * may add some); missing ones are checked by the step that needs them.
 */
export const sagaSchema = z.object({
  /** The `crm.deal.won` envelope that started the saga: links and exceptions name it. */
  event: z.unknown(),
  deal: dealSchema,
  plan: z.optional(planSchema),
  erpCustomer: z.optional(z.object({ id: z.string(), externalId: z.string(), created: z.boolean() })),
  billingCustomer: z.optional(z.object({ id: z.string() })),
  subscription: z.optional(z.object({ id: z.string(), created: z.boolean() })),
  salesOrder: z.optional(z.object({ id: z.string(), externalId: z.string(), created: z.boolean() })),
  /** Set by the Catch of the step that failed, keyed by that state's name. */
  failure: z.optional(z.record(z.string(), caughtSchema)),
  /** Set by the Catch of a compensation that could not be done, keyed by its state's name. */
  compensationFailures: z.optional(z.record(z.string(), caughtSchema)),
});
export type SagaState = z.infer<typeof sagaSchema>;

export const stepInputSchema = z.object({ step: z.enum(STEPS), saga: sagaSchema });
