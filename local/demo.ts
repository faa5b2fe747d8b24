// Lambda runs these functions on Node 22; the notice that the AWS SDK will drop Node 20 in 2027 is
// about this local process, and `engines` in package.json already says so.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Connection } from 'jsforce';
import Stripe from 'stripe';
import { localSecrets } from './config';
import { creditNoteToCreditMemo } from './demo/credit-notes';
import { dunning } from './demo/dunning';
import { operatorCli } from './demo/operator';
import { subscriptionChanges } from './demo/subscriptions';
import { LocalRuntime } from './runtime/runtime';
import { ensureSynthesized } from './runtime/synth';

/**
 * `npm run demo`: quote-to-cash offline, checked at every step.
 * 1. A deal closed won in the Salesforce twin (through `jsforce`, as a user's org would send it) runs
 *    the saga: ERP customer, billing customer, subscription, sales order, ids written back. The
 *    subscription's first invoice then comes back from Stripe as a webhook and is posted to the ERP.
 *    A credit note on that invoice becomes a NetSuite credit memo; voiding it voids the memo.
 * 2. Stripe `invoice.finalized` webhooks signed with the official SDK (one delivered twice, one
 *    tampered with) each reach the ERP exactly once.
 * 3. The contract changes in billing (local/demo/subscriptions.ts): a seat increase in Stripe reaches
 *    the ERP sales order and the opportunity, then a cancellation closes the rest of the order.
 */

// Stripe's own invoice sample, kept in the project (test/fixtures/vendors/SOURCES.md).
const FIXTURE = path.resolve(
  __dirname,
  '..',
  'test',
  'fixtures',
  'vendors',
  'stripe',
  'resources',
  'invoice.json',
);

// Imported (the console's browser test runs the same saga), the demo prints nothing.
const standalone = require.main === module;
const step = (text: string) => standalone && process.stdout.write(`\n▸ ${text}\n`);
const info = (text: string) => standalone && process.stdout.write(`  ${text}\n`);

interface Check {
  readonly what: string;
  readonly ok: boolean;
}

const invoiceEvent = (base: Record<string, unknown>, n: number) => {
  const invoiceId = `in_demo_${String(n).padStart(4, '0')}`;
  const customer = `cus_demo_${n % 2 === 0 ? 'acme' : 'globex'}`;
  return {
    id: `evt_demo_${n}`,
    object: 'event',
    api_version: '2025-10-29.clover',
    created: Math.floor(Date.now() / 1000) - 5,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'invoice.finalized',
    data: {
      object: {
        ...base,
        id: invoiceId,
        number: `DEMO-${n}`,
        customer,
        customer_name: n % 2 === 0 ? 'Acme Corp' : 'Globex Ltd',
        customer_email: n % 2 === 0 ? 'ap@acme.example' : 'billing@globex.example',
        status: 'open',
        total: 1000 * n,
        subtotal: 1000 * n,
        amount_due: 1000 * n,
        lines: {
          object: 'list',
          has_more: false,
          data: [
            {
              id: `il_demo_${n}`,
              object: 'line_item',
              amount: 1000 * n,
              currency: 'usd',
              description: `Platform × ${n}`,
              quantity: n,
            },
          ],
        },
      },
    },
  };
};

type CheckFn = (what: string, ok: boolean) => void;

