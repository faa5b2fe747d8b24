import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type Stripe from 'stripe';
import { ACCOUNT_FLAG_FIELDS, failedInvoice } from '../demo/dunning';
import type { LocalRuntime } from '../runtime/runtime';
import type { SeededRandom } from '../twins/common';
import type { StripeSender } from './stripe-sender';

/**
 * The chaos workload's flow types: each is ONE entry in `FLOW_TYPES`, which starts one business flow
 * through a twin (or, for Stripe, as Stripe's own retrying sender) and says which ERP records it must
 * end in. A flow that lands on main (dunning, credit notes, amendments) is added here as one more entry.
 */

/** ERP record types the run counts, by external id. */
export const ERP_RECORD_TYPES = [
  'customer',
  'salesOrder',
  'invoice',
  'customerPayment',
  'creditMemo',
] as const;
export type ErpRecordType = (typeof ERP_RECORD_TYPES)[number];

/**
 * A record the ERP must hold exactly once when the run is over, or (`salesOrderChange`, `dunningFlag`)
 * a change an existing record (an ERP sales order, a CRM account) must show; `verify` says what is
 * still wrong, or nothing when it holds.
 */
export interface Expectation {
  readonly type: ErpRecordType | 'salesOrderChange' | 'dunningFlag';
  readonly externalId: string;
  /**
   * The amount billing holds for it, in minor units (compared to the ERP's total to the cent). A sales
   * order a later flow changes (an amendment, a seat change) drops it: the change's own check stands.
   */
  amountMinor?: number | undefined;
  /** What else must hold (a memo voided, lines added or closed, a flag set or cleared), else why not. */
  readonly verify?: () => string | undefined;
  /** A Salesforce deal the saga will activate: later flows (amendments, dunning...) act on it. */
  readonly deal?: { readonly opportunityId: string; readonly accountId: string };
}

/** A Salesforce deal quote-to-cash activated: a billing customer and subscription, an ERP sales order. */
export interface ActivatedDeal {
  readonly opportunityId: string;
  readonly accountId: string;
  readonly customerId: string;
  readonly subscriptionId: string;
  /** The sales order's expectation (a change of the order drops its amount check). */
  readonly order: Expectation;
}

export interface FlowContext {
  readonly runtime: LocalRuntime;
  readonly random: SeededRandom;
  readonly stripe: StripeSender;
  /** Unique across runs of one runtime: the run's seed and the flow's number. */
  readonly tag: string;
  readonly catalog: SalesforceCatalog;
  /** The official Stripe SDK against the twin (retrying its 5xx, as a caller would). */
  readonly stripeApi: Stripe;
  /** For a flow with `onActivatedDeal`: the deal it acts on (each deal takes one such flow). */
  readonly deal?: ActivatedDeal | undefined;
}

export interface FlowType {
  readonly name: string;
  /** Relative share of the workload. */
  readonly weight: number;
  /** Acts on a deal quote-to-cash activated earlier in the run (picked only while one is free). */
  readonly onActivatedDeal?: boolean;
  start(context: FlowContext): Expectation[] | Promise<Expectation[]>;
}

export interface SalesforceCatalog {
  /** Product2 ids by product code. */
  readonly products: Readonly<Record<string, string>>;
}

const CODES = ['PLATFORM', 'SEAT'] as const;

/** Products and price book entries the Salesforce org sells (once per runtime). */
export const salesforceCatalog = (runtime: LocalRuntime): SalesforceCatalog => {
  const org = runtime.salesforce;
  if (!org) throw new Error('the Salesforce twin is not running');
  const existing = org.records('Product2');
  const products: Record<string, string> = {};
  const pricebook = org.records('Pricebook2').find((book) => book.IsStandard === true)?.Id;
  for (const code of CODES) {
    const found = existing.find((product) => product.ProductCode === code)?.Id;
    if (found) {
      products[code] = String(found);
      continue;
    }
    const id = org.createRecord('Product2', { Name: code, ProductCode: code, IsActive: true });
    products[code] = id;
    for (const currency of ['USD', 'GBP', 'EUR']) {
      org.createRecord('PricebookEntry', {
        Pricebook2Id: pricebook,
        Product2Id: id,
        UnitPrice: 100,
        IsActive: true,
        CurrencyIsoCode: currency,
      });
    }
  }
  return { products };
};

