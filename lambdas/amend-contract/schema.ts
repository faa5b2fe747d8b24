import * as z from 'zod/mini';
import { crmEnvSchema } from '../adapters/crm-clients';
import { erpConsumerEnvFields } from '../adapters/erp-flow-deps';
import { PRORATION_BEHAVIORS } from '../domain/amendment';
import { dealSchema } from '../domain/deal';
import { mappingSchema, stripeKeySchema } from '../quote-to-cash/schema';
import { jsonFromString, nonEmpty, positiveIntFromString } from '../shared/env';

export { stripeKeySchema };

/** Every step the amendment state machine can ask this function to run (`Payload.step`). */
export const STEPS = [
  'validate',
  'changeSubscription',
  'changeSalesOrder',
  'writeBack',
  'restoreSalesOrder',
  'revertSubscription',
  'openException',
  'notifyCrmOwner',
] as const;
export type Step = (typeof STEPS)[number];

const { IDEMPOTENCY_TABLE_NAME: _idempotency, QUEUE_URL: _queue, ...erpFields } = erpConsumerEnvFields;

export const envSchema = z.extend(crmEnvSchema, {
  ...erpFields,
  /** The quote-to-cash catalog: the amendment prices its lines and maps items to the ERP with it. */
  QUOTE_TO_CASH_MAPPING: z.pipe(jsonFromString(), mappingSchema),
  AMENDMENT_PRORATION_BEHAVIOR: z.enum(PRORATION_BEHAVIORS),
  STRIPE_API_BASE_URL: z.url(),
  STRIPE_API_KEY_SECRET_ID: nonEmpty(),
  STRIPE_TIMEOUT_MS: positiveIntFromString(),
});

/** What validation decided: the contract the amendment changes and what it adds to it. */
export const planSchema = z.object({
  /** The activated deal whose contract this amends. */
  amendsDealId: z.string(),
  subscriptionId: z.string(),
  salesOrderExternalId: z.string(),
  /** Per Stripe price, the quantity the amendment adds. */
  lines: z.array(z.object({ priceId: z.string(), quantity: z.int() })),
  /** YYYY-MM-DD: when the new sales order lines apply (the day the amendment was won). */
  effectiveDate: z.string(),
});
export type Plan = z.infer<typeof planSchema>;

const caughtSchema = z.object({ Error: z.string(), Cause: z.optional(z.nullable(z.string())) });

/** The execution's state as it grows: the start input, then each step's result under its own key. */
export const sagaSchema = z.object({
  /** The `crm.deal.won` envelope of the amendment deal. */
  event: z.unknown(),
  /** The amendment deal, re-fetched by the starter. */
  deal: dealSchema,
  plan: z.optional(planSchema),
  subscription: z.optional(z.object({ id: z.string(), contractValue: z.int() })),
  salesOrder: z.optional(z.object({ id: z.string(), changed: z.boolean() })),
  failure: z.optional(z.record(z.string(), caughtSchema)),
  compensationFailures: z.optional(z.record(z.string(), caughtSchema)),
});
export type SagaState = z.infer<typeof sagaSchema>;

export const stepInputSchema = z.object({ step: z.enum(STEPS), saga: sagaSchema });
