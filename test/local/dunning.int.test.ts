import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Client as HubSpotClient } from '@hubspot/api-client';
import type { Connection } from 'jsforce';
import type Stripe from 'stripe';
import { localSecrets } from '../../local/config';
import { quoteToCash } from '../../local/demo';
import {
  accountFlag,
  activatedDeal,
  dunningExceptions,
  failedInvoice,
  localClients,
  settle,
} from '../../local/demo/dunning';
import type { LocalRuntime } from '../../local/runtime/runtime';
import { postStripeWebhook, startRuntime } from '../support/local-runtime';

/**
 * Flow 4 end to end in the local runtime: the Stripe twin declines a payment of the customer the saga
 * activated (through the `stripe` SDK), its signed `invoice.payment_failed` webhook reaches the flow,
 * which flags the Salesforce account (read back through `jsforce`) and opens one exception per invoice;
 * the invoice paid later clears both.
 */

let runtime: LocalRuntime;
let stripe: Stripe;
let salesforce: Connection;
let documents: DynamoDBDocumentClient;
let accountId: string;
let customerId: string;

const CLEARED = {
  Amount_Past_Due__c: null,
  Payment_Attempts__c: null,
  Next_Payment_Retry__c: null,
  Failed_Invoice_Id__c: null,
};

const metricSum = (name: string) =>
  runtime
    .status()
    .metrics.filter((m) => m.metricName === name)
    .reduce((sum, m) => sum + m.sum, 0);
const failedDunningMessages = () =>
  runtime
    .status()
    .eventSourceMappings.filter((mapping) => String(mapping.function).includes('FlagDunning'))
    .reduce((sum, mapping) => sum + mapping.failedMessages, 0);

