import { Connection } from 'jsforce';
import Stripe from 'stripe';
import { localSecrets } from '../config';
import type { LocalRuntime } from '../runtime/runtime';

/**
 * The demo's amendment step (flow 7): an upsell of 5 seats won in the Salesforce twin against the
 * contract the demo's first deal activated reaches the Stripe subscription (prorated) and the NetSuite
 * sales order, and the CRM shows it, each checked.
 */

export interface ActivatedContract {
  readonly accountId: string;
  readonly opportunityId: string;
  /** Product2 ids by product code. */
  readonly productIds: Readonly<Record<string, string>>;
}

export interface DemoOutput {
  readonly step: (text: string) => void;
  readonly info: (text: string) => void;
  readonly check: (what: string, ok: boolean) => void;
}

const UPSELL_SEATS = 5;

export const amendment = async (runtime: LocalRuntime, contract: ActivatedContract, out: DemoOutput) => {
  out.step('An upsell of 5 seats won in Salesforce against that contract runs the amendment saga');
  const salesforce = new Connection({
    instanceUrl: runtime.twins.get('salesforce')?.url ?? '',
    accessToken: localSecrets().salesforceAccessToken,
    version: '62.0',
  });
  const stripeUrl = new URL(runtime.twins.get('stripe')?.url ?? '');
  const stripe = new Stripe(localSecrets().stripeApiKey, {
    host: stripeUrl.hostname,
    port: Number(stripeUrl.port),
    protocol: 'http',
    maxNetworkRetries: 0,
  });
  const original = (await salesforce
    .sobject('Opportunity')
    .retrieve(contract.opportunityId)) as unknown as Record<string, string | null>;
  const subscriptionId = original.Subscription_Id__c ?? '';
  const seats = async () =>
    (await stripe.subscriptions.retrieve(subscriptionId, { expand: ['items.data.price'] })).items.data.find(
      (item) => item.price.lookup_key === 'seat_monthly_usd',
    )?.quantity ?? 0;
  const seatsBefore = await seats();

  const upsell = await salesforce.sobject('Opportunity').create({
    Name: 'Initech upsell: 5 seats',
    AccountId: contract.accountId,
    StageName: 'Negotiation/Review',
    CloseDate: '2026-12-31',
    CurrencyIsoCode: 'USD',
    // The configured field (cdk.json salesforce.amendmentOfField) names the contract's opportunity.
    Amended_Opportunity__c: contract.opportunityId,
  });
  if (!upsell.success) throw new Error('the upsell opportunity was not created in the Salesforce twin');
  await salesforce.sobject('OpportunityLineItem').create({
    OpportunityId: upsell.id,
    Product2Id: contract.productIds.SEAT,
    Quantity: UPSELL_SEATS,
    UnitPrice: 25,
  });
  await salesforce.sobject('Opportunity').update({ Id: upsell.id, StageName: 'Closed Won' });
  out.info(`opportunity ${upsell.id}: SEAT × ${UPSELL_SEATS}, amends ${contract.opportunityId}; Closed Won`);

  const deadline = Date.now() + 60_000;
  const find = () =>
    runtime.stepFunctions.snapshot().executions.find((e) => e.name.includes(upsell.id.slice(0, 15)));
  while (!find() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  const started = find();
  const execution = started ? await runtime.stepFunctions.waitForExecution(started.executionArn) : undefined;
  if (started && execution) {
    const path = runtime.stepFunctions
      .getExecutionHistory(started.executionArn)
      .filter((event) => event.type.endsWith('StateEntered'))
      .map((event) => String(event.details?.name));
    out.info(`execution ${started.name} of ${started.stateMachine.split(':').pop()}: ${execution.status}`);
    out.info(`states: ${path.join(' → ')}`);
  }
  out.check(
    'the amendment saga (not a second quote-to-cash) succeeded',
    started?.stateMachine.includes('amend-contract') === true && execution?.status === 'SUCCEEDED',
  );

  const seatsAfter = await seats();
  out.info(`Stripe subscription ${subscriptionId}: seats ${seatsBefore} → ${seatsAfter}`);
  out.check(
    `the Stripe subscription has ${UPSELL_SEATS} more seats`,
    seatsAfter === seatsBefore + UPSELL_SEATS,
  );
  const { customer } = await stripe.subscriptions.retrieve(subscriptionId);
  const pending = await stripe.invoiceItems.list({ customer: String(customer), pending: true });
  out.info(
    `proration items waiting for the next invoice: ${pending.data.map((item) => item.amount).join(', ')}`,
  );
  out.check(
    'the change is prorated (create_prorations)',
    pending.data.some((item) => item.amount > 0),
  );

  const order = runtime.netsuite?.getByExternalId('salesOrder', `salesforce-${contract.opportunityId}`) as
    | { item?: { items?: { item: { id: string }; quantity: number; isClosed?: boolean }[] } }
    | undefined;
  const lines = order?.item?.items ?? [];
  out.info(
    `NetSuite sales order lines: ${lines.map((l) => `${l.item.id} × ${l.quantity}${l.isClosed ? ' (closed)' : ''}`).join(', ')}`,
  );
  out.check(
    `the ERP sales order gained a line for the ${UPSELL_SEATS} seats, its sold lines untouched`,
    lines.length === 3 && lines.at(-1)?.quantity === UPSELL_SEATS && lines.every((l) => !l.isClosed),
  );
  const written = (await salesforce.sobject('Opportunity').retrieve(upsell.id)) as unknown as Record<
    string,
    string | null
  >;
  out.info(`upsell.Revbridge_Status__c = ${written.Revbridge_Status__c ?? '(empty)'}`);
  out.check('the upsell shows Amended in Salesforce', written.Revbridge_Status__c === 'Amended');
};