/** Deal lines in whole currency units, as a sales rep types them (cents appear on the seat price). */
const dealLines = (random: SeededRandom) => [
  { code: 'PLATFORM', quantity: 1, unitPrice: random.int(500, 3000) },
  { code: 'SEAT', quantity: random.int(1, 40), unitPrice: random.int(1000, 5000) / 100 },
];
const minor = (lines: { quantity: number; unitPrice: number }[]) =>
  lines.reduce((sum, line) => sum + Math.round(line.quantity * line.unitPrice * 100), 0);

const salesforceDealWon: FlowType = {
  name: 'salesforce.deal.won',
  weight: 3,
  start: ({ runtime, random, tag, catalog }) => {
    const org = runtime.salesforce;
    if (!org) throw new Error('the Salesforce twin is not running');
    const currency = 'USD';
    const accountId = org.createRecord('Account', {
      Name: `Chaos ${tag}`,
      BillingStreet: '1 Initech Way',
      BillingCity: 'Austin',
      BillingPostalCode: '78701',
      BillingState: 'TX',
      BillingCountry: 'US',
      Tax_Id__c: `US-${tag}`,
      Billing_Email__c: `ap-${tag}@chaos.example`,
      Subsidiary__c: 'US',
    });
    const opportunityId = org.createRecord('Opportunity', {
      Name: `Chaos platform ${tag}`,
      AccountId: accountId,
      StageName: 'Negotiation/Review',
      CloseDate: '2026-12-31',
      CurrencyIsoCode: currency,
    });
    const lines = dealLines(random);
    for (const line of lines) {
      org.createRecord('OpportunityLineItem', {
        OpportunityId: opportunityId,
        Product2Id: catalog.products[line.code],
        Quantity: line.quantity,
        UnitPrice: line.unitPrice,
      });
    }
    // The sales rep closes it in the UI; the org's outbound message carries it to revbridge.
    org.closeOpportunity(opportunityId);
    return [
      { type: 'customer', externalId: `salesforce-${accountId}` },
      {
        type: 'salesOrder',
        externalId: `salesforce-${opportunityId}`,
        amountMinor: minor(lines),
        deal: { opportunityId, accountId },
      },
    ];
  },
};

const hubspotDealWon: FlowType = {
  name: 'hubspot.deal.won',
  weight: 2,
  start: ({ runtime, random, tag }) => {
    const portal = runtime.hubspot;
    if (!portal) throw new Error('the HubSpot twin is not running');
    const companyId = portal.createObject('companies', {
      name: `Globex ${tag}`,
      address: 'Unter den Linden 1',
      city: 'Berlin',
      zip: '10117',
      country: 'DE',
      tax_id: `DE-${tag}`,
      billing_email: `ap-${tag}@globex.example`,
    });
    const lines = dealLines(random);
    const lineItemIds = lines.map((line) =>
      portal.createObject('line_items', {
        name: line.code,
        hs_sku: line.code,
        quantity: String(line.quantity),
        price: String(line.unitPrice),
      }),
    );
    const association = (id: string, typeId: number) => ({
      to: { id },
      types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: typeId }],
    });
    const dealId = portal.createObject(
      'deals',
      {
        dealname: `Globex platform ${tag}`,
        dealstage: 'contractsent',
        pipeline: 'default',
        deal_currency_code: 'EUR',
      },
      [association(companyId, 5), ...lineItemIds.map((id) => association(id, 19))],
    );
    portal.setDealStage(dealId, 'closedwon');
    return [
      { type: 'customer', externalId: `hubspot-${companyId}` },
      { type: 'salesOrder', externalId: `hubspot-${dealId}`, amountMinor: minor(lines) },
    ];
  },
};

let invoiceBase: Record<string, unknown> | undefined;
const stripeInvoice = (random: SeededRandom, tag: string) => {
  invoiceBase ??= JSON.parse(
    readFileSync(
      path.resolve(
        __dirname,
        '..',
        '..',
        'test',
        'fixtures',
        'vendors',
        'stripe',
        'resources',
        'invoice.json',
      ),
      'utf8',
    ),
  ) as Record<string, unknown>;
  const lines = Array.from({ length: random.int(1, 3) }, (_, i) => ({
    id: `il_chaos_${tag}_${i}`,
    amount: random.int(100, 500_000),
    quantity: 1,
  }));
  const total = lines.reduce((sum, line) => sum + line.amount, 0);
  return {
    ...invoiceBase,
    id: `in_chaos_${tag}`,
    customer: `cus_chaos_${tag}`,
    customer_name: `Customer ${tag}`,
    status: 'open',
    lines: { object: 'list', has_more: false, data: lines },
    subtotal: total,
    total,
    amount_due: total,
    amount_paid: 0,
    amount_remaining: total,
  };
};