const until = async (probe: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

const isoDate = (unixSeconds: number | null | undefined) =>
  unixSeconds ? new Date(unixSeconds * 1000).toISOString().slice(0, 10) : null;

const payingCard = async (invoiceId: string) => {
  await stripe.invoices.pay(invoiceId, { payment_method: 'pm_card_visa' });
  await settle(runtime);
};

/** The `invoice.payment_failed` events the Stripe twin sent for one invoice, oldest first. */
const failureEventsOf = (invoiceId: string) =>
  (runtime.stripe?.events() ?? []).filter(
    (event) =>
      event.type === 'invoice.payment_failed' &&
      (event.data as unknown as { object: { id: string } }).object.id === invoiceId,
  );

/**
 * Holds back what the Stripe twin sends while `during` runs: its webhooks go to a local receiver
 * instead of revbridge, so a test can deliver one of them later, out of order.
 */
const heldBack = async (during: () => Promise<void>): Promise<Record<string, unknown>[]> => {
  const held: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      held.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const twin = runtime.stripe;
  if (!twin) throw new Error('the Stripe twin is not running');
  const original = String(twin.list('webhook_endpoint')[0]?.url);
  const secret = localSecrets().stripeWebhookSecret;
  twin.setWebhookEndpoint(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, secret);
  try {
    await during();
    await twin.flushWebhooks();
  } finally {
    twin.setWebhookEndpoint(original, secret);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return held;
};

beforeAll(async () => {
  // Retry backoffs run at 1/20: a 10 s redelivery delay takes half a second.
  runtime = await startRuntime({ waitTimeScale: 0.05 });
  const problems: string[] = [];
  await quoteToCash(runtime, (what, ok) => {
    if (!ok) problems.push(what);
  });
  if (problems.length > 0) throw new Error(`the saga did not activate the deal: ${problems.join('; ')}`);
  ({ stripe, salesforce, documents } = localClients(runtime));
  const opportunity = (
    await salesforce.query<{ Id: string }>(
      "SELECT Id FROM Opportunity WHERE Revbridge_Status__c = 'Activated'",
    )
  ).records[0];
  ({ accountId, customerId } = await activatedDeal(salesforce, opportunity?.Id ?? ''));
}, 120_000);

afterAll(async () => {
  documents?.destroy();
  await runtime?.stop();
});

afterEach(async () => {
  runtime.salesforce?.faults.set({});
  await settle(runtime);
});

describe('dunning in the local runtime', () => {
  it('flags the Salesforce account on a failed payment, updates it on the retry, and clears it once paid', async () => {
    const failedBefore = metricSum('PaymentsFailed');
    const atRiskBefore = metricSum('AmountAtRisk');
    const invoiceId = await failedInvoice(stripe, customerId, 5000);
    await settle(runtime);
    let invoice = await stripe.invoices.retrieve(invoiceId);
    expect(invoice.attempt_count).toBe(1);
    expect(await accountFlag(salesforce, accountId)).toEqual({
      Amount_Past_Due__c: 50,
      Payment_Attempts__c: 1,
      Next_Payment_Retry__c: isoDate(invoice.next_payment_attempt),
      Failed_Invoice_Id__c: invoiceId,
    });
    expect(await dunningExceptions(runtime, documents, invoiceId)).toEqual([
      expect.objectContaining({ code: 'PaymentFailed', status: 'OPEN' }),
    ]);

    runtime.stripe?.retryInvoicePayment(invoiceId, 'pm_card_chargeDeclined');
    await settle(runtime);
    invoice = await stripe.invoices.retrieve(invoiceId);
    expect(await accountFlag(salesforce, accountId)).toMatchObject({
      Payment_Attempts__c: 2,
      Next_Payment_Retry__c: isoDate(invoice.next_payment_attempt),
    });
    expect(await dunningExceptions(runtime, documents, invoiceId)).toHaveLength(1);
    expect(metricSum('PaymentsFailed')).toBe(failedBefore + 2);
    expect(metricSum('AmountAtRisk')).toBe(atRiskBefore + 5000);

    await payingCard(invoiceId);
    expect(await accountFlag(salesforce, accountId)).toEqual(CLEARED);
    expect(await dunningExceptions(runtime, documents, invoiceId)).toEqual([
      expect.objectContaining({ code: 'PaymentFailed', status: 'RESOLVED' }),
    ]);
  });

  it('handles a failure Stripe delivers twice once', async () => {
    const invoiceId = await failedInvoice(stripe, customerId, 2000);
    await settle(runtime);
    const failedBefore = metricSum('PaymentsFailed');
    const ignoredBefore = metricSum('DunningEventsIgnored');
    const [failure] = failureEventsOf(invoiceId);
    expect((await postStripeWebhook(runtime, failure)).status).toBe(200);
    await settle(runtime);
    expect(metricSum('PaymentsFailed')).toBe(failedBefore);
    expect(metricSum('DunningEventsIgnored')).toBe(ignoredBefore);
    expect(await accountFlag(salesforce, accountId)).toMatchObject({
      Amount_Past_Due__c: 20,
      Payment_Attempts__c: 1,
    });
    expect(await dunningExceptions(runtime, documents, invoiceId)).toHaveLength(1);
    await payingCard(invoiceId);
    expect(await accountFlag(salesforce, accountId)).toEqual(CLEARED);
  });

  it('ignores an older attempt that arrives after a newer one, and a failure that arrives after the payment', async () => {
    let invoiceId = '';
    const held = await heldBack(async () => {
      invoiceId = await failedInvoice(stripe, customerId, 3000);
    });
    const firstAttempt = held.find((event) => event.type === 'invoice.payment_failed');
    expect(firstAttempt).toMatchObject({
      type: 'invoice.payment_failed',
      data: { object: { id: invoiceId } },
    });
    // Everything else arrives in time (the finalized invoice is posted to the ERP, as usual).
    for (const event of held.filter((e) => e !== firstAttempt)) {
      expect((await postStripeWebhook(runtime, event)).status).toBe(200);
    }
    runtime.stripe?.retryInvoicePayment(invoiceId, 'pm_card_chargeDeclined');
    await settle(runtime);
    expect(await accountFlag(salesforce, accountId)).toMatchObject({ Payment_Attempts__c: 2 });

    const ignoredBefore = metricSum('DunningEventsIgnored');
    expect((await postStripeWebhook(runtime, firstAttempt)).status).toBe(200);
    await settle(runtime);
    expect(metricSum('DunningEventsIgnored')).toBe(ignoredBefore + 1);
    expect(await accountFlag(salesforce, accountId)).toMatchObject({
      Amount_Past_Due__c: 30,
      Payment_Attempts__c: 2,
    });

    await payingCard(invoiceId);
    const [, secondAttempt] = failureEventsOf(invoiceId);
    // The same failure again under a new event id, as a replay would send it: the payment stays.
    expect(
      (await postStripeWebhook(runtime, { ...secondAttempt, id: `${secondAttempt?.id}_late` })).status,
    ).toBe(200);
    await settle(runtime);
    expect(await accountFlag(salesforce, accountId)).toEqual(CLEARED);
    expect(await dunningExceptions(runtime, documents, invoiceId)).toEqual([
      expect.objectContaining({ status: 'RESOLVED' }),
    ]);
  });

  it('retries a flag Salesforce could not take for a moment, and flags the account once it answers', async () => {
    const failedMessagesBefore = failedDunningMessages();
    runtime.salesforce?.faults.set({ errorRate: 1 });
    const invoiceId = await failedInvoice(stripe, customerId, 4000);
    await runtime.stripe?.flushWebhooks();
    await until(() => failedDunningMessages() > failedMessagesBefore, 'the flag to fail and be retried');
    runtime.salesforce?.faults.set({});
    await until(
      async () => (await accountFlag(salesforce, accountId)).Failed_Invoice_Id__c === invoiceId,
      'the retried flag to reach the account',
    );
    await settle(runtime);
    expect(await accountFlag(salesforce, accountId)).toMatchObject({
      Amount_Past_Due__c: 40,
      Payment_Attempts__c: 1,
    });
    expect(await dunningExceptions(runtime, documents, invoiceId)).toHaveLength(1);
    await payingCard(invoiceId);
    expect(await accountFlag(salesforce, accountId)).toEqual(CLEARED);
  });

  it('flags a HubSpot company the same way, and clears it once paid', async () => {
    const hubspot = new HubSpotClient({
      accessToken: localSecrets().hubspotAccessToken,
      basePath: runtime.twins.get('hubspot')?.url ?? '',
    });
    const company = await hubspot.crm.companies.basicApi.create({
      properties: {
        name: 'Globex',
        address: '1 Globex Way',
        city: 'Boston',
        zip: '02110',
        country: 'US',
        tax_id: 'US-98-7654321',
        billing_email: 'ap@globex.example',
      },
      associations: [],
    });
    const line = await hubspot.crm.lineItems.basicApi.create({
      properties: { name: 'PLATFORM', hs_sku: 'PLATFORM', quantity: '1', price: '1100' },
      associations: [],
    });
    const deal = await hubspot.crm.deals.basicApi.create({
      properties: { dealname: 'Globex platform', dealstage: 'contractsent', deal_currency_code: 'USD' },
      associations: [
        {
          to: { id: company.id },
          types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 5 }],
        },
        {
          to: { id: line.id },
          types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 19 }],
        },
      ],
    });
    await hubspot.crm.deals.basicApi.update(deal.id, { properties: { dealstage: 'closedwon' } });
    let customer: string | null | undefined;
    await until(
      async () => {
        await runtime.hubspot?.flushWebhooks();
        const read = await hubspot.crm.deals.basicApi.getById(deal.id, [
          'revbridge_status',
          'revbridge_billing_customer_id',
        ]);
        customer =
          read.properties.revbridge_status === 'Activated'
            ? read.properties.revbridge_billing_customer_id
            : null;
        return Boolean(customer);
      },
      'the HubSpot deal to be activated',
      60_000,
    );

    const flagProperties = [
      'revbridge_amount_past_due',
      'revbridge_payment_attempts',
      'revbridge_next_payment_retry',
      'revbridge_failed_invoice_id',
    ];
    const companyFlag = async () =>
      (await hubspot.crm.companies.basicApi.getById(company.id, flagProperties)).properties;
    const invoiceId = await failedInvoice(stripe, customer ?? '', 2500);
    await settle(runtime);
    const invoice = await stripe.invoices.retrieve(invoiceId);
    const flagged = await companyFlag();
    expect(flagged).toMatchObject({
      revbridge_amount_past_due: '25',
      revbridge_payment_attempts: '1',
      revbridge_failed_invoice_id: invoiceId,
    });
    expect(String(flagged.revbridge_next_payment_retry)).toContain(
      isoDate(invoice.next_payment_attempt) ?? '-',
    );

    await payingCard(invoiceId);
    const cleared = await companyFlag();
    for (const name of flagProperties) expect(cleared[name] || null).toBeNull();
  }, 90_000);

  it('opens an exception when Salesforce refuses the flag for good, beside the invoice’s dunning exception', async () => {
    runtime.salesforce?.faults.set({
      reject: [{ method: 'PATCH', path: `/sobjects/Account/${accountId}`, status: 400 }],
    });
    const invoiceId = await failedInvoice(stripe, customerId, 1000);
    await settle(runtime);
    const exceptions = await dunningExceptions(runtime, documents, invoiceId);
    expect(exceptions.map((item) => item.code).sort()).toEqual([
      'FIELD_CUSTOM_VALIDATION_EXCEPTION',
      'PaymentFailed',
    ]);
    expect(await accountFlag(salesforce, accountId)).toEqual(CLEARED);

    runtime.salesforce?.faults.set({});
    await payingCard(invoiceId);
    const after = await dunningExceptions(runtime, documents, invoiceId);
    expect(after.find((item) => item.code === 'PaymentFailed')?.status).toBe('RESOLVED');
    // The refused write stays open for a person: the flag it carried is obsolete once paid.
    expect(after.find((item) => item.code === 'FIELD_CUSTOM_VALIDATION_EXCEPTION')?.status).toBe('OPEN');
  });
});
