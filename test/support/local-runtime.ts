import { Client as HubSpotClient } from '@hubspot/api-client';
import { Connection } from 'jsforce';
import Stripe from 'stripe';
import { localSecrets } from '../../local/config';
import { LocalRuntime, type LocalRuntimeOptions } from '../../local/runtime/runtime';
import { vendorJson } from './fixtures';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * A local runtime on free ports, for one test file. `cdk.out` is synthesized by the jest global setup.
 * `waitTimeScale` shrinks Step Functions waits and Retry intervals (0.01: a 2 s retry takes 20 ms).
 */
export const startRuntime = (options: Pick<LocalRuntimeOptions, 'waitTimeScale'> = {}) =>
  LocalRuntime.start({ ephemeralPorts: true, ...options });

let counter = 0;

/** A Stripe `invoice.finalized` event built on Stripe's own invoice sample, with fresh ids. */
export const invoiceFinalized = (overrides: Record<string, unknown> = {}) => {
  counter += 1;
  const n = `${process.pid}_${counter}`;
  const base = vendorJson('stripe/resources/invoice.json');
  return {
    id: `evt_int_${n}`,
    object: 'event',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    type: 'invoice.finalized',
    data: {
      object: {
        ...base,
        id: `in_int_${n}`,
        customer: `cus_int_${n}`,
        customer_name: `Customer ${n}`,
        status: 'open',
        lines: { object: 'list', has_more: false, data: [{ id: `il_int_${n}`, amount: 2500, quantity: 1 }] },
        subtotal: 2500,
        total: 2500,
        amount_due: 2500,
        ...overrides,
      },
    },
  };
};

/** Stripe's `invoice.paid` for the invoice a `finalized` event carried: same invoice, now paid by card. */
export const invoicePaid = (finalized: ReturnType<typeof invoiceFinalized>) => {
  const invoice = finalized.data.object;
  return {
    ...finalized,
    id: `${finalized.id}_paid`,
    type: 'invoice.paid',
    data: {
      object: {
        ...invoice,
        status: 'paid',
        amount_paid: invoice.amount_due,
        amount_remaining: 0,
        payment_intent: `pi_${invoice.id}`,
        status_transitions: {
          finalized_at: finalized.created,
          paid_at: finalized.created,
          marked_uncollectible_at: null,
          voided_at: null,
        },
      },
    },
  };
};

/** POSTs an event to the local API as Stripe would: raw JSON, signed with the official SDK. */
export const postStripeWebhook = async (runtime: LocalRuntime, event: unknown) => {
  const payload = JSON.stringify(event, null, 2);
  const signature = Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: localSecrets().stripeWebhookSecret,
  });
  const response = await fetch(`${runtime.apiUrl}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body: payload,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

/** Waits for a condition the runtime reaches by itself (an alarm, a DLQ message), polling its state. */
export const eventually = async <T>(
  probe: () => T | undefined | false,
  what: string,
  timeoutMs = 20_000,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** The official clients a user's systems would use, pointed at the runtime's twins. */
export const twinClients = (runtime: LocalRuntime) => {
  const urlOf = (name: string) => {
    const url = runtime.status().twins[name];
    if (!url) throw new Error(`twin ${name} is not running`);
    return new URL(url);
  };
  const stripeUrl = urlOf('stripe');
  return {
    salesforce: new Connection({
      instanceUrl: urlOf('salesforce').origin,
      accessToken: localSecrets().salesforceAccessToken,
      version: '62.0',
    }),
    hubspot: new HubSpotClient({
      accessToken: localSecrets().hubspotAccessToken,
      basePath: urlOf('hubspot').origin,
    }),
    stripe: new Stripe(localSecrets().stripeApiKey, {
      host: stripeUrl.hostname,
      port: Number(stripeUrl.port),
      protocol: 'http',
      maxNetworkRetries: 0,
    }),
  };
};

/**
 * Waits until the runtime and what the twins send it are quiet: sagas ended, and the webhooks they made
 * Stripe send (a subscription's first invoice) handled. `runtime.idle()` alone does not wait for the
 * twins' webhooks, and one flush before it misses what a saga running during the flush makes Stripe
 * send: passes repeat until one makes Stripe create no new event.
 */
export const settle = async (runtime: LocalRuntime): Promise<void> => {
  for (;;) {
    const events = runtime.stripe?.events().length ?? 0;
    runtime.hubspot?.flushWebhooks();
    await Promise.all([runtime.stripe?.flushWebhooks(), runtime.salesforce?.idle()]);
    await runtime.idle();
    if ((runtime.stripe?.events().length ?? 0) === events) return;
  }
};

/**
 * Products in the Salesforce twin's standard price book (USD), through jsforce, as a seller sets up
 * the catalog revbridge maps: their Product2 ids by product code.
 */
export const salesforceCatalog = async (
  salesforce: Connection,
  codes: readonly string[],
): Promise<Record<string, string>> => {
  const pricebook = (
    await salesforce.query<{ Id: string }>('SELECT Id FROM Pricebook2 WHERE IsStandard = true')
  ).records[0]?.Id;
  const products: Record<string, string> = {};
  for (const code of codes) {
    const product = await salesforce
      .sobject('Product2')
      .create({ Name: code, ProductCode: code, IsActive: true });
    if (!product.success) throw new Error(`product ${code} not created`);
    products[code] = product.id;
    await salesforce.sobject('PricebookEntry').create({
      Pricebook2Id: pricebook,
      Product2Id: product.id,
      UnitPrice: 100,
      IsActive: true,
      CurrencyIsoCode: 'USD',
    });
  }
  return products;
};

/** The runtime's resources a test names: its tables by part of their name, the bus, a function by logical id. */
export const runtimeParts = (runtime: LocalRuntime) => ({
  netsuite: () => {
    if (!runtime.netsuite) throw new Error('the NetSuite twin is not running');
    return runtime.netsuite;
  },
  table: (part: string) => {
    const name = runtime.tables.find((t) => t.includes(part));
    if (!name) throw new Error(`no ${part} table`);
    return name;
  },
  busName: () => runtime.status().events.buses.find((bus) => bus.name !== 'default')?.name ?? '',
  functionNamed: (logicalIdPrefix: string) => {
    const fn = (runtime.status().functions as { name: string; logicalId: string }[]).find((f) =>
      f.logicalId.startsWith(logicalIdPrefix),
    );
    if (!fn) throw new Error(`no function ${logicalIdPrefix}`);
    return fn.name;
  },
});

/** `npx revbridge ...` (ops/cli.ts `main`) against the runtime's AWS endpoint: exit code and output. */
export const revbridgeCli =
  (runtime: LocalRuntime) =>
  async (...args: string[]) => {
    let out = '';
    let err = '';
    const { main } = await import('../../ops/cli');
    const code = await main([...args, '--endpoint', runtime.awsUrl], {
      env: {},
      out: (text) => {
        out += text;
      },
      err: (text) => {
        err += text;
      },
      pollMs: 20,
    });
    return { code, out, err };
  };
