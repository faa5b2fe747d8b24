import { Connection } from 'jsforce';
import Stripe from 'stripe';
import { localSecrets } from '../config';
import type { LocalRuntime } from '../runtime/runtime';

/**
 * The demo's flow 5 step: the contract the saga activated changes in billing, and the ERP and the CRM
 * follow. A seat increase made in Stripe becomes a new, dated line of the NetSuite sales order (the lines
 * already sold stay as they were) and a new contract value on the opportunity; then the subscription is
 * canceled, which closes what remains of the order. Cancels the contract: run it after every step that
 * still needs it live.
 */

export interface DemoOutput {
  readonly step: (text: string) => unknown;
  readonly info: (text: string) => unknown;
}

interface OrderLine {
  line: number;
  item: { id: string };
  quantity: number;
  rate: number;
  isClosed?: boolean;
  custcol_revbridge_effective_date?: string;
}

export const subscriptionChanges = async (
  runtime: LocalRuntime,
  check: (what: string, ok: boolean) => void,
  out: DemoOutput,
): Promise<void> => {
  const stripeUrl = new URL(runtime.twins.get('stripe')?.url ?? '');
  const stripe = new Stripe(localSecrets().stripeApiKey, {
    host: stripeUrl.hostname,
    port: Number(stripeUrl.port),
    protocol: 'http',
    maxNetworkRetries: 0,
  });
  const salesforce = new Connection({
    instanceUrl: runtime.twins.get('salesforce')?.url ?? '',
    accessToken: localSecrets().salesforceAccessToken,
    version: '62.0',
  });
  const settle = async () => {
    await runtime.stripe?.flushWebhooks();
    await runtime.idle();
  };
  const active = await stripe.subscriptions.list({ status: 'active', limit: 100 });
  const subscription = active.data.find((s) => s.metadata.revbridge_crm === 'salesforce');
  const opportunityId = subscription?.metadata.revbridge_deal_id;
  const seats = subscription?.items.data.find((item) => item.price.lookup_key === 'seat_monthly_usd');
  check(
    'the activated contract has a seat item in Stripe',
    seats !== undefined && opportunityId !== undefined,
  );
  if (!subscription || !seats || !opportunityId) return;
  const orderExternalId = `salesforce-${opportunityId}`;
  const lines = () =>
    ((runtime.netsuite?.getByExternalId('salesOrder', orderExternalId) as { item?: { items: OrderLine[] } })
      ?.item?.items ?? []) as OrderLine[];
  const show = () => {
    for (const line of lines()) {
      out.info(
        `  line ${line.line}: item ${line.item.id} × ${line.quantity} at ${line.rate}${line.isClosed ? ', closed' : ''}${line.custcol_revbridge_effective_date ? `, effective ${line.custcol_revbridge_effective_date}` : ''}`,
      );
    }
  };
  const opportunity = async () =>
    (await salesforce.sobject('Opportunity').retrieve(opportunityId)) as unknown as {
      Subscription_Status__c: string | null;
      Contract_Value__c: number | null;
    };
  const before = lines().map((line) => ({ ...line }));

  const added = 5;
  const quantity = (seats.quantity ?? 0) + added;
  out.step(
    `A seat increase in Stripe (${seats.quantity} → ${quantity} seats) reaches the ERP sales order and the CRM`,
  );
  const changed = await stripe.subscriptions.update(subscription.id, {
    items: [{ id: seats.id, quantity }],
    // Prorations wait as pending items for the next renewal invoice.
    proration_behavior: 'create_prorations',
  });
  await settle();
  out.info(`NetSuite sales order ${orderExternalId}:`);
  show();
  const after = lines();
  const newLine = after.find((line) => !before.some((old) => old.line === line.line));
  check(
    `the sales order gained one dated line for ${added} seats, the lines already sold unchanged`,
    newLine?.item.id === '101' &&
      newLine.quantity === added &&
      newLine.custcol_revbridge_effective_date !== undefined &&
      before.every((old) => {
        const now = after.find((line) => line.line === old.line);
        return now?.quantity === old.quantity && now.rate === old.rate && now.isClosed !== true;
      }),
  );
  const value =
    changed.items.data.reduce((sum, item) => sum + (item.price.unit_amount ?? 0) * (item.quantity ?? 0), 0) /
    100;
  const shown = await opportunity();
  out.info(
    `opportunity.Subscription_Status__c = ${shown.Subscription_Status__c}, Contract_Value__c = ${shown.Contract_Value__c}`,
  );
  check(
    `the opportunity shows the subscription active at ${value} USD a month`,
    shown.Subscription_Status__c === 'active' && shown.Contract_Value__c === value,
  );

  out.step('The subscription is canceled in Stripe: what remains of the order is closed');
  await stripe.subscriptions.cancel(subscription.id);
  await settle();
  show();
  const closed = lines();
  check(
    'every line of the sales order is closed, none removed or rewritten',
    closed.length === after.length &&
      closed.every((line) => {
        const open = after.find((old) => old.line === line.line);
        return line.isClosed === true && open?.quantity === line.quantity && open.rate === line.rate;
      }),
  );
  const ended = await opportunity();
  out.info(
    `opportunity.Subscription_Status__c = ${ended.Subscription_Status__c}, Contract_Value__c = ${ended.Contract_Value__c}`,
  );
  check(
    'the opportunity shows the subscription canceled with no contract value',
    ended.Subscription_Status__c === 'canceled' && ended.Contract_Value__c === 0,
  );
};
