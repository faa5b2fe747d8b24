// Lambda runs these functions on Node 22; the notice that the AWS SDK will drop Node 20 in 2027 is
// about this local process, and `engines` in package.json already says so.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Stripe from 'stripe';
import { localSecrets } from './config';
import { LocalRuntime } from './runtime/runtime';
import { ensureSynthesized } from './runtime/synth';

/**
 * `npm run demo`: the invoice chain offline. Stripe `invoice.finalized` webhooks, signed with the
 * official SDK (one delivered twice, one tampered with), go through the API, the bus, the queue and
 * the posting function to the NetSuite twin; the demo checks each invoice was written exactly once.
 */

const FIXTURE = path.resolve(
  __dirname,
  '..',
  '..',
  'shared',
  'fixtures',
  'vendors',
  'stripe',
  'resources',
  'invoice.json',
);

const step = (text: string) => process.stdout.write(`\n▸ ${text}\n`);
const info = (text: string) => process.stdout.write(`  ${text}\n`);

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

const main = async (): Promise<number> => {
  const checks: Check[] = [];
  const check = (what: string, ok: boolean) => {
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
    check('one ERP customer per billing customer', customers.length === 2);

    step('Metrics and alarms');
    const final = runtime.status();
    const metric = (name: string) =>
      final.metrics.filter((m) => m.metricName === name).reduce((sum, m) => sum + m.sum, 0);
    info(
      `InvoicesPosted ${metric('InvoicesPosted')}, InvoicePostingFailed ${metric('InvoicePostingFailed')}, WebhooksRejected ${metric('WebhooksRejected')}`,
    );
    check('InvoicesPosted counts 3', metric('InvoicesPosted') === 3);
    for (const alarm of final.alarms) info(`alarm ${alarm.id}: ${alarm.state}`);
    check(
      'no alarm is in ALARM',
      final.alarms.every((alarm) => alarm.state !== 'ALARM'),
    );
  } finally {
    await runtime.stop();
  }
  const failed = checks.filter((item) => !item.ok);
  process.stdout.write(
    `\n${failed.length === 0 ? 'demo passed' : 'demo FAILED'}: ${checks.length - failed.length} passed, ${failed.length} failed\n`,
  );
  return failed.length === 0 ? 0 : 1;
};

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
