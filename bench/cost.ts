import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Connection } from 'jsforce';
import Stripe from 'stripe';
import type { Usage } from '../local/aws/billing-meter';
import { localSecrets } from '../local/config';
import { LocalRuntime } from '../local/runtime/runtime';
import { loadTemplate } from '../local/runtime/template';
import {
  type ApiKind,
  costLines,
  floorUsage,
  formatLines,
  loadPrices,
  type PriceTable,
  total,
  withModeledLogs,
} from './cost-model';
import { info, record } from './figures';
import {
  type SignedRequest,
  sendWebhooks,
  signedInvoiceEvent,
  signedStripeEvent,
  stripeFixture,
} from './webhooks';

/**
 * `npm run bench -- cost`: runs each flow type through the local runtime, warm, counts every request
 * AWS would bill (local/aws/billing-meter.ts) and prices it per million flows with bench/prices.json,
 * beside the floor of the parts the architecture requires for that flow.
 */

const BUDGET = { invoiceUsdPerMillion: 5, invoiceOverFloor: 1.3 } as const;
const INVOICES = 400;
const SAGAS = 8;

const apiKindOf = (assemblyDir: string): ApiKind => {
  const { template } = loadTemplate(assemblyDir);
  return Object.values(template.Resources).some((resource) => resource.Type === 'AWS::ApiGatewayV2::Api')
    ? 'http'
    : 'rest';
};

const measure = async (runtime: LocalRuntime, run: () => Promise<void>): Promise<Usage> => {
  await runtime.idle(600_000);
  await runtime.resetBilling();
  await run();
  await runtime.idle(600_000);
  return runtime.billing();
};

const report = (
  title: string,
  usage: Usage,
  flows: number,
  prices: PriceTable,
  api: ApiKind,
  functions: { ingest: string; consumer: string },
  extraFloor: Parameters<typeof floorUsage>[4] = {},
) => {
  const measured = costLines(withModeledLogs(usage, prices), flows, prices, api);
  const floor = costLines(floorUsage(usage, flows, functions, prices, extraFloor), flows, prices, api);
  process.stdout.write(`\n  ${title}: ${flows} flows measured, USD per million flows\n`);
  process.stdout.write(
    `        ${'service'.padEnd(22)} ${'line (who)'.padEnd(58)} ${'counted'.padStart(12)} ${'per flow'.padStart(14)}  ${'$/M flows'}\n`,
  );
  for (const line of formatLines(measured)) process.stdout.write(`${line}\n`);
  process.stdout.write(`        floor, the parts the architecture requires:\n`);
  for (const line of formatLines(floor)) process.stdout.write(`${line}\n`);
  const compute = total(measured.filter((line) => line.unit.startsWith('lambda.gbSeconds')));
  info(
    `$${total(measured).toFixed(2)} per million, of which Lambda GB-seconds $${compute.toFixed(2)}: durations are this machine's wall time (loaded, shared), the one figure here that moves with its load; the requests behind the other $${(total(measured) - compute).toFixed(2)} do not`,
  );
  const floorCompute = total(floor.filter((line) => line.unit.startsWith('lambda.gbSeconds')));
  return {
    measured: total(measured),
    floor: total(floor),
    /** Without the GB-seconds, which the floor takes as measured: the ratio of the billed requests alone. */
    requests: total(measured) - compute,
    floorRequests: total(floor) - floorCompute,
    lines: measured,
  };
};

