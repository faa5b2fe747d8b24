import { NetSuiteError } from './errors';
import type { NetSuiteRecordType, RecordStore } from './store';

/**
 * Record actions, `POST /record/v1/<type>/<id>/@<action>`: REST's equivalent of a button on the record.
 * https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156631158782.html
 *
 * `void` is NetSuite's direct void (the account preference "Void Transactions Using Reversing Journals"
 * off): the transaction stays, with status Voided, its lines at zero and nothing applied, and can no
 * longer be changed. https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_4413162576.html
 */

const VOIDABLE: ReadonlySet<NetSuiteRecordType> = new Set(['creditMemo']);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function recordAction(
  store: RecordStore,
  type: NetSuiteRecordType,
  key: string,
  action: string,
  urlPath: string,
): { status: 204 } {
  if (action !== 'void') {
    throw new NetSuiteError(400, 'INVALID_VALUE', `The record action ${action} does not exist on ${type}.`, {
      'o:urlPath': urlPath,
    });
  }
  if (!VOIDABLE.has(type)) {
    throw new NetSuiteError(400, 'INVALID_VALUE', `The record type ${type} is not voidable.`);
  }
  const record = store.get(type, key, urlPath);
  if (record.data.voided === true) {
    throw new NetSuiteError(400, 'USER_ERROR', 'This transaction has already been voided.');
  }
  const items =
    isObject(record.data.item) && Array.isArray(record.data.item.items) ? record.data.item.items : [];
  record.data.item = {
    items: items.map((line: Json) => ({
      ...line,
      rate: 0,
      amount: 0,
      ...(line.tax1Amt === undefined ? {} : { tax1Amt: 0 }),
    })),
  };
  record.data.apply = { items: [] };
  record.data.memo = 'VOID';
  record.data.voided = true;
  store.touch(record);
  return { status: 204 };
}
