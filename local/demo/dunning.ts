import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Connection } from 'jsforce';
import Stripe from 'stripe';
import { type ExceptionItem, listExceptions } from '../../ops/queries';
import { localSecrets } from '../config';
import type { LocalRuntime } from '../runtime/runtime';

/**
 * Flow 4 in the demo: a failed payment flags the CRM account, and its later success clears it. The
 * helpers are shared with `test/local/dunning.int.test.ts`, which drives the same steps through the
 * same official clients.
 */

type CheckFn = (what: string, ok: boolean) => void;
type Log = (text: string) => void;

/** The dev stage's flag fields on the Salesforce Account (cdk.json `dunning.salesforce`). */
export const ACCOUNT_FLAG_FIELDS = [
  'Amount_Past_Due__c',
  'Payment_Attempts__c',
  'Next_Payment_Retry__c',
  'Failed_Invoice_Id__c',
] as const;
export type AccountFlag = Record<(typeof ACCOUNT_FLAG_FIELDS)[number], string | number | null>;

export const localClients = (runtime: LocalRuntime) => {
  const twinUrl = (name: 'stripe' | 'salesforce') => {
    const url = runtime.twins.get(name)?.url;
    if (!url) throw new Error(`the ${name} twin is not running`);
    return new URL(url);
  };
  const stripeUrl = twinUrl('stripe');
  const common = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  return {
    stripe: new Stripe(localSecrets().stripeApiKey, {
      host: stripeUrl.hostname,
      port: Number(stripeUrl.port),
      protocol: 'http',
      maxNetworkRetries: 0,
    }),
    salesforce: new Connection({
      instanceUrl: twinUrl('salesforce').origin,
      accessToken: localSecrets().salesforceAccessToken,
      version: '62.0',
    }),
    documents: DynamoDBDocumentClient.from(new DynamoDBClient({ ...common, endpoint: runtime.dynamoUrl })),
  };
};

/** The account and billing customer of a deal the saga activated, as the opportunity shows them. */
export const activatedDeal = async (
  salesforce: Connection,
  opportunityId: string,
): Promise<{ accountId: string; customerId: string }> => {
  const opportunity = (await salesforce.sobject('Opportunity').retrieve(opportunityId)) as unknown as {
    AccountId?: string;
    Billing_Customer_Id__c?: string | null;
  };
  if (!opportunity.AccountId || !opportunity.Billing_Customer_Id__c)
    throw new Error(`opportunity ${opportunityId} is not activated`);
  return { accountId: opportunity.AccountId, customerId: opportunity.Billing_Customer_Id__c };
};

/**
 * An invoice Stripe collects itself (`charge_automatically`, so it has a retry schedule), finalized,
 * whose first collection attempt declines: Stripe sends `invoice.payment_failed` with attempt 1.
 */
export const failedInvoice = async (
  stripe: Stripe,
  customerId: string,
  amount = 5000,
  currency = 'usd',
): Promise<string> => {
  await stripe.invoiceItems.create({ customer: customerId, amount, currency, description: 'Overage' });
  const invoice = await stripe.invoices.create({
    customer: customerId,
    collection_method: 'charge_automatically',
    auto_advance: true,
    pending_invoice_items_behavior: 'include',
  });
  await stripe.invoices.finalizeInvoice(invoice.id);
  try {
    await stripe.invoices.pay(invoice.id, { payment_method: 'pm_card_chargeDeclined' });
  } catch (error) {
    if (!(error instanceof Stripe.errors.StripeCardError)) throw error;
    return invoice.id;
  }
  throw new Error(`invoice ${invoice.id} was paid by a declining card`);
};

export const accountFlag = async (salesforce: Connection, accountId: string): Promise<AccountFlag> => {
  const account = (await salesforce.sobject('Account').retrieve(accountId)) as unknown as Record<
    string,
    string | number | null | undefined
  >;
  return Object.fromEntries(
    ACCOUNT_FLAG_FIELDS.map((field) => [field, account[field] ?? null]),
  ) as AccountFlag;
};