/** Flow 1 and 2: a won opportunity becomes a contract, and its first invoice an ERP receivable. */
export const quoteToCash = async (runtime: LocalRuntime, check: CheckFn) => {
  step('A deal closed won in the Salesforce twin, through jsforce');
  const salesforceUrl = runtime.twins.get('salesforce')?.url ?? '';
  const salesforce = new Connection({
    instanceUrl: salesforceUrl,
    accessToken: localSecrets().salesforceAccessToken,
    version: '62.0',
  });
  const created = (result: { success: boolean; id?: string | undefined }, what: string): string => {
    if (!result.success || !result.id) throw new Error(`${what} was not created in the Salesforce twin`);
    return result.id;
  };
  const pricebook = (
    await salesforce.query<{ Id: string }>('SELECT Id FROM Pricebook2 WHERE IsStandard = true')
  ).records[0]?.Id;
  const productIds: Record<string, string> = {};
  for (const code of ['PLATFORM', 'SEAT']) {
    productIds[code] = created(
      await salesforce.sobject('Product2').create({ Name: code, ProductCode: code, IsActive: true }),
      `product ${code}`,
    );
    await salesforce.sobject('PricebookEntry').create({
      Pricebook2Id: pricebook,
      Product2Id: productIds[code],
      UnitPrice: 100,
      IsActive: true,
      CurrencyIsoCode: 'USD',
    });
  }
  const accountId = created(
    await salesforce.sobject('Account').create({
      Name: 'Initech',
      BillingStreet: '1 Initech Way',
      BillingCity: 'Austin',
      BillingPostalCode: '78701',
      BillingState: 'TX',
      BillingCountry: 'US',
      Tax_Id__c: 'US-12-3456789',
      Billing_Email__c: 'ap@initech.example',
      Subsidiary__c: 'US',
    }),
    'account',
  );
  const opportunityId = created(
    await salesforce.sobject('Opportunity').create({
      Name: 'Initech platform',
      AccountId: accountId,
      StageName: 'Negotiation/Review',
      CloseDate: '2026-12-31',
      CurrencyIsoCode: 'USD',
    }),
    'opportunity',
  );
  for (const [code, quantity, unitPrice] of [
    ['PLATFORM', 1, 1200],
    ['SEAT', 10, 25],
  ] as const) {
    await salesforce.sobject('OpportunityLineItem').create({
      OpportunityId: opportunityId,
      Product2Id: productIds[code],
      Quantity: quantity,
      UnitPrice: unitPrice,
    });
  }
  info(`opportunity ${opportunityId}: PLATFORM × 1 at 1200 USD, SEAT × 10 at 25 USD`);
  await salesforce.sobject('Opportunity').update({ Id: opportunityId, StageName: 'Closed Won' });
  info('stage set to Closed Won: the twin sends its outbound message to /webhooks/salesforce');

  step('The saga runs (Step Functions, JSONPath) through the Stripe and NetSuite twins');
  const deadline = Date.now() + 60_000;
  let execution = runtime.stepFunctions
    .snapshot()
    .executions.find((e) => e.name.includes(opportunityId.slice(0, 15)));
  while ((!execution || execution.status === 'RUNNING') && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    execution = runtime.stepFunctions
      .snapshot()
      .executions.find((e) => e.name.includes(opportunityId.slice(0, 15)));
  }
  if (execution) {
    const path = runtime.stepFunctions
      .getExecutionHistory(execution.executionArn)
      .filter((event) => event.type.endsWith('StateEntered'))
      .map((event) => String(event.details?.name));
    info(`execution ${execution.name}: ${execution.status}`);
    info(`states: ${path.join(' → ')}`);
  }
  check('the saga succeeded', execution?.status === 'SUCCEEDED');
  const opportunity = (await salesforce.sobject('Opportunity').retrieve(opportunityId)) as unknown as Record<
    string,
    string | null
  >;
  for (const field of [
    'Billing_Customer_Id__c',
    'Subscription_Id__c',
    'ERP_Customer_Id__c',
    'Sales_Order_Id__c',
    'Revbridge_Status__c',
  ]) {
    info(`opportunity.${field} = ${opportunity[field] ?? '(empty)'}`);
  }
  check('ids and status written back to the opportunity', opportunity.Revbridge_Status__c === 'Activated');
  const salesOrder = runtime.netsuite?.getById('salesOrder', opportunity.Sales_Order_Id__c ?? '');
  check('a NetSuite sales order exists for the deal', salesOrder !== undefined);
  const erpCustomer = runtime.netsuite?.getById('customer', opportunity.ERP_Customer_Id__c ?? '');
  check('a NetSuite customer exists for the account', erpCustomer !== undefined);

  step('The subscription’s first invoice comes back from Stripe as a webhook and is posted to the ERP');
  const stripeUrl = new URL(runtime.twins.get('stripe')?.url ?? '');
  const stripe = new Stripe(localSecrets().stripeApiKey, {
    host: stripeUrl.hostname,
    port: Number(stripeUrl.port),
    protocol: 'http',
    maxNetworkRetries: 0,
  });
  const subscription = await stripe.subscriptions.retrieve(opportunity.Subscription_Id__c ?? '');
  info(
    `Stripe subscription ${subscription.id}: ${subscription.status}, ${subscription.items.data.length} items`,
  );
  const invoices = await stripe.invoices.list({ subscription: subscription.id });
  const first = invoices.data[0];
  info(`first invoice ${first?.id}: ${first?.status}, total ${first?.total} ${first?.currency}`);
  await runtime.stripe?.flushWebhooks();
  await runtime.idle();
  const posted = first?.id ? runtime.netsuite?.getByExternalId('invoice', first.id) : undefined;
  info(`NetSuite invoice for ${first?.id}: #${posted?.id ?? '-'}`);
  check(
    'the first invoice reached the ERP exactly once',
    first?.id !== undefined && runtime.netsuite?.writeCount('invoice', first.id) === 1,
  );
};

