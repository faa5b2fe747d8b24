import * as z from 'zod/mini';
import { dealSchema } from '../domain/deal';
import { ENV } from '../shared/contracts/env';
import { sagaStepsEnv } from '../shared/contracts/env-fields';
import {
  mappingEnvField,
  prorationBehaviorSchema,
  quoteToCashMappingSchema,
} from '../shared/contracts/mappings';

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

export const envSchema = z.object({
  ...sagaStepsEnv,
  /** The quote-to-cash catalog: the amendment prices its lines and maps items to the ERP with it. */
  [ENV.QUOTE_TO_CASH_MAPPING]: mappingEnvField(quoteToCashMappingSchema),
  [ENV.AMENDMENT_PRORATION_BEHAVIOR]: prorationBehaviorSchema,
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
