import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { LocalRuntime } from '../runtime/runtime';
import type { SeededRandom } from '../twins/common';
import type { StripeSender } from './stripe-sender';

/**
 * The chaos workload's flow types: each is ONE entry in `FLOW_TYPES`, which starts one business flow
 * through a twin (or, for Stripe, as Stripe's own retrying sender) and says which ERP records it must
 * end in. A flow that lands on main (dunning, credit notes, amendments) is added here as one more entry.
 */

/** A record the ERP must hold exactly once when the run is over. */
export interface Expectation {
  readonly type: 'customer' | 'salesOrder' | 'invoice' | 'customerPayment';
  readonly externalId: string;
  /** The amount billing holds for it, in minor units (compared to the ERP's total to the cent). */
  readonly amountMinor?: number;
}

export interface FlowContext {
  readonly runtime: LocalRuntime;
  readonly random: SeededRandom;
  readonly stripe: StripeSender;
  /** Unique across runs of one runtime: the run's seed and the flow's number. */
  readonly tag: string;
  readonly catalog: SalesforceCatalog;
}

export interface FlowType {
  readonly name: string;
  /** Relative share of the workload. */
  readonly weight: number;
  start(context: FlowContext): Expectation[];
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
  weight: 2,
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
      { type: 'salesOrder', externalId: `salesforce-${opportunityId}`, amountMinor: minor(lines) },
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

/** Every flow type of the workload. Add a flow: one entry here. */
export const FLOW_TYPES: readonly FlowType[] = [
  salesforceDealWon,
  hubspotDealWon,
  stripeInvoiceFinalized,
  stripeInvoicePaid,
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