/** Closes `count` won deals in the Salesforce twin; resolves when their sagas have ended. */
const runSagas = async (
  runtime: LocalRuntime,
  count: number,
  round: number,
): Promise<{ succeeded: number; subscriptions: string[] }> => {
  const salesforce = new Connection({
    instanceUrl: runtime.twins.get('salesforce')?.url ?? '',
    accessToken: localSecrets().salesforceAccessToken,
    version: '62.0',
  });
  const id = (result: { success: boolean; id?: string | undefined }) => {
    if (!result.success || !result.id) throw new Error('the Salesforce twin did not create a record');
    return result.id;
  };
  const pricebook = (
    await salesforce.query<{ Id: string }>('SELECT Id FROM Pricebook2 WHERE IsStandard = true')
  ).records[0]?.Id;
  const products: Record<string, string> = {};
  for (const code of ['PLATFORM', 'SEAT']) {
    products[code] = id(
      await salesforce.sobject('Product2').create({ Name: code, ProductCode: code, IsActive: true }),
    );
    await salesforce.sobject('PricebookEntry').create({
      Pricebook2Id: pricebook,
      Product2Id: products[code],
      UnitPrice: 100,
      IsActive: true,
      CurrencyIsoCode: 'USD',
    });
  }
  const opportunities: string[] = [];
  for (let n = 0; n < count; n += 1) {
    const account = id(
      await salesforce.sobject('Account').create({
        Name: `Bench ${round}-${n}`,
        BillingStreet: '1 Bench Way',
        BillingCity: 'Austin',
        BillingPostalCode: '78701',
        BillingState: 'TX',
        BillingCountry: 'US',
        Tax_Id__c: 'US-12-3456789',
        Billing_Email__c: `ap${n}@bench.example`,
        Subsidiary__c: 'US',
      }),
    );
    const opportunity = id(
      await salesforce.sobject('Opportunity').create({
        Name: `Bench deal ${round}-${n}`,
        AccountId: account,
        StageName: 'Negotiation/Review',
        CloseDate: '2026-12-31',
        CurrencyIsoCode: 'USD',
      }),
    );
    for (const [code, quantity, unitPrice] of [
      ['PLATFORM', 1, 1200],
      ['SEAT', 10, 25],
    ] as const) {
      await salesforce.sobject('OpportunityLineItem').create({
        OpportunityId: opportunity,
        Product2Id: products[code],
        Quantity: quantity,
        UnitPrice: unitPrice,
      });
    }
    opportunities.push(opportunity);
  }
  for (const opportunity of opportunities)
    await salesforce.sobject('Opportunity').update({ Id: opportunity, StageName: 'Closed Won' });
  const deadline = Date.now() + 120_000;
  const ended = () =>
    runtime.stepFunctions
      .snapshot()
      .executions.filter(
        (execution) =>
          execution.status !== 'RUNNING' &&
          opportunities.some((o) => execution.name.includes(o.slice(0, 15))),
      );
  while (ended().length < opportunities.length && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 100));
  await runtime.idle(600_000);
  const subscriptions: string[] = [];
  for (const opportunity of opportunities) {
    const record = (await salesforce.sobject('Opportunity').retrieve(opportunity)) as unknown as Record<
      string,
      string | null
    >;
    if (record.Subscription_Id__c) subscriptions.push(record.Subscription_Id__c);
  }
  return { succeeded: ended().filter((execution) => execution.status === 'SUCCEEDED').length, subscriptions };
};

/** A seat increase on each subscription, through the official SDK against the Stripe twin. */
const changeSeats = async (runtime: LocalRuntime, subscriptions: readonly string[]): Promise<void> => {
  const url = new URL(runtime.twins.get('stripe')?.url ?? '');
  const stripe = new Stripe(localSecrets().stripeApiKey, {
    host: url.hostname,
    port: Number(url.port),
    protocol: 'http',
    maxNetworkRetries: 0,
  });
  for (const id of subscriptions) {
    const subscription = await stripe.subscriptions.retrieve(id);
    const seat = subscription.items.data.find((item) => item.price.lookup_key === 'seat_monthly_usd');
    if (!seat) continue;
    await stripe.subscriptions.update(id, {
      items: [{ id: seat.id, quantity: (seat.quantity ?? 1) + 3 }],
      proration_behavior: 'none',
    });
  }
  await runtime.stripe?.flushWebhooks();
};

/** An HTTP server answering 200 to everything: where the Stripe twin's webhooks go while sagas are measured. */
const sink = async () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
};