const paid = (invoice: ReturnType<typeof stripeInvoice>) => ({
  ...invoice,
  status: 'paid',
  amount_paid: invoice.amount_due,
  amount_remaining: 0,
  payment_intent: `pi_${invoice.id}`,
});

const stripeInvoiceFinalized: FlowType = {
  name: 'stripe.invoice.finalized',
  weight: 3,
  start: ({ random, stripe, tag }) => {
    const invoice = stripeInvoice(random, tag);
    stripe.send(`evt_chaos_${tag}_fin`, 'invoice.finalized', invoice);
    return [
      { type: 'customer', externalId: invoice.customer },
      { type: 'invoice', externalId: invoice.id, amountMinor: invoice.total },
    ];
  },
};

const stripeInvoicePaid: FlowType = {
  name: 'stripe.invoice.paid',
  weight: 3,
  start: ({ random, stripe, tag }) => {
    const invoice = stripeInvoice(random, tag);
    // Back to back, so a reordered delivery brings the payment before its invoice.
    stripe.send(`evt_chaos_${tag}_fin`, 'invoice.finalized', invoice);
    stripe.send(`evt_chaos_${tag}_paid`, 'invoice.paid', paid(invoice));
    return [
      { type: 'customer', externalId: invoice.customer },
      { type: 'invoice', externalId: invoice.id, amountMinor: invoice.total },
      {
        type: 'customerPayment',
        externalId: `pi_${invoice.id}`,
        amountMinor: invoice.total,
      },
    ];
  },
};

interface OrderLine {
  readonly line?: number;
  readonly item?: { readonly id?: string };
  readonly quantity?: number;
  readonly rate?: number;
  readonly isClosed?: boolean;
  readonly custcol_revbridge_effective_date?: string;
}

const orderLines = (runtime: LocalRuntime, externalId: string): OrderLine[] =>
  ((runtime.netsuite?.getByExternalId('salesOrder', externalId) as { item?: { items?: OrderLine[] } })?.item
    ?.items ?? []) as OrderLine[];

const describe = (lines: readonly OrderLine[]) =>
  lines
    .map(
      (line) =>
        `${line.item?.id ?? '?'}×${String(line.quantity)}${line.custcol_revbridge_effective_date ? ` from ${line.custcol_revbridge_effective_date}` : ''}${line.isClosed ? ' closed' : ''}`,
    )
    .join(', ');

const requireDeal = (deal: ActivatedDeal | undefined): ActivatedDeal => {
  if (!deal) throw new Error('no activated deal given');
  return deal;
};

/** Open (not closed) units per ERP item: what the order still sells. */
const openUnits = (lines: readonly OrderLine[]) => {
  const units = new Map<string, number>();
  for (const line of lines)
    if (line.isClosed !== true)
      units.set(line.item?.id ?? '?', (units.get(line.item?.id ?? '?') ?? 0) + (line.quantity ?? 0));
  return units;
};

/** The ERP item of a seat (cdk.json's NetSuite item map: SEAT). */
const SEAT_ITEM = '101';

/**
 * What the ERP sales order must show after a change: no line removed, and the open lines selling what
 * the contract now holds: the seats before plus `added` (an amendment, a seat increase; the twin's
 * order may add a dated line or close the old ones and add dated lines with the new quantities), or
 * nothing at all (a cancellation closes every line).
 */
