import { Client as HubSpotClient } from '@hubspot/api-client';
import { Connection } from 'jsforce';
import Stripe from 'stripe';
import { localSecrets } from '../../local/config';
import type { LocalRuntime } from '../../local/runtime/runtime';
import { eventually, startRuntime } from '../support/local-runtime';

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startRuntime();
});

afterAll(async () => {
  await runtime?.stop();
});

const twinUrl = (name: string) => {
  const url = runtime.status().twins[name];
  if (!url) throw new Error(`twin ${name} is not running`);
  return new URL(url);
};
const metricSum = (service: string, name: string) =>
  runtime
    .status()
    .metrics.filter((m) => m.metricName === name && m.dimensions.service === service)
    .reduce((sum, m) => sum + m.sum, 0);

describe('the vendor twins in the local runtime, through the official clients', () => {
  it('lists every twin in /_local/status', () => {
    expect(Object.keys(runtime.status().twins).sort()).toEqual([
      'hubspot',
      'netsuite',
      'salesforce',
      'stripe',
    ]);
  });

  it('lets the stripe SDK bill a customer, and the finalized invoice reaches the ERP through the webhook chain', async () => {
    const url = twinUrl('stripe');
    const stripe = new Stripe(localSecrets().stripeApiKey, {
      host: url.hostname,
      port: Number(url.port),
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    const customer = await stripe.customers.create({ name: 'Initech', email: 'ap@initech.example' });
    const product = await stripe.products.create({ name: 'Platform' });
    const price = await stripe.prices.create({
      product: product.id,
      currency: 'usd',
      unit_amount: 4900,
      recurring: { interval: 'month' },
    });
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id, quantity: 3 }],
      collection_method: 'send_invoice',
      days_until_due: 30,
    });
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('active');
    const invoiceId =
      typeof subscription.latest_invoice === 'string'
        ? subscription.latest_invoice
        : subscription.latest_invoice?.id;
    expect(invoiceId).toMatch(/^in_/);
    const invoice = await stripe.invoices.retrieve(invoiceId ?? '');
    expect(invoice.status).toBe('open');

    await runtime.stripe?.flushWebhooks();
    const erpInvoice = await eventually(
      () => runtime.netsuite?.getByExternalId('invoice', invoiceId ?? ''),
      'the ERP invoice',
    );
    expect(erpInvoice).toMatchObject({ externalId: invoiceId });
    expect(runtime.netsuite?.getByExternalId('customer', customer.id)).toMatchObject({
      externalId: customer.id,
    });
  });

  it('lets jsforce create and read an opportunity, and closing it won sends an outbound message revbridge acknowledges', async () => {
    const connection = new Connection({
      instanceUrl: twinUrl('salesforce').origin,
      accessToken: localSecrets().salesforceAccessToken,
      version: '62.0',
    });
    const account = await connection.sobject('Account').create({ Name: 'Initech' });
    if (!account.success) throw new Error('account not created');
    const opportunity = await connection.sobject('Opportunity').create({
      Name: 'Initech platform',
      AccountId: account.id,
      StageName: 'Prospecting',
      CloseDate: '2026-12-31',
    });
    if (!opportunity.success) throw new Error('opportunity not created');
    const read = (await connection.sobject('Opportunity').retrieve(opportunity.id)) as { Name?: string };
    expect(read.Name).toBe('Initech platform');

    const before = metricSum('ingest-salesforce', 'WebhooksAccepted');
    await connection.sobject('Opportunity').update({ Id: opportunity.id, StageName: 'Closed Won' });
    await eventually(
      () => runtime.salesforce?.deliveries.some((attempt) => attempt.accepted === true),
      'an acknowledged outbound message',
    );
    expect(metricSum('ingest-salesforce', 'WebhooksAccepted')).toBeGreaterThan(before);
  });

  it('lets the HubSpot client create and read a deal, and a won stage sends a signed batch revbridge accepts', async () => {
    const hubspot = new HubSpotClient({
      accessToken: localSecrets().hubspotAccessToken,
      basePath: twinUrl('hubspot').origin,
    });
    const deal = await hubspot.crm.deals.basicApi.create({
      properties: { dealname: 'Initech platform', dealstage: 'appointmentscheduled', amount: '14700' },
      associations: [],
    });
    const read = await hubspot.crm.deals.basicApi.getById(deal.id, ['dealname']);
    expect(read.properties.dealname).toBe('Initech platform');

    const before = metricSum('ingest-hubspot', 'WebhooksAccepted');
    await hubspot.crm.deals.basicApi.update(deal.id, { properties: { dealstage: 'closedwon' } });
    // The creation's batch (no won stage) is acknowledged and counted as ignored; the won one follows.
    await eventually(
      () => metricSum('ingest-hubspot', 'WebhooksAccepted') > before,
      'the won batch counted as accepted',
    );
    expect(runtime.hubspot?.deliveries.some((attempt) => attempt.accepted === true)).toBe(true);
  });
});