export const benchCost = async (assemblyDir: string): Promise<void> => {
  const prices = loadPrices();
  const api = apiKindOf(assemblyDir);
  process.stdout.write(
    `\ncost per million flows, ${prices.region} list prices written ${prices.writtenOn} (bench/prices.json; ${prices.status})\n`,
  );
  const runtime = await LocalRuntime.start({ ephemeralPorts: true });
  try {
    const secret = localSecrets().stripeWebhookSecret;
    const base = stripeFixture('invoice');
    const url = `${runtime.apiUrl}/webhooks/stripe`;
    const send = async (requests: SignedRequest[]) => {
      const { rejected } = await sendWebhooks(url, requests, 8);
      if (rejected > 0) info(`${rejected} of ${requests.length} webhooks were not accepted`);
    };
    // Warm: every environment started, every customer known (a customer is created once, with its first invoice).
    const warm = Array.from({ length: 100 }, (_, n) =>
      signedInvoiceEvent(n, 'invoice.finalized', secret, base),
    );
    await send(warm);

    const invoices = Array.from({ length: INVOICES }, (_, n) =>
      signedInvoiceEvent(1000 + n, 'invoice.finalized', secret, base),
    );
    const invoiceUsage = await measure(runtime, () => send(invoices));
    // `erp.invoice.posted` is the flow's result event, which ARCHITECTURE.md names in the path of one
    // event (the contract a downstream consumer subscribes to); no rule in this stack consumes it, but it
    // is kept, so the floor has it: two events, the canonical one and the result.
    const invoice = report(
      'invoice → ERP',
      invoiceUsage,
      INVOICES,
      prices,
      api,
      { ingest: 'IngestStripe', consumer: 'PostInvoice' },
      { 'eventbridge.events': 1 },
    );
    info(
      "the floor's second EventBridge event is erp.invoice.posted, the result event ARCHITECTURE.md names: kept as a product contract although no rule here consumes it",
    );
    const other: ApiKind = api === 'rest' ? 'http' : 'rest';
    const otherTotal = total(costLines(withModeledLogs(invoiceUsage, prices), INVOICES, prices, other));
    info(
      `the same requests behind ${other === 'rest' ? 'a' : 'an'} ${other.toUpperCase()} API instead of the ${api.toUpperCase()} API: $${otherTotal.toFixed(2)} per million (README, "Cost")`,
    );
    record(
      'invoice → ERP: AWS cost per million flows',
      invoice.measured,
      'USD',
      BUDGET.invoiceUsdPerMillion,
      true,
    );
    record(
      'invoice → ERP: billed requests ÷ their floor',
      invoice.requests / invoice.floorRequests,
      'x',
      BUDGET.invoiceOverFloor,
      true,
      `$${invoice.requests.toFixed(2)} vs $${invoice.floorRequests.toFixed(2)} per million; GB-seconds ($${(invoice.measured - invoice.requests).toFixed(2)}) are in both as measured`,
    );

    const payments = Array.from({ length: INVOICES }, (_, n) =>
      signedInvoiceEvent(1000 + n, 'invoice.paid', secret, base),
    );
    const paymentUsage = await measure(runtime, () => send(payments));
    const payment = report('payment → cash application', paymentUsage, INVOICES, prices, api, {
      ingest: 'IngestStripe',
      consumer: 'ApplyPayment',
    });
    info(
      `payment: $${payment.measured.toFixed(2)} per million flows, ${(payment.measured / payment.floor).toFixed(2)}x its floor of $${payment.floor.toFixed(2)} (no budget)`,
    );

    // The flows that arrived on main with their own consumers, driven by Stripe webhooks about the
    // invoices posted above; a flow the template does not have is said so, not measured.
    const stripeFlows = [
      {
        title: 'payment failed → dunning signal',
        consumer: 'FlagDunning',
        request: (n: number) => signedInvoiceEvent(1000 + n, 'invoice.payment_failed', secret, base),
      },
      {
        title: 'credit note → ERP credit memo',
        consumer: 'PostCreditMemo',
        request: (n: number) =>
          signedStripeEvent(
            n,
            'credit_note.created',
            {
              ...stripeFixture('credit_note'),
              id: `cn_bench_${n}`,
              invoice: `in_bench_${1000 + n}`,
              customer: `cus_bench_${(1000 + n) % 50}`,
              currency: 'usd',
              total: 500,
              amount: 500,
              subtotal: 500,
              total_taxes: [],
              tax_amounts: [],
              lines: {
                object: 'list',
                has_more: false,
                data: [
                  {
                    id: `cnli_bench_${n}`,
                    amount: 500,
                    quantity: 1,
                    invoice_line_item: `il_bench_${1000 + n}`,
                  },
                ],
              },
            },
            secret,
          ),
      },
    ];
    for (const flow of stripeFlows) {
      if (!runtime.lambda.has(functionNamed(runtime, flow.consumer))) {
        info(`${flow.title}: not in this template, not measured`);
        continue;
      }
      const count = 200;
      const requests = Array.from({ length: count }, (_, n) => flow.request(n));
      const usage = await measure(runtime, () => send(requests));
      const measured = report(flow.title, usage, count, prices, api, {
        ingest: 'IngestStripe',
        consumer: flow.consumer,
      });
      info(
        `${flow.title}: $${measured.measured.toFixed(2)} per million flows ($${measured.requests.toFixed(2)} of requests, ${(measured.requests / measured.floorRequests).toFixed(2)}x their floor; no budget)`,
      );
    }

    // The saga's own requests: the Stripe twin's webhooks about the subscription it creates are
    // other flows (invoice → ERP), sent elsewhere while the sagas are counted.
    let subscriptions: string[] = [];
    const stripeSink = await sink();
    runtime.stripe?.setWebhookEndpoint(stripeSink.url, secret);
    try {
      await runSagas(runtime, 2, 0);
      let succeeded = 0;
      const sagaUsage = await measure(runtime, async () => {
        ({ succeeded, subscriptions } = await runSagas(runtime, SAGAS, 1));
      });
      if (succeeded !== SAGAS) info(`only ${succeeded} of ${SAGAS} sagas succeeded`);
      const saga = report('deal won → contract activated (saga)', sagaUsage, SAGAS, prices, api, {
        ingest: 'IngestSalesforce',
        consumer: 'StartDealSaga',
      });
      const transitions = costLines(
        { ...emptyUsage(sagaUsage), 'stepfunctions.transitions': sagaUsage['stepfunctions.transitions'] },
        SAGAS,
        prices,
        api,
      );
      const perSaga = transitions.reduce((sum, line) => sum + line.perFlow, 0);
      info(
        `deal saga: $${saga.measured.toFixed(2)} per million flows, of which the Standard workflow's ${perSaga.toFixed(0)} transitions per saga are $${total(transitions).toFixed(2)} (no budget)`,
      );
    } finally {
      runtime.stripe?.setWebhookEndpoint(`${runtime.apiUrl}/webhooks/stripe`, secret);
      stripeSink.close();
    }
    // Flow 5 where the template has it: Stripe's customer.subscription.updated → ERP sales order change + CRM.
    if (subscriptions.length > 0 && runtime.lambda.has(functionNamed(runtime, 'SyncSubscription'))) {
      const changeUsage = await measure(runtime, () => changeSeats(runtime, subscriptions));
      const change = report(
        'subscription change → sales order + CRM',
        changeUsage,
        subscriptions.length,
        prices,
        api,
        {
          ingest: 'IngestStripe',
          consumer: 'SyncSubscription',
        },
      );
      info(
        `subscription change: $${change.measured.toFixed(2)} per million flows ($${change.requests.toFixed(2)} of requests, ${(change.requests / change.floorRequests).toFixed(2)}x their floor; no budget)`,
      );
    } else info('subscription change flow: not in this template, not measured');
  } finally {
    await runtime.stop();
  }
};

/** The physical name of the function whose logical id starts with `prefix`, or the prefix. */
const functionNamed = (runtime: LocalRuntime, prefix: string): string =>
  (runtime.lambda.snapshot() as { name: string; logicalId: string }[]).find((fn) =>
    fn.logicalId.startsWith(prefix),
  )?.name ?? prefix;

const emptyUsage = (usage: Usage): Usage =>
  Object.fromEntries(Object.keys(usage).map((unit) => [unit, new Map()])) as unknown as Usage;