/** The dunning exceptions of one invoice (the flow opens one per invoice). */
export const dunningExceptions = async (
  runtime: LocalRuntime,
  documents: DynamoDBDocumentClient,
  invoiceId: string,
): Promise<ExceptionItem[]> => {
  const table = runtime.tables.find((name) => name.includes('Exceptions'));
  if (!table) throw new Error('no exceptions table');
  return (await listExceptions(documents, table)).filter(
    (item) => item.flow === 'flag-dunning' && item.correlationId === invoiceId,
  );
};

export const settle = async (runtime: LocalRuntime) => {
  await runtime.stripe?.flushWebhooks();
  await runtime.idle();
};

const isoDate = (unixSeconds: number | null | undefined) =>
  unixSeconds ? new Date(unixSeconds * 1000).toISOString().slice(0, 10) : null;

/**
 * The demo's dunning step, on the deal the quote-to-cash step activated: its customer's card declines
 * an invoice twice (the Salesforce account shows the amount, the attempts and the next retry, one
 * exception), then pays it (the flag is cleared, the exception resolved).
 */
export const dunning = async (runtime: LocalRuntime, check: CheckFn, info: Log = () => {}) => {
  const { stripe, salesforce, documents } = localClients(runtime);
  const activated = await salesforce.query<{ Id: string }>(
    "SELECT Id FROM Opportunity WHERE Revbridge_Status__c = 'Activated'",
  );
  const opportunityId = activated.records[0]?.Id;
  if (!opportunityId) throw new Error('no activated opportunity: run the quote-to-cash step first');
  const { accountId, customerId } = await activatedDeal(salesforce, opportunityId);
  const invoiceId = await failedInvoice(stripe, customerId);
  info(`invoice ${invoiceId} of ${customerId}: 50.00 USD, the card declined (attempt 1)`);
  await settle(runtime);
  let invoice = await stripe.invoices.retrieve(invoiceId);
  let flag = await accountFlag(salesforce, accountId);
  info(`Salesforce account ${accountId}: ${JSON.stringify(flag)}`);
  check(
    'the failed payment flags the Salesforce account with the amount due, attempts and next retry',
    flag.Amount_Past_Due__c === 50 &&
      flag.Payment_Attempts__c === 1 &&
      flag.Next_Payment_Retry__c === isoDate(invoice.next_payment_attempt) &&
      flag.Failed_Invoice_Id__c === invoiceId,
  );

  runtime.stripe?.retryInvoicePayment(invoiceId, 'pm_card_chargeDeclined');
  info('Stripe’s scheduled retry declines too (attempt 2)');
  await settle(runtime);
  invoice = await stripe.invoices.retrieve(invoiceId);
  flag = await accountFlag(salesforce, accountId);
  const exceptions = await dunningExceptions(runtime, documents, invoiceId);
  info(`account: ${JSON.stringify(flag)}; exceptions for the invoice: ${exceptions.length}`);
  check(
    'the second failure updates the flag and keeps one exception for the invoice',
    flag.Payment_Attempts__c === 2 &&
      flag.Next_Payment_Retry__c === isoDate(invoice.next_payment_attempt) &&
      exceptions.length === 1 &&
      exceptions[0]?.status === 'OPEN',
  );

  await stripe.invoices.pay(invoiceId, { payment_method: 'pm_card_visa' });
  info('the customer pays with another card');
  await settle(runtime);
  flag = await accountFlag(salesforce, accountId);
  const [exception] = await dunningExceptions(runtime, documents, invoiceId);
  info(`account: ${JSON.stringify(flag)}; exception ${exception?.exceptionId}: ${exception?.status}`);
  check(
    'the payment clears the flag and resolves the exception',
    Object.values(flag).every((value) => value === null) && exception?.status === 'RESOLVED',
  );
  documents.destroy();
};