const orderChange = (
  runtime: LocalRuntime,
  deal: ActivatedDeal,
  change: { added: number } | 'closed',
): Expectation => {
  const externalId = `salesforce-${deal.opportunityId}`;
  const before = orderLines(runtime, externalId);
  const sold = openUnits(before);
  // The order's total changes with it: the change's own check replaces the amount check.
  deal.order.amountMinor = undefined;
  return {
    type: 'salesOrderChange',
    externalId,
    verify: () => {
      const after = orderLines(runtime, externalId);
      if (after.length < before.length)
        return `${after.length} lines, ${before.length} before: a line was removed (${describe(after)})`;
      const selling = openUnits(after);
      const expected =
        change === 'closed'
          ? new Map<string, number>()
          : new Map([...sold, [SEAT_ITEM, (sold.get(SEAT_ITEM) ?? 0) + change.added]]);
      const wrong = [...new Set([...selling.keys(), ...expected.keys()])].filter(
        (item) => (selling.get(item) ?? 0) !== (expected.get(item) ?? 0),
      );
      return wrong.length === 0
        ? undefined
        : `open units ${wrong.map((item) => `${item}: ${selling.get(item) ?? 0} not ${expected.get(item) ?? 0}`).join(', ')} (${describe(after)})`;
    },
  };
};

/** An upsell won in Salesforce naming the activated deal (`Amended_Opportunity__c`): the amendment saga. */
const salesforceAmendment: FlowType = {
  name: 'salesforce.deal.amendment',
  weight: 0.6,
  onActivatedDeal: true,
  start: ({ runtime, random, tag, catalog, deal: given }) => {
    const deal = requireDeal(given);
    const org = runtime.salesforce;
    if (!org) throw new Error('the Salesforce twin is not running');
    const seats = random.int(1, 20);
    const expected = orderChange(runtime, deal, { added: seats });
    const upsellId = org.createRecord('Opportunity', {
      Name: `Chaos upsell ${tag}`,
      AccountId: deal.accountId,
      StageName: 'Negotiation/Review',
      CloseDate: '2026-12-31',
      CurrencyIsoCode: 'USD',
      Amended_Opportunity__c: deal.opportunityId,
    });
    org.createRecord('OpportunityLineItem', {
      OpportunityId: upsellId,
      Product2Id: catalog.products.SEAT,
      Quantity: seats,
      UnitPrice: 25,
    });
    org.closeOpportunity(upsellId);
    return [
      {
        ...expected,
        verify: () =>
          expected.verify?.() ??
          (org.getRecord('Opportunity', upsellId)?.Revbridge_Status__c === 'Amended'
            ? undefined
            : `upsell ${upsellId} not shown Amended in Salesforce`),
      },
    ];
  },
};

/** The activated subscription changed in Stripe: more seats (a dated order line) or canceled. */
const stripeSubscriptionChange: FlowType = {
  name: 'stripe.subscription.changed',
  weight: 0.6,
  onActivatedDeal: true,
  start: async ({ runtime, random, stripeApi, deal: given }) => {
    const deal = requireDeal(given);
    if (random.next() < 0.5) {
      const expected = orderChange(runtime, deal, 'closed');
      await stripeApi.subscriptions.cancel(deal.subscriptionId);
      return [expected];
    }
    const added = random.int(1, 10);
    const subscription = await stripeApi.subscriptions.retrieve(deal.subscriptionId);
    const seats = subscription.items.data.find((item) => item.price.lookup_key === 'seat_monthly_usd');
    if (!seats) throw new Error(`subscription ${deal.subscriptionId} has no seat item`);
    const expected = orderChange(runtime, deal, { added });
    await stripeApi.subscriptions.update(deal.subscriptionId, {
      items: [{ id: seats.id, quantity: (seats.quantity ?? 0) + added }],
      proration_behavior: 'create_prorations',
    });
    return [expected];
  },
};

/** A credit note on the activated subscription's first invoice: a credit memo, voided for half of them. */
const stripeCreditNote: FlowType = {
  name: 'stripe.credit_note',
  weight: 0.6,
  onActivatedDeal: true,
  start: async ({ runtime, random, stripeApi, deal: given }) => {
    const deal = requireDeal(given);
    const invoice = (
      await stripeApi.invoices.list({ subscription: deal.subscriptionId, limit: 10 })
    ).data.find((candidate) => candidate.status === 'open' || candidate.status === 'paid');
    const line = invoice?.lines.data.at(random.int(0, (invoice?.lines.data.length ?? 1) - 1));
    if (!invoice?.id || !line?.id) throw new Error(`subscription ${deal.subscriptionId} has no invoice line`);
    const note = await stripeApi.creditNotes.create({
      invoice: invoice.id,
      lines: [{ type: 'invoice_line_item', invoice_line_item: line.id, quantity: 1 }],
      reason: 'order_change',
    });
    const voided = random.next() < 0.5;
    if (voided) await stripeApi.creditNotes.voidCreditNote(note.id);
    const netsuite = runtime.netsuite;
    return [
      {
        type: 'creditMemo',
        externalId: note.id,
        // NetSuite zeroes a voided transaction's amounts: only a live memo's total is billing's.
        ...(voided ? {} : { amountMinor: note.total }),
        verify: () => {
          const memo = netsuite?.getByExternalId('creditMemo', note.id);
          if ((memo?.voided === true) !== voided) return voided ? 'memo not voided' : 'memo voided';
          return undefined;
        },
      },
    ];
  },
};

