import type { Connection } from 'jsforce';
import type Stripe from 'stripe';
import type { LocalRuntime } from '../../local/runtime/runtime';
import {
  eventually,
  revbridgeCli,
  runtimeParts,
  salesforceCatalog,
  settle,
  startRuntime,
  twinClients,
} from '../support/local-runtime';

/**
 * "A replayed exception succeeds once its data is fixed", for a deal: a Salesforce deal whose account
 * has no billing street fails the quote-to-cash saga's validation (a permanent failure: an exception, no
 * retry). The test fixes the account in the Salesforce twin, and `npx revbridge exceptions replay`
 * activates the deal: one ERP customer, one sales order, one subscription. Replaying again writes
 * nothing. (The invoice/payment case is in cli.int.test.ts.)
 */

let runtime: LocalRuntime;
let salesforce: Connection;
let stripe: Stripe;
let accountId = '';
let dealId = '';

const revbridge = async (...args: string[]) => {
  const { code, out, err } = await revbridgeCli(runtime)(...args, '--json');
  if (code !== 0) throw new Error(`revbridge ${args.join(' ')} failed (${code}): ${err}`);
  return JSON.parse(out) as unknown;
};
const netsuite = () => runtimeParts(runtime).netsuite();
const sagasOf = (id: string) =>
  runtime.stepFunctions.snapshot().executions.filter((e) => e.name.startsWith(`sf-${id}`));

const opportunity = async () =>
  (await salesforce.sobject('Opportunity').retrieve(dealId)) as unknown as Record<string, string | null>;

type ExceptionRow = {
  exceptionId: string;
  flow: string;
  code: string;
  status: string;
  correlationId: string;
};
const dealException = async () => {
  const rows = (await revbridge('exceptions', 'list')) as ExceptionRow[];
  const row = rows.find((r) => r.correlationId === dealId && r.code === 'ValidationFailed');
  if (!row) throw new Error(`no ValidationFailed exception for ${dealId} in ${JSON.stringify(rows)}`);
  return row;
};

beforeAll(async () => {
  runtime = await startRuntime({ waitTimeScale: 0.05 });
  ({ salesforce, stripe } = twinClients(runtime));
  const products = await salesforceCatalog(salesforce, ['PLATFORM']);
  // Bad data: the account has no billing street.
  const account = await salesforce.sobject('Account').create({
    Name: 'Umbrella',
    BillingCity: 'Austin',
    BillingPostalCode: '78701',
    BillingState: 'TX',
    BillingCountry: 'US',
    Tax_Id__c: 'US-12-3456789',
    Billing_Email__c: 'ap@umbrella.example',
    Subsidiary__c: 'US',
  });
  if (!account.success) throw new Error('account not created');
  accountId = account.id;
  const deal = await salesforce.sobject('Opportunity').create({
    Name: 'Umbrella platform',
    AccountId: accountId,
    StageName: 'Negotiation/Review',
    CloseDate: '2026-12-31',
    CurrencyIsoCode: 'USD',
  });
  if (!deal.success) throw new Error('opportunity not created');
  dealId = deal.id;
  await salesforce
    .sobject('OpportunityLineItem')
    .create({ OpportunityId: dealId, Product2Id: products.PLATFORM, Quantity: 1, UnitPrice: 1200 });
  await salesforce.sobject('Opportunity').update({ Id: dealId, StageName: 'Closed Won' });
  await eventually(() => sagasOf(dealId).length > 0, `the saga of ${dealId} to start`);
  await settle(runtime);
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
});

describe('replaying a deal exception once its data is fixed', () => {
  it('fails the deal permanently for its missing street, writing nothing to the ERP, and opens an exception', async () => {
    expect(sagasOf(dealId).map((e) => e.status)).toEqual(['FAILED']);
    const exception = await dealException();
    expect(exception).toMatchObject({ flow: 'quote-to-cash', status: 'OPEN' });
    expect(netsuite().records('salesOrder')).toEqual([]);
    expect(netsuite().records('customer')).toEqual([]);
    expect((await stripe.subscriptions.list({ status: 'all' })).data).toEqual([]);
  });

  it('activates the deal on replay once the account is fixed in the CRM: one customer, sales order and subscription', async () => {
    await salesforce.sobject('Account').update({ Id: accountId, BillingStreet: '1 Umbrella Way' });
    const { exceptionId } = await dealException();
    const [replay] = (await revbridge('exceptions', 'replay', exceptionId)) as { attempt: number }[];
    expect(replay?.attempt).toBe(1);
    await eventually(() => sagasOf(dealId).length === 2, 'the replayed saga to start');
    await settle(runtime);

    expect(sagasOf(dealId).map((e) => e.status)).toEqual(['FAILED', 'SUCCEEDED']);
    expect(await opportunity()).toMatchObject({ Revbridge_Status__c: 'Activated' });
    const orders = netsuite().records('salesOrder');
    expect(orders.map((o) => o.externalId)).toEqual([`salesforce-${dealId}`]);
    expect(netsuite().writeCount('salesOrder', `salesforce-${dealId}`)).toBe(1);
    expect(netsuite().records('customer')).toHaveLength(1);
    const subscriptions = (await stripe.subscriptions.list({ status: 'all' })).data;
    expect(subscriptions.map((s) => s.status)).toEqual(['active']);
    const [invoice] = (await stripe.invoices.list({ subscription: String(subscriptions[0]?.id) })).data;
    expect(netsuite().writeCount('invoice', String(invoice?.id))).toBe(1);
  });

  it('writes nothing when the exception is replayed again', async () => {
    const { exceptionId } = await dealException();
    const customerWrites = netsuite().writeCount('customer', `salesforce-${accountId}`);
    const [replay] = (await revbridge('exceptions', 'replay', exceptionId)) as { attempt: number }[];
    expect(replay?.attempt).toBe(2);
    await settle(runtime);

    expect(netsuite().writeCount('salesOrder', `salesforce-${dealId}`)).toBe(1);
    expect(netsuite().writeCount('customer', `salesforce-${accountId}`)).toBe(customerWrites);
    expect(netsuite().records('salesOrder')).toHaveLength(1);
    expect((await stripe.subscriptions.list({ status: 'all' })).data).toHaveLength(1);
    expect(netsuite().records('invoice')).toHaveLength(1);
  });
});
