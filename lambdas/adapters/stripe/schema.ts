import * as z from 'zod/mini';

/**
 * The parts of Stripe's objects revbridge reads. Unknown fields are tolerated (Stripe adds fields in
 * every API version) and legacy fields (`tax`, `plan`, `subscription` on an invoice) are read when the
 * current ones are absent. https://docs.stripe.com/upgrades
 */

const id = z.string().check(z.minLength(1));
const expandable = z.union([id, z.object({ id })]);
const unixSeconds = z.int();
const nullish = <T extends z.ZodMiniType>(schema: T) => z.optional(z.nullable(schema));

export const stripeEventSchema = z.object({
  id,
  object: z.literal('event'),
  type: z.string(),
  created: unixSeconds,
  account: nullish(z.string()),
  livemode: z.boolean(),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});
export type StripeEvent = z.infer<typeof stripeEventSchema>;

const priceRef = z.object({ id, product: nullish(expandable) });

export const stripeInvoiceLineSchema = z.object({
  id,
  amount: z.int(),
  description: nullish(z.string()),
  quantity: nullish(z.int()),
  period: nullish(z.object({ start: unixSeconds, end: unixSeconds })),
  // Current API: pricing.price_details; older versions: price or plan on the line.
  pricing: nullish(
    z.object({
      price_details: nullish(z.object({ price: nullish(expandable), product: nullish(z.string()) })),
    }),
  ),
  price: nullish(priceRef),
  plan: nullish(priceRef),
});

export const stripeInvoiceSchema = z.object({
  id,
  object: z.literal('invoice'),
  number: nullish(z.string()),
  customer: expandable,
  customer_email: nullish(z.string()),
  customer_name: nullish(z.string()),
  currency: z.string(),
  status: nullish(z.string()),
  created: unixSeconds,
  due_date: nullish(unixSeconds),
  status_transitions: nullish(
    z.object({ finalized_at: nullish(unixSeconds), paid_at: nullish(unixSeconds) }),
  ),
  subtotal: z.int(),
  total: z.int(),
  total_excluding_tax: nullish(z.int()),
  total_taxes: nullish(z.array(z.object({ amount: z.int() }))),
  tax: nullish(z.int()),
  amount_due: z.int(),
  amount_paid: z.int(),
  amount_remaining: nullish(z.int()),
  attempt_count: nullish(z.int()),
  next_payment_attempt: nullish(unixSeconds),
  subscription: nullish(expandable),
  parent: nullish(
    z.object({ subscription_details: nullish(z.object({ subscription: nullish(expandable) })) }),
  ),
  last_finalization_error: nullish(z.object({ message: nullish(z.string()) })),
  charge: nullish(expandable),
  payment_intent: nullish(expandable),
  lines: z.object({ data: z.array(stripeInvoiceLineSchema), has_more: nullish(z.boolean()) }),
});
export type StripeInvoice = z.infer<typeof stripeInvoiceSchema>;

const taxAmount = z.object({ amount: z.int() });

export const stripeCreditNoteLineSchema = z.object({
  id,
  amount: z.int(),
  description: nullish(z.string()),
  quantity: nullish(z.int()),
  invoice_line_item: nullish(z.string()),
});

export const stripeCreditNoteSchema = z.object({
  id,
  object: z.literal('credit_note'),
  number: nullish(z.string()),
  invoice: expandable,
  customer: expandable,
  currency: z.string(),
  status: nullish(z.string()),
  subtotal: nullish(z.int()),
  total: z.int(),
  // Current API: total_taxes; older versions: tax_amounts.
  total_taxes: nullish(z.array(taxAmount)),
  tax_amounts: nullish(z.array(taxAmount)),
  // Older API versions have no pre/post split; `type` then says which part the whole note is.
  pre_payment_amount: nullish(z.int()),
  type: nullish(z.string()),
  reason: nullish(z.string()),
  created: unixSeconds,
  voided_at: nullish(unixSeconds),
  lines: z.optional(z.object({ data: z.array(stripeCreditNoteLineSchema), has_more: nullish(z.boolean()) })),
});
export type StripeCreditNote = z.infer<typeof stripeCreditNoteSchema>;

const itemPrice = z.object({ id, currency: nullish(z.string()) });

export const stripeSubscriptionSchema = z.object({
  id,
  object: z.literal('subscription'),
  customer: expandable,
  status: z.string(),
  // Older API versions have no subscription-level currency; it is then read from the first item's plan.
  currency: nullish(z.string()),
  current_period_start: nullish(unixSeconds),
  current_period_end: nullish(unixSeconds),
  cancel_at: nullish(unixSeconds),
  canceled_at: nullish(unixSeconds),
  metadata: nullish(z.record(z.string(), z.string())),
  items: z.object({
    data: z.array(
      z.object({
        id,
        quantity: nullish(z.int()),
        // `plan` on API versions before prices existed.
        price: nullish(itemPrice),
        plan: nullish(itemPrice),
        current_period_start: nullish(unixSeconds),
        current_period_end: nullish(unixSeconds),
      }),
    ),
  }),
});