/**
 * A charge-automatically invoice of the activated customer whose card declines (the account is flagged
 * with the amount, the attempt and the next retry); for half of them the customer then pays with
 * another card (the flag is cleared, the payment applied in the ERP).
 */
const stripePaymentFailed: FlowType = {
  name: 'stripe.invoice.payment_failed',
  weight: 0.6,
  onActivatedDeal: true,
  start: async ({ runtime, random, stripeApi, deal: given }) => {
    const deal = requireDeal(given);
    const amount = random.int(1000, 90_000);
    const recovers = random.next() < 0.5;
    // The demo's failing invoice: charge automatically, finalized, the card declines (attempt 1).
    const invoiceId = await failedInvoice(stripeApi, deal.customerId, amount);
    const finalized = await stripeApi.invoices.retrieve(invoiceId);
    const org = runtime.salesforce;
    if (recovers) {
      // The customer pays days later, not within the same second: once the account shows the flag.
      // (Paid at once, the failure's CRM write can land after the clearing one: the account stays
      // flagged with nothing due; a race of flag-dunning found by this run, see the report.)
      const deadline = Date.now() + 120_000;
      while (
        org?.getRecord('Account', deal.accountId)?.Failed_Invoice_Id__c !== invoiceId &&
        Date.now() < deadline
      )
        await new Promise((resolve) => setTimeout(resolve, 250));
      await stripeApi.invoices.pay(invoiceId, { payment_method: 'pm_card_visa' });
    }
    const flag: Expectation = {
      type: 'dunningFlag',
      externalId: deal.accountId,
      verify: () => {
        const account = org?.getRecord('Account', deal.accountId) ?? {};
        const shown = ACCOUNT_FLAG_FIELDS.map((field) => account[field] ?? null);
        if (recovers)
          return shown.every((value) => value === null) ? undefined : `flag not cleared: ${shown.join(', ')}`;
        return account.Failed_Invoice_Id__c === invoiceId &&
          account.Payment_Attempts__c === 1 &&
          account.Amount_Past_Due__c === finalized.amount_due / 100
          ? undefined
          : `flag not set for ${invoiceId}: ${shown.join(', ')}`;
      },
    };
    const expectations: Expectation[] = [
      { type: 'invoice', externalId: invoiceId, amountMinor: finalized.total },
      flag,
    ];
    if (recovers) {
      const paidInvoice = runtime.stripe?.get(invoiceId) as { payment_intent?: unknown } | undefined;
      const intent = paidInvoice?.payment_intent;
      const paymentId =
        typeof intent === 'string' ? intent : (intent as { id?: string } | null | undefined)?.id;
      expectations.push({
        type: 'customerPayment',
        externalId: paymentId ?? `${invoiceId}-payment`,
        amountMinor: finalized.total,
      });
    }
    return expectations;
  },
};

/** Every flow type of the workload. Add a flow: one entry here. */
export const FLOW_TYPES: readonly FlowType[] = [
  salesforceDealWon,
  hubspotDealWon,
  stripeInvoiceFinalized,
  stripeInvoicePaid,
  salesforceAmendment,
  stripeSubscriptionChange,
  stripeCreditNote,
  stripePaymentFailed,
];

/** Picks a flow type by weight. */
export const pickFlow = (random: SeededRandom, types: readonly FlowType[] = FLOW_TYPES): FlowType => {
  const total = types.reduce((sum, type) => sum + type.weight, 0);
  let draw = random.next() * total;
  for (const type of types) {
    draw -= type.weight;
    if (draw < 0) return type;
  }
  return types[types.length - 1] as FlowType;
};