const main = async (): Promise<number> => {
  const checks: Check[] = [];
  const check: CheckFn = (what, ok) => {
    checks.push({ what, ok });
    info(`${ok ? '✔' : '✘'} ${what}`);
  };

  step('Synthesizing the stack (cdk synth) if the sources changed');
  info(ensureSynthesized() ? 'synthesized cdk.out' : 'cdk.out is up to date');

  step('Starting the local runtime from the synthesized template');
  const runtime = await LocalRuntime.start({ ephemeralPorts: true, log: info });
  try {
    const status = runtime.status();
    info(
      `started in ${status.startupMs} ms: ${status.functions.length} functions, ${status.queues.length} queues, API ${runtime.apiUrl}`,
    );
    info(`NetSuite twin at ${runtime.twins.get('netsuite')?.url}`);
    info(`console: ${runtime.apiUrl}/_local/console (while the demo runs; \`npm run local\` keeps it up)`);

    await quoteToCash(runtime, check);
    await creditNoteToCreditMemo(runtime, { step, info, check });

    step('Sending Stripe invoice.finalized webhooks, signed with the official stripe SDK');
    const secret = localSecrets().stripeWebhookSecret;
    const base = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
    const send = async (payload: string, signature: string) => {
      const response = await fetch(`${runtime.apiUrl}/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        body: payload,
      });
      return { status: response.status, body: await response.text() };
    };
    const events = [1, 2, 3].map((n) => invoiceEvent(base, n));
    for (const event of events) {
      const payload = JSON.stringify(event, null, 2);
      const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret });
      const answer = await send(payload, signature);
      info(`${event.id} (${event.data.object.id}) → HTTP ${answer.status}`);
      check(`${event.id} accepted`, answer.status === 200);
    }
    const again = JSON.stringify(events[1], null, 2);
    const duplicate = await send(again, Stripe.webhooks.generateTestHeaderString({ payload: again, secret }));
    info(`${events[1]?.id} delivered a second time → HTTP ${duplicate.status}`);
    check('the duplicate delivery is accepted (Stripe must not retry it)', duplicate.status === 200);
    const tampered = JSON.stringify(events[0], null, 2).replace('"total": 1000', '"total": 1');
    const forged = await send(
      tampered,
      Stripe.webhooks.generateTestHeaderString({ payload: JSON.stringify(events[0], null, 2), secret }),
    );
    info(`a tampered copy of ${events[0]?.id} → HTTP ${forged.status} ${forged.body}`);
    check('the tampered webhook is rejected with 400', forged.status === 400);

    step('Waiting for the bus, the queue and the posting function to settle');
    await runtime.idle();
    for (const fn of runtime.lambda.snapshot()) {
      info(
        `${fn.logicalId}: ${fn.invocations} invocations, ${fn.errors} errors, ${fn.coldStarts} cold starts`,
      );
    }

    step('What the ERP (NetSuite twin) holds');
    const netsuite = runtime.netsuite;
    for (const event of events) {
      const invoiceId = event.data.object.id;
      const record = netsuite?.getByExternalId('invoice', invoiceId);
      const writes = netsuite?.writeCount('invoice', invoiceId) ?? 0;
      info(`invoice ${invoiceId}: NetSuite id ${record?.id ?? '-'}, written ${writes} time(s)`);
      check(`invoice ${invoiceId} reached the ERP exactly once`, record !== undefined && writes === 1);
    }
    const customers = netsuite?.records('customer') ?? [];
    info(
      `customers: ${customers.map((customer) => `${customer.externalId ?? '?'} (#${customer.id})`).join(', ')}`,
    );
    check('one ERP customer per billing customer', customers.length === 3);

    await operatorCli(runtime, check, { step, info }, events[0]?.data.object.id ?? '');
    await subscriptionChanges(runtime, check, { step, info });

    step('Metrics and alarms');
    const final = runtime.status();
    const metric = (name: string) =>
      final.metrics.filter((m) => m.metricName === name).reduce((sum, m) => sum + m.sum, 0);
    info(
      `InvoicesPosted ${metric('InvoicesPosted')}, InvoicePostingFailed ${metric('InvoicePostingFailed')}, WebhooksRejected ${metric('WebhooksRejected')}`,
    );
    check(
      'InvoicesPosted counts 4 (the subscription’s first invoice and the three webhooks)',
      metric('InvoicesPosted') === 4,
    );
    for (const alarm of final.alarms) info(`alarm ${alarm.id}: ${alarm.state}`);
    check(
      'no alarm is in ALARM',
      final.alarms.every((alarm) => alarm.state !== 'ALARM'),
    );

    step('A failed payment flags the CRM account; its later success clears it (dunning)');
    await dunning(runtime, check, info);
  } finally {
    await runtime.stop();
  }
  const failed = checks.filter((item) => !item.ok);
  process.stdout.write(
    `\n${failed.length === 0 ? 'demo passed' : 'demo FAILED'}: ${checks.length - failed.length} passed, ${failed.length} failed\n`,
  );
  return failed.length === 0 ? 0 : 1;
};

if (standalone)
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
