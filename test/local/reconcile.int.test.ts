import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import Stripe from 'stripe';
import { NetSuiteClient } from '../../lambdas/adapters/netsuite/client';
import type { ReconciliationResult } from '../../lambdas/reconcile/logic';
import { localSecrets } from '../../local/config';
import type { LocalRuntime } from '../../local/runtime/runtime';
import { type ExceptionItem, fullTrail, listExceptions, replayException } from '../../ops/queries';
import { eventually, startRuntime } from '../support/local-runtime';

let runtime: LocalRuntime;
let stripe: Stripe;
let erp: NetSuiteClient;
let clients: { documents: DynamoDBDocumentClient; events: EventBridgeClient };

beforeAll(async () => {
  runtime = await startRuntime();
  const stripeUrl = new URL(runtime.status().twins.stripe ?? '');
  stripe = new Stripe(localSecrets().stripeApiKey, {
    host: stripeUrl.hostname,
    port: Number(stripeUrl.port),
    protocol: 'http',
    maxNetworkRetries: 2,
  });
  const twin = netsuite();
  erp = new NetSuiteClient({
    baseUrl: twin.url,
    credentials: async () => ({ ...twin.credentials, accountId: twin.account }),
  });
  const common = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  clients = {
    documents: DynamoDBDocumentClient.from(new DynamoDBClient({ ...common, endpoint: runtime.dynamoUrl })),
    events: new EventBridgeClient({ ...common, endpoint: runtime.awsUrl }),
  };
});

afterAll(async () => {
  await runtime?.stop();
});

const netsuite = () => {
  if (!runtime.netsuite) throw new Error('the NetSuite twin is not running');
  return runtime.netsuite;
};
const table = (part: string) => {
  const name = runtime.tables.find((t) => t.includes(part));
  if (!name) throw new Error(`no ${part} table`);
  return name;
};
const busName = () => runtime.status().events.buses.find((bus) => bus.name !== 'default')?.name ?? '';
const functionNamed = (logicalIdPrefix: string) => {
  const fn = (runtime.status().functions as { name: string; logicalId: string }[]).find((f) =>
    f.logicalId.startsWith(logicalIdPrefix),
  );
  if (!fn) throw new Error(`no function ${logicalIdPrefix}`);
  return fn.name;
};
const settle = async () => {
  await runtime.stripe?.flushWebhooks();
  await runtime.idle();
};

/** A finalized Stripe invoice of `amount` cents for a new customer, paid out of band when asked. */
const billInvoice = async (amount: number, paid: boolean): Promise<Stripe.Invoice> => {
  const customer = await stripe.customers.create({ name: `Reconcile ${amount}` });
  await stripe.invoiceItems.create({
    customer: customer.id,
    amount,
    currency: 'usd',
    description: 'Service',
  });
  const draft = await stripe.invoices.create({
    customer: customer.id,
    collection_method: 'send_invoice',
    days_until_due: 30,
    pending_invoice_items_behavior: 'include',
  });
  const invoice = await stripe.invoices.finalizeInvoice(draft.id as string);
  return paid ? stripe.invoices.pay(invoice.id as string, { paid_out_of_band: true }) : invoice;
};

const window = () => ({
  from: new Date(Date.now() - 3_600_000).toISOString(),
  to: new Date(Date.now() + 60_000).toISOString(),
});

const reconcile = async (): Promise<ReconciliationResult> => {
  const outcome = await runtime.lambda.invoke(functionNamed('ReconciliationFunction'), window());
  if (!outcome.ok) throw new Error(`reconciliation failed: ${outcome.error.errorMessage}`);
  return outcome.result as ReconciliationResult;
};

const reconcileExceptions = async (): Promise<ExceptionItem[]> =>
  (await listExceptions(clients.documents, table('Exceptions'))).filter((e) => e.flow === 'reconcile');

const erpInvoice = (externalId: string) => netsuite().getByExternalId('invoice', externalId);

