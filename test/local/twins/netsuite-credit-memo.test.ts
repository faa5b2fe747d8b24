import { NetSuiteClient } from '../../../lambdas/adapters/netsuite/client';
import { type NetSuiteTwin, startNetSuiteTwin } from '../../../local/twins/netsuite';

/**
 * The NetSuite twin's credit memos, through the client the flows use: created from an invoice and
 * applied to it, and voided (never deleted) with a record action.
 */

let twin: NetSuiteTwin;
let client: NetSuiteClient;

beforeEach(async () => {
  twin = await startNetSuiteTwin({ port: 0, seed: 7, faults: {}, processingMs: { min: 0, max: 0 } });
  client = new NetSuiteClient({
    baseUrl: twin.url,
    credentials: async () => ({ accountId: twin.account, ...twin.credentials }),
  });
  await client.upsert('customer', 'cus_1', { companyName: 'Acme Corp', subsidiary: { id: '1' } });
  await client.upsert('invoice', 'in_1', {
    entity: { externalId: 'cus_1' },
    item: { items: [{ item: { id: '100' }, quantity: 1, amount: 100 }] },
  });
});
afterEach(() => twin.close());

const memo = (invoiceId: string, amount: number) => ({
  entity: { externalId: 'cus_1' },
  createdFrom: { id: invoiceId },
  item: { items: [{ item: { id: '100' }, quantity: 1, amount }] },
  apply: { items: [{ doc: { id: invoiceId }, apply: true, amount }] },
});

describe('NetSuite twin credit memos', () => {
  it('creates a credit memo from an invoice and applies it, lowering what is left to pay', async () => {
    const invoiceId = twin.getByExternalId('invoice', 'in_1')?.id as string;
    const memoId = await client.upsert('creditMemo', 'cn_1', memo(invoiceId, 40), {
      replace: ['item', 'apply'],
    });
    await client.upsert('creditMemo', 'cn_1', memo(invoiceId, 40), { replace: ['item', 'apply'] });
    expect(twin.getById('creditMemo', memoId)).toMatchObject({
      externalId: 'cn_1',
      createdFrom: { id: invoiceId },
      total: 40,
      applied: 40,
      unapplied: 0,
      status: { id: 'fullyApplied' },
    });
    expect(twin.getByExternalId('invoice', 'in_1')).toMatchObject({ amountRemaining: 60 });
  });

  it('refuses a memo created from a record that is not an invoice of the account', async () => {
    await expect(client.upsert('creditMemo', 'cn_2', memo('999999', 40))).rejects.toMatchObject({
      name: 'PermanentError',
      status: 400,
    });
  });

  it('voids a memo with the @void action: it stays, Voided, at zero, and the invoice is owed again', async () => {
    const invoiceId = twin.getByExternalId('invoice', 'in_1')?.id as string;
    const memoId = await client.upsert('creditMemo', 'cn_3', memo(invoiceId, 40));
    await client.voidTransaction('creditMemo', memoId);
    expect(twin.getById('creditMemo', memoId)).toMatchObject({
      externalId: 'cn_3',
      voided: true,
      memo: 'VOID',
      total: 0,
      applied: 0,
      status: { id: 'voided', refName: 'Voided' },
    });
    expect(twin.getByExternalId('invoice', 'in_1')).toMatchObject({ amountRemaining: 100 });
    expect(twin.requestLog.at(-1)).toMatchObject({
      method: 'POST',
      path: `/services/rest/record/v1/creditMemo/${memoId}/@void`,
      status: 204,
    });
  });

  it('refuses to void twice, to change a voided memo, and to void a record type that has no void', async () => {
    const invoiceId = twin.getByExternalId('invoice', 'in_1')?.id as string;
    const memoId = await client.upsert('creditMemo', 'cn_4', memo(invoiceId, 40));
    await client.voidTransaction('creditMemo', memoId);
    await expect(client.voidTransaction('creditMemo', memoId)).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'USER_ERROR',
    });
    await expect(client.upsert('creditMemo', 'cn_4', memo(invoiceId, 40))).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'USER_ERROR',
    });
    expect(
      await client.patchByExternalId('creditMemo', 'cn_4', { memo: 'changed' }).catch((e) => e),
    ).toMatchObject({ name: 'PermanentError', code: 'USER_ERROR' });
    await expect(client.voidTransaction('invoice', invoiceId)).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'INVALID_VALUE',
    });
    await expect(client.voidTransaction('creditMemo', '424242')).rejects.toMatchObject({ status: 404 });
  });
});