describe('reconciliation in the local runtime', () => {
  const ids = { deleted: '', altered: '', unapplied: '', clean: '', orphan: '' };
  let unappliedPaymentId = '';

  beforeAll(async () => {
    const [deleted, altered, unapplied, clean] = [
      await billInvoice(1000, false),
      await billInvoice(2000, false),
      await billInvoice(3000, true),
      await billInvoice(4000, true),
    ];
    ids.deleted = deleted.id as string;
    ids.altered = altered.id as string;
    ids.unapplied = unapplied.id as string;
    ids.clean = clean.id as string;
    await settle();
    await eventually(
      () => erpInvoice(ids.unapplied)?.amountRemaining === 0 && erpInvoice(ids.clean)?.amountRemaining === 0,
      'both paid invoices applied in the ERP',
    );
    const payment = netsuite()
      .records('customerPayment')
      .find((p) =>
        ((p.apply as { items: { doc: { id: string } }[] }).items ?? []).some(
          (line) => line.doc.id === erpInvoice(ids.unapplied)?.id,
        ),
      );
    unappliedPaymentId = String(payment?.id);
  });

  it('compares a clean window without finding a difference', async () => {
    const result = await reconcile();
    expect(result).toMatchObject({ status: 'complete', open: 0, compared: { invoices: 4, erpInvoices: 4 } });
    expect(await reconcileExceptions()).toEqual([]);
    // Each invoice is linked one way, billing to ERP: the ERP pass knew the four ERP invoices as
    // revbridge's from their external ids (SuiteQL) and these links, with no item pointing back.
    const { Items = [] } = await clients.documents.send(new ScanCommand({ TableName: table('Links') }));
    const invoiceLinks = Items.filter((item) => String(item.pk).startsWith('invoice#')).map(
      (item) => item.pk,
    );
    expect(invoiceLinks.sort()).toEqual(
      [ids.deleted, ids.altered, ids.unapplied, ids.clean].map((id) => `invoice#stripe#${id}`).sort(),
    );
  });

  it('finds each kind of difference made behind its back, once, with an exception naming both sides', async () => {
    // Behind revbridge's back: an administrator deletes one invoice, edits another's lines, unapplies a
    // payment, and keys in an invoice billing never issued.
    expect(netsuite().forceDelete('invoice', String(erpInvoice(ids.deleted)?.id))).toBe(true);
    await erp.patchByExternalId(
      'invoice',
      ids.altered,
      { item: { items: [{ item: { id: '100' }, quantity: 1, amount: 15 }] } },
      { replace: ['item'] },
    );
    await erp.patchByExternalId(
      'customerPayment',
      String(netsuite().getById('customerPayment', unappliedPaymentId)?.externalId),
      {
        apply: { items: [{ doc: { id: String(erpInvoice(ids.unapplied)?.id) }, apply: false }] },
      },
    );
    const customer = String((erpInvoice(ids.clean)?.entity as { id: string } | undefined)?.id);
    ids.orphan = await erp.upsert('invoice', 'keyed_in_by_hand_1', {
      entity: { id: customer },
      item: { items: [{ item: { id: '100' }, quantity: 1, amount: 99 }] },
    });

    const result = await reconcile();
    expect(result).toMatchObject({
      status: 'complete',
      open: 4,
      differences: {
        'invoice-missing-in-erp': 1,
        'invoice-total-differs': 1,
        'payment-not-applied': 1,
        'erp-invoice-without-billing': 1,
      },
    });
    const exceptions = await reconcileExceptions();
    expect(exceptions.map((e) => `${e.code} ${e.correlationId}`).sort()).toEqual(
      [
        `ErpInvoiceWithoutBilling ${ids.orphan}`,
        `InvoiceMissingInErp ${ids.deleted}`,
        `InvoiceTotalDiffers ${ids.altered}`,
        `PaymentNotApplied ${ids.unapplied}`,
      ].sort(),
    );
    const altered = exceptions.find((e) => e.code === 'InvoiceTotalDiffers');
    expect(altered?.message).toBe(
      `total 2000 USD in billing invoice ${ids.altered}, 1500 USD in ERP invoice ${erpInvoice(ids.altered)?.id}`,
    );

    // A second run finds the same differences under the same exception ids.
    await reconcile();
    expect((await reconcileExceptions()).map((e) => e.exceptionId).sort()).toEqual(
      exceptions.map((e) => e.exceptionId).sort(),
    );
    const metrics = runtime
      .status()
      .metrics.filter(
        (m) => m.metricName === 'ReconciliationDifferences' && m.dimensions.service === 'reconcile',
      );
    expect(metrics.map((m) => m.dimensions.kind).sort()).toEqual([
      'ErpInvoiceWithoutBilling',
      'InvoiceMissingInErp',
      'InvoiceTotalDiffers',
      'PaymentNotApplied',
    ]);
  });

  it('repairs what re-driving can repair, exactly once, and leaves the ERP-only invoice to a person', async () => {
    const exceptions = await reconcileExceptions();
    const erpWrites = () => netsuite().requestLog.filter((entry) => entry.method !== 'GET').length;
    const writesAfter: number[] = [];
    // Each exception replayed twice: the second re-drive finds the record re-posted since the difference
    // was found and writes nothing to the ERP.
    for (const attempt of [1, 2]) {
      for (const exception of exceptions) {
        expect(
          (
            await replayException(
              clients,
              { exceptions: table('Exceptions'), busName: busName() },
              exception.exceptionId,
            )
          ).attempt,
        ).toBe(attempt);
      }
      await settle();
      writesAfter.push(erpWrites());
    }
    expect(writesAfter[1]).toBe(writesAfter[0]);

    const restored = erpInvoice(ids.deleted);
    expect(restored).toMatchObject({ externalId: ids.deleted, total: 10 });
    // The re-drive forgot the link to the deleted record both ways: the lineage names the new one only.
    const lineage = await fullTrail(
      clients.documents,
      { links: table('Links'), exceptions: table('Exceptions') },
      ids.deleted,
    );
    expect(lineage.ids.filter((id) => id.entity === 'invoice' && id.system === 'netsuite')).toEqual([
      { entity: 'invoice', system: 'netsuite', id: String(restored?.id) },
    ]);
    expect(erpInvoice(ids.altered)).toMatchObject({ total: 20 });
    expect(erpInvoice(ids.unapplied)).toMatchObject({ total: 30, amountPaid: 30, amountRemaining: 0 });
    const unappliedPayment = netsuite().getById('customerPayment', unappliedPaymentId);
    expect(unappliedPayment).toMatchObject({ applied: 30, unapplied: 0 });
    // One ERP invoice per billing invoice, plus the one keyed in by hand, which is still there.
    const invoices = netsuite().records('invoice');
    expect(invoices.map((i) => i.externalId).sort()).toEqual(
      [ids.deleted, ids.altered, ids.unapplied, ids.clean, 'keyed_in_by_hand_1'].sort(),
    );
    expect(netsuite().records('customerPayment')).toHaveLength(2);

    const result = await reconcile();
    expect(result).toMatchObject({
      status: 'complete',
      open: 1,
      differences: { 'erp-invoice-without-billing': 1 },
    });
    expect(
      runtime
        .status()
        .metrics.filter((m) => m.metricName === 'ReconciliationDifferencesRedriven')
        .reduce((sum, m) => sum + m.sum, 0),
    ).toBe(3);
  });
});
