import { IdGenerator } from '../common';
import { invalidReference, invalidValue, missingValue, NetSuiteError, nonexistentRecord } from './errors';
import { keyItemLines } from './item-lines';

/** Record types the twin writes. */
export const RECORD_TYPES = ['customer', 'salesOrder', 'invoice', 'customerPayment', 'creditMemo'] as const;
export type NetSuiteRecordType = (typeof RECORD_TYPES)[number];
/** Reference data the twin seeds and only serves for reading. */
export const REFERENCE_TYPES = ['subsidiary', 'currency', 'serviceSaleItem'] as const;
export type NetSuiteReferenceType = (typeof REFERENCE_TYPES)[number];
export type AnyRecordType = NetSuiteRecordType | NetSuiteReferenceType;

export const RECORD_PATH = '/services/rest/record/v1';

type Json = Record<string, unknown>;
interface Ref {
  id: string;
}
interface ItemLine {
  line: number;
  item: Ref;
  quantity: number;
  rate: number;
  amount: number;
  [field: string]: unknown;
}
interface ApplyLine {
  doc: Ref;
  apply: boolean;
  amount: number;
  [field: string]: unknown;
}

interface StoredRecord {
  type: AnyRecordType;
  id: string;
  externalId?: string;
  /** Fields as written, normalised: references are `{ id }`, sublists `{ items: [...] }`. */
  data: Json;
  createdDate: string;
  lastModifiedDate: string;
}

interface TypeSpec {
  tranPrefix?: string;
  /** The body field naming the customer: customerPayment says `customer`, other transactions `entity`. */
  customerField?: 'entity' | 'customer';
  itemLines?: boolean;
  apply?: boolean;
  /** What `createdFrom` may point at. */
  createdFrom?: NetSuiteRecordType;
}

const SPECS: Record<NetSuiteRecordType, TypeSpec> = {
  customer: {},
  salesOrder: { tranPrefix: 'SO', customerField: 'entity', itemLines: true },
  invoice: { tranPrefix: 'INV', customerField: 'entity', itemLines: true, createdFrom: 'salesOrder' },
  creditMemo: {
    tranPrefix: 'CM',
    customerField: 'entity',
    itemLines: true,
    apply: true,
    createdFrom: 'invoice',
  },
  customerPayment: { tranPrefix: 'PYMT', customerField: 'customer', apply: true },
};

/** Computed by NetSuite; ignored when a client sends them, like NetSuite ignores read-only fields. */
const READ_ONLY = new Set([
  'id',
  'links',
  'refName',
  'subtotal',
  'taxTotal',
  'total',
  'amountPaid',
  'amountRemaining',
  'applied',
  'unapplied',
  'status',
  'createdDate',
  'lastModifiedDate',
  'voided',
]);
const DATE_FIELDS = new Set([
  'tranDate',
  'dueDate',
  'startDate',
  'endDate',
  'shipDate',
  'saleseffectivedate',
]);
const SUBLISTS = new Set(['item', 'apply']);
/** NetSuite: "An external ID can be any string containing letters, numbers, underscore (_), and hyphen (-)." */
const EXTERNAL_ID = /^[A-Za-z0-9_-]+$/;

/** Pending Approval / Approved, NetSuite's invoice approval status ids. */
const PENDING_APPROVAL = '1';
const APPROVED = '2';

export interface NetSuiteItem {
  id: string;
  itemId: string;
  displayName?: string;
}

export const DEFAULT_ITEMS: NetSuiteItem[] = [
  { id: '100', itemId: 'SUB-PLATFORM', displayName: 'Platform subscription' },
  { id: '101', itemId: 'SUB-SEAT', displayName: 'Seat licence' },
  { id: '102', itemId: 'SUB-USAGE', displayName: 'Metered usage' },
  { id: '103', itemId: 'SVC-ONBOARDING', displayName: 'Onboarding services' },
  { id: '104', itemId: 'DISCOUNT', displayName: 'Discount' },
  // The items revbridge's dev configuration posts billing tax and adjustments to (cdk.json).
  { id: '200', itemId: 'BILLING-TAX', displayName: 'Tax collected by the billing system' },
  { id: '300', itemId: 'BILLING-ADJUSTMENT', displayName: 'Billing discounts and adjustments' },
];

/** NetSuite's standard currency internal ids: 1 USD, 2 GBP, 3 CAD, 4 EUR. */
const DEFAULT_CURRENCIES = [
  { id: '1', symbol: 'USD', name: 'US Dollar' },
  { id: '2', symbol: 'GBP', name: 'British pound' },
  { id: '3', symbol: 'CAD', name: 'Canadian Dollar' },
  { id: '4', symbol: 'EUR', name: 'Euro' },
];
const DEFAULT_SUBSIDIARIES = [
  { id: '1', name: 'Parent Company', currency: '1' },
  { id: '2', name: 'UK Subsidiary', currency: '2' },
  { id: '3', name: 'EU Subsidiary', currency: '4' },
];

const externalIdKey = (type: AnyRecordType, externalId: string): string => `${type} ${externalId}`;
const round2 = (n: number): number => Math.round((n + Number.EPSILON) * 100) / 100;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const today = (now: Date): string => now.toISOString().slice(0, 10);

export type WriteKind = 'create' | 'replace' | 'update' | 'delete';

/**
 * The account's records, with what NetSuite validates on write and computes on read (totals, amount
 * remaining, status). Internal ids come from per-family sequences like NetSuite's: entities and
 * transactions each share one.
 */
export class RecordStore {
  private readonly records = new Map<AnyRecordType, Map<string, StoredRecord>>();
  /** `<type> <externalId>` → record: an `eid:` lookup must not scan the table (it grew quadratic under load). */
  private readonly byExternalId = new Map<string, StoredRecord>();
  /**
   * The payments and credit memos ever written with an apply line for an invoice, by invoice id: a
   * superset read through the tables, so it needs no undo on a delete or a void.
   */
  private readonly appliedBy = new Map<string, Set<string>>();
  private readonly writes = new Map<string, number>();
  private readonly ids = new IdGenerator();

  constructor(
    items: NetSuiteItem[] = DEFAULT_ITEMS,
    private readonly now: () => Date = () => new Date(),
  ) {
    for (const c of DEFAULT_CURRENCIES) this.seed('currency', c.id, { symbol: c.symbol, name: c.name });
    for (const s of DEFAULT_SUBSIDIARIES)
      this.seed('subsidiary', s.id, { name: s.name, currency: { id: s.currency } });
    for (const item of items) {
      this.seed('serviceSaleItem', item.id, {
        itemId: item.itemId,
        displayName: item.displayName ?? item.itemId,
      });
    }
  }

  static isReferenceType(type: AnyRecordType): type is NetSuiteReferenceType {
    return (REFERENCE_TYPES as readonly string[]).includes(type);
  }

  /** `key` is an internal id or `eid:<externalId>`. */
  find(type: AnyRecordType, key: string): StoredRecord | undefined {
    if (key.startsWith('eid:')) return this.byExternalId.get(externalIdKey(type, key.slice(4)));
    return this.table(type).get(key);
  }

  get(type: AnyRecordType, key: string, urlPath: string): StoredRecord {
    const record = this.find(type, key);
    if (!record) throw nonexistentRecord(urlPath);
    return record;
  }

  all(type: AnyRecordType): StoredRecord[] {
    return [...this.table(type).values()].sort((a, b) => Number(a.id) - Number(b.id));
  }

  /** How many times the record with this external id was created or replaced. */
  writeCount(type: AnyRecordType, externalId: string): number {
    return this.writes.get(`${type}:${externalId}`) ?? 0;
  }

  create(type: NetSuiteRecordType, body: Json): StoredRecord {
    const externalId = this.externalIdFrom(body.externalId, 'externalId');
    if (externalId !== undefined && this.find(type, `eid:${externalId}`)) {
      throw new NetSuiteError(
        400,
        'USER_ERROR',
        `Error while accessing a resource. A ${type} record with external ID ${externalId} already exists.`,
        { 'o:errorPath': 'externalId' },
      );
    }
    const id = String(
      this.ids.sequence(type === 'customer' ? 'entity' : 'transaction', type === 'customer' ? 101 : 1001),
    );
    const data = this.normalize(type, body, id);
    return this.insert(type, id, externalId, data);
  }

  /** `PUT /<type>/eid:<externalId>`: creates, or replaces the record's fields with the body's. */
  upsert(
    type: NetSuiteRecordType,
    externalId: string,
    body: Json,
  ): { record: StoredRecord; created: boolean } {
    this.checkExternalId(externalId, 'eid');
    const existing = this.find(type, `eid:${externalId}`);
    if (!existing) {
      const { externalId: _ignored, ...rest } = body;
      return { record: this.create(type, { ...rest, externalId }), created: true };
    }
    refuseVoided(existing);
    const data = this.normalize(type, body, existing.id);
    if (data.tranId === undefined && existing.data.tranId !== undefined) data.tranId = existing.data.tranId;
    existing.data = data;
    this.indexApplications(existing);
    existing.lastModifiedDate = this.now().toISOString();
    this.countWrite(type, externalId);
    return { record: existing, created: false };
  }

  /**
   * PATCH: the body's fields replace the record's; `null` clears a field. Item lines are added unless the
   * `replace` query parameter names the sublist; apply lines are keyed by the document they apply to.
   */
  update(
    type: NetSuiteRecordType,
    record: StoredRecord,
    body: Json,
    replace: ReadonlySet<string>,
  ): StoredRecord {
    refuseVoided(record);
    const merged: Json = structuredClone(record.data);
    let externalId = record.externalId;
    for (const [field, value] of Object.entries(body)) {
      if (READ_ONLY.has(field)) continue;
      if (field === 'externalId') {
        externalId = this.externalIdFrom(value, 'externalId');
        const clash = externalId === undefined ? undefined : this.find(type, `eid:${externalId}`);
        if (clash && clash.id !== record.id) {
          throw new NetSuiteError(
            400,
            'USER_ERROR',
            `Error while accessing a resource. A ${type} record with external ID ${externalId} already exists.`,
            { 'o:errorPath': 'externalId' },
          );
        }
        continue;
      }
      if (value === null) {
        delete merged[field];
      } else if (
        SUBLISTS.has(field) &&
        isObject(value) &&
        Array.isArray(value.items) &&
        !replace.has(field)
      ) {
        merged[field] = { items: mergeLines(field, merged[field], value.items) };
      } else {
        merged[field] = value;
      }
    }
    record.data = this.normalize(type, merged, record.id, itemLines(record.data));
    this.indexApplications(record);
    if (record.externalId !== undefined) this.byExternalId.delete(externalIdKey(type, record.externalId));
    if (externalId === undefined) delete record.externalId;
    else {
      record.externalId = externalId;
      this.byExternalId.set(externalIdKey(type, externalId), record);
    }
    record.lastModifiedDate = this.now().toISOString();
    return record;
  }

  /** Marks a record changed by something other than a write (a record action). */
  touch(record: StoredRecord): void {
    record.lastModifiedDate = this.now().toISOString();
  }

  remove(type: NetSuiteRecordType, record: StoredRecord): void {
    if (this.isPosted(record) || this.dependents(record).length > 0) {
      // The twin is stricter than an open accounting period: a posted transaction is never deleted (the
      // finance-safe path is a credit memo or a reversal), and neither is anything another record uses.
      throw new NetSuiteError(
        400,
        'THIS_RECORD_CANNOT_BE_DELETED_BECAUSE_IT_HAS_DEPENDENT_RECORDS',
        'This record cannot be deleted because it has dependent records.',
      );
    }
    this.table(type).delete(record.id);
    if (record.externalId !== undefined) this.byExternalId.delete(externalIdKey(type, record.externalId));
  }

  /**
   * Deletes a record whatever posts it or depends on it, as an administrator with full access (or a
   * mass delete) can in NetSuite: tests use it to take records away behind revbridge's back.
   */
  forceRemove(type: NetSuiteRecordType, id: string): boolean {
    const record = this.table(type).get(id);
    if (!record) return false;
    this.table(type).delete(id);
    if (record.externalId !== undefined) this.byExternalId.delete(externalIdKey(type, record.externalId));
    return true;
  }

  /** The record as NetSuite's GET returns it; sublists are links unless `expand`. */
  render(record: StoredRecord, base: string, expand: boolean): Json {
    const self = `${base}${RECORD_PATH}/${record.type}/${record.id}`;
    const out: Json = { links: [{ rel: 'self', href: self }], id: record.id };
    if (record.externalId !== undefined) out.externalId = record.externalId;
    for (const [field, value] of Object.entries(record.data)) {
      if (SUBLISTS.has(field) && isObject(value)) {
        out[field] = expand
          ? this.renderSublist(record, field, base)
          : { links: [{ rel: 'self', href: `${self}/${field}` }] };
        continue;
      }
      const target = refTarget(record.type, field);
      out[field] = target && isRef(value) ? this.renderRef(target, value, base) : value;
    }
    Object.assign(out, this.computed(record));
    out.createdDate = record.createdDate;
    out.lastModifiedDate = record.lastModifiedDate;
    return out;
  }

  renderSublist(record: StoredRecord, field: string, base: string): Json {
    const self = `${base}${RECORD_PATH}/${record.type}/${record.id}/${field}`;
    const sublist = record.data[field];
    const lines = isObject(sublist) && Array.isArray(sublist.items) ? (sublist.items as Json[]) : [];
    const items = lines.map((line) => {
      const out: Json = { links: [] };
      for (const [key, value] of Object.entries(line)) {
        const target = lineRefTarget(field, key);
        out[key] = target && isRef(value) ? this.renderRef(target, value, base) : value;
      }
      return out;
    });
    return {
      links: [{ rel: 'self', href: self }],
      items,
      count: items.length,
      hasMore: false,
      offset: 0,
      totalResults: items.length,
    };
  }

  // ---- validation -------------------------------------------------------------------------------

  private normalize(
    type: NetSuiteRecordType,
    body: Json,
    selfId: string,
    previousLines: readonly Json[] = [],
  ): Json {
    const spec = SPECS[type];
    const data: Json = {};
    for (const [field, value] of Object.entries(body)) {
      if (READ_ONLY.has(field) || field === 'externalId' || value === null || value === undefined) continue;
      data[field] = value;
    }
    for (const [field, value] of Object.entries(data)) {
      const target = refTarget(type, field);
      if (target && !SUBLISTS.has(field)) data[field] = this.resolveRef(target, value, field, field);
      if (DATE_FIELDS.has(field)) checkDate(value, field);
    }
    if (type === 'customer') {
      this.normalizeCustomer(data);
      return data;
    }

    const customerField = spec.customerField ?? 'entity';
    const customerRef = data[customerField];
    if (!isRef(customerRef)) throw missingValue('Customer', customerField);
    const customer = this.get('customer', customerRef.id, '');
    const customerSubsidiary = customer.data.subsidiary as Ref;
    const customerCurrency = customer.data.currency as Ref;
    data.subsidiary ??= { id: customerSubsidiary.id };
    if ((data.subsidiary as Ref).id !== customerSubsidiary.id) {
      throw invalidValue(
        `The subsidiary ${(data.subsidiary as Ref).id} does not match the subsidiary ${customerSubsidiary.id} of customer ${customer.id}.`,
        'subsidiary',
      );
    }
    data.currency ??= { id: customerCurrency.id };
    if ((data.currency as Ref).id !== customerCurrency.id) {
      throw invalidValue(
        `The currency ${(data.currency as Ref).id} is not a currency of customer ${customer.id} (its currency is ${customerCurrency.id}).`,
        'currency',
      );
    }
    data.tranDate ??= today(this.now());
    if (type === 'invoice') {
      const status = data.approvalStatus === undefined ? { id: APPROVED } : data.approvalStatus;
      if (!isRef(status) || (status.id !== PENDING_APPROVAL && status.id !== APPROVED)) {
        throw invalidValue(
          `Invalid approvalStatus; use { "id": "${PENDING_APPROVAL}" } or { "id": "${APPROVED}" }.`,
          'approvalStatus',
        );
      }
      data.approvalStatus = { id: status.id };
    }
    if (spec.itemLines) data.item = { items: this.normalizeItemLines(data.item, previousLines) };
    if (spec.apply) {
      const lines = this.normalizeApplyLines(data.apply, customer.id, selfId);
      if (lines.length > 0 || data.apply !== undefined) data.apply = { items: lines };
      const applied = round2(lines.reduce((sum, l) => sum + l.amount, 0));
      if (type === 'customerPayment') {
        if (data.payment === undefined) {
          if (lines.length === 0) throw missingValue('Payment Amount', 'payment');
          data.payment = applied;
        }
        const payment = checkNumber(data.payment, 'payment');
        if (payment <= 0) throw invalidValue('The payment amount must be greater than zero.', 'payment');
        if (applied > payment) {
          throw invalidValue(
            `The total applied (${applied}) exceeds the payment amount (${payment}).`,
            'apply',
          );
        }
        data.payment = round2(payment);
      } else {
        const { total } = transactionTotals(data);
        if (applied > total) {
          throw invalidValue(
            `The total applied (${applied}) exceeds the credit memo total (${total}).`,
            'apply',
          );
        }
      }
    }
    return data;
  }

  private normalizeCustomer(data: Json): void {
    if (!isRef(data.subsidiary)) throw missingValue('Primary Subsidiary', 'subsidiary');
    if (data.isPerson !== undefined && typeof data.isPerson !== 'boolean') {
      throw invalidValue('Invalid value for field isPerson: expected true or false.', 'isPerson');
    }
    if (data.isPerson === true) {
      if (typeof data.firstName !== 'string' || data.firstName === '')
        throw missingValue('First Name', 'firstName');
      if (typeof data.lastName !== 'string' || data.lastName === '')
        throw missingValue('Last Name', 'lastName');
    } else if (typeof data.companyName !== 'string' || data.companyName === '') {
      throw missingValue('Company Name', 'companyName');
    }
    data.currency ??= { id: '1' };
  }

  private normalizeItemLines(sublist: unknown, previous: readonly Json[]): ItemLine[] {
    const raw = isObject(sublist) && Array.isArray(sublist.items) ? sublist.items : undefined;
    if (sublist !== undefined && raw === undefined) {
      throw invalidValue('Invalid value for sublist item: expected { "items": [...] }.', 'item');
    }
    if (!raw || raw.length === 0) {
      throw new NetSuiteError(
        400,
        'USER_ERROR',
        'You must enter at least one line item for this transaction.',
        {
          'o:errorPath': 'item.items',
        },
      );
    }
    return keyItemLines(raw, previous).map(({ key, fields: rest }, i): ItemLine => {
      const path = `item.items[${i}]`;
      if (rest.item === undefined || rest.item === null) throw missingValue('Item', `${path}.item`);
      const item = this.resolveRef('serviceSaleItem', rest.item, 'item', `${path}.item`);
      const quantity = rest.quantity === undefined ? 1 : checkNumber(rest.quantity, `${path}.quantity`);
      const rate = rest.rate === undefined ? undefined : checkNumber(rest.rate, `${path}.rate`);
      let amount = rest.amount === undefined ? undefined : checkNumber(rest.amount, `${path}.amount`);
      if (rate === undefined && amount === undefined) throw missingValue('Amount', `${path}.amount`);
      amount ??= round2(quantity * (rate ?? 0));
      const out: ItemLine = {
        ...rest,
        line: key,
        item,
        quantity,
        rate: rate ?? (quantity === 0 ? amount : round2(amount / quantity)),
        amount: round2(amount),
      };
      if (rest.tax1Amt !== undefined) out.tax1Amt = round2(checkNumber(rest.tax1Amt, `${path}.tax1Amt`));
      return out;
    });
  }

  private normalizeApplyLines(sublist: unknown, customerId: string, selfId: string): ApplyLine[] {
    if (sublist === undefined) return [];
    if (!isObject(sublist) || !Array.isArray(sublist.items)) {
      throw invalidValue('Invalid value for sublist apply: expected { "items": [...] }.', 'apply');
    }
    const seen = new Set<string>();
    const lines: ApplyLine[] = [];
    sublist.items.forEach((line: unknown, i: number) => {
      const path = `apply.items[${i}]`;
      if (!isObject(line)) throw invalidValue('Invalid line: expected an object.', path);
      const { links: _links, ...rest } = line;
      if (rest.doc === undefined || rest.doc === null) throw missingValue('Document', `${path}.doc`);
      const doc = this.resolveRef('invoice', rest.doc, 'doc', `${path}.doc`);
      if (seen.has(doc.id)) throw invalidValue(`Invoice ${doc.id} is applied twice.`, `${path}.doc`);
      seen.add(doc.id);
      if (rest.apply === false) return;
      const invoice = this.get('invoice', doc.id, '');
      if ((invoice.data.entity as Ref).id !== customerId) {
        throw invalidValue(`Invoice ${doc.id} belongs to another customer.`, `${path}.doc`);
      }
      if ((invoice.data.approvalStatus as Ref | undefined)?.id === PENDING_APPROVAL) {
        throw invalidValue(
          `Invoice ${doc.id} is pending approval and cannot be paid or credited.`,
          `${path}.doc`,
        );
      }
      const remaining = this.amountRemaining(invoice, selfId);
      const amount =
        rest.amount === undefined ? remaining : round2(checkNumber(rest.amount, `${path}.amount`));
      if (amount <= 0) throw invalidValue('The applied amount must be greater than zero.', `${path}.amount`);
      if (amount > remaining) {
        throw invalidValue(
          `The amount applied (${amount}) is more than the amount due (${remaining}) on invoice ${String(invoice.data.tranId)}.`,
          `${path}.amount`,
        );
      }
      lines.push({ ...rest, doc, apply: true, amount });
    });
    return lines;
  }

  /** Accepts `{ id }` (string or number) or `{ externalId }`, NetSuite's two ways to reference a record. */
  private resolveRef(target: AnyRecordType, value: unknown, field: string, path: string): Ref {
    if (!isObject(value) || (value.id === undefined && value.externalId === undefined)) {
      throw invalidValue(
        `Invalid value for field ${field}: expected a reference like { "id": "123" }.`,
        path,
      );
    }
    const record =
      value.id !== undefined
        ? this.find(target, String(value.id))
        : this.find(target, `eid:${String(value.externalId)}`);
    if (!record) throw invalidReference(String(value.id ?? value.externalId), field, path);
    return { id: record.id };
  }

  private externalIdFrom(value: unknown, path: string): string | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw invalidValue('Invalid value for field externalId: expected a string.', path);
    }
    const externalId = String(value);
    this.checkExternalId(externalId, path);
    return externalId;
  }

  private checkExternalId(externalId: string, path: string): void {
    if (!EXTERNAL_ID.test(externalId)) {
      throw invalidValue(
        `Invalid external ID ${JSON.stringify(externalId)}: use letters, numbers, underscore (_) and hyphen (-).`,
        path === 'eid' ? undefined : path,
      );
    }
  }

  // ---- derived values ---------------------------------------------------------------------------

  private computed(record: StoredRecord): Json {
    switch (record.type) {
      case 'salesOrder':
        return transactionTotals(record.data);
      case 'invoice': {
        const totals = transactionTotals(record.data);
        const remaining = this.amountRemaining(record);
        return {
          ...totals,
          amountPaid: round2(totals.total - remaining),
          amountRemaining: remaining,
          status:
            (record.data.approvalStatus as Ref | undefined)?.id === PENDING_APPROVAL
              ? { id: 'pendingApproval', refName: 'Pending Approval' }
              : remaining === 0
                ? { id: 'paidInFull', refName: 'Paid In Full' }
                : { id: 'open', refName: 'Open' },
        };
      }
      case 'creditMemo': {
        const totals = transactionTotals(record.data);
        const applied = appliedTotal(record.data);
        const status =
          record.data.voided === true
            ? { id: 'voided', refName: 'Voided' }
            : applied === totals.total
              ? { id: 'fullyApplied', refName: 'Fully Applied' }
              : { id: 'open', refName: 'Open' };
        return { ...totals, applied, unapplied: round2(totals.total - applied), status };
      }
      case 'customerPayment': {
        const applied = appliedTotal(record.data);
        const payment = record.data.payment as number;
        return { total: payment, applied, unapplied: round2(payment - applied) };
      }
      default:
        return {};
    }
  }

  /** Invoice total minus what payments and credit memos apply to it (`exceptId` leaves one out). */
  private amountRemaining(invoice: StoredRecord, exceptId?: string): number {
    let applied = 0;
    for (const id of this.appliedBy.get(invoice.id) ?? []) {
      if (id === exceptId) continue;
      const record = this.table('customerPayment').get(id) ?? this.table('creditMemo').get(id);
      for (const line of applyLines(record?.data ?? {}))
        if (line.doc.id === invoice.id) applied += line.amount;
    }
    return round2(transactionTotals(invoice.data).total - applied);
  }

  private isPosted(record: StoredRecord): boolean {
    if (record.type === 'customerPayment' || record.type === 'creditMemo') return true;
    if (record.type === 'invoice')
      return (record.data.approvalStatus as Ref | undefined)?.id !== PENDING_APPROVAL;
    return false;
  }

  private dependents(target: StoredRecord): StoredRecord[] {
    const out: StoredRecord[] = [];
    for (const type of RECORD_TYPES) {
      for (const record of this.table(type).values()) {
        if (
          record !== target &&
          references(record).some((r) => r.type === target.type && r.id === target.id)
        ) {
          out.push(record);
        }
      }
    }
    return out;
  }

  private renderRef(target: AnyRecordType, ref: Ref, base: string): Json {
    const record = this.find(target, ref.id);
    const out: Json = {
      links: [{ rel: 'self', href: `${base}${RECORD_PATH}/${target}/${ref.id}` }],
      id: ref.id,
    };
    const name = record ? refName(record) : undefined;
    if (name !== undefined) out.refName = name;
    return out;
  }

  // ---- storage ----------------------------------------------------------------------------------

  private table(type: AnyRecordType): Map<string, StoredRecord> {
    let table = this.records.get(type);
    if (!table) {
      table = new Map();
      this.records.set(type, table);
    }
    return table;
  }

  private seed(type: NetSuiteReferenceType, id: string, data: Json): void {
    const at = this.now().toISOString();
    this.table(type).set(id, { type, id, data, createdDate: at, lastModifiedDate: at });
  }

  private insert(
    type: NetSuiteRecordType,
    id: string,
    externalId: string | undefined,
    data: Json,
  ): StoredRecord {
    const spec = SPECS[type];
    if (spec.tranPrefix && data.tranId === undefined) {
      data.tranId = `${spec.tranPrefix}${this.ids.sequence(`tranId:${type}`, 1001)}`;
    }
    if (type === 'customer' && data.entityId === undefined) data.entityId = `CUST${id}`;
    const at = this.now().toISOString();
    const record: StoredRecord = { type, id, data, createdDate: at, lastModifiedDate: at };
    if (externalId !== undefined) {
      record.externalId = externalId;
      this.byExternalId.set(externalIdKey(type, externalId), record);
    }
    this.table(type).set(id, record);
    this.indexApplications(record);
    if (externalId !== undefined) this.countWrite(type, externalId);
    return record;
  }

  /** Notes which invoices a payment or credit memo applies to (`appliedBy`). */
  private indexApplications(record: StoredRecord): void {
    if (record.type !== 'customerPayment' && record.type !== 'creditMemo') return;
    for (const line of applyLines(record.data)) {
      let ids = this.appliedBy.get(line.doc.id);
      if (!ids) {
        ids = new Set();
        this.appliedBy.set(line.doc.id, ids);
      }
      ids.add(record.id);
    }
  }

  private countWrite(type: AnyRecordType, externalId: string): void {
    const key = `${type}:${externalId}`;
    this.writes.set(key, (this.writes.get(key) ?? 0) + 1);
  }
}

/** NetSuite: a voided transaction no longer changes. */
function refuseVoided(record: StoredRecord): void {
  if (record.data.voided === true) {
    throw new NetSuiteError(
      400,
      'USER_ERROR',
      'This transaction has been voided and can no longer be changed.',
    );
  }
}

function isRef(value: unknown): value is Ref {
  return isObject(value) && typeof value.id === 'string';
}

function refTarget(type: AnyRecordType, field: string): AnyRecordType | undefined {
  switch (field) {
    case 'entity':
    case 'customer':
    case 'parent':
      return type === 'customer' && field !== 'parent' ? undefined : 'customer';
    case 'subsidiary':
      return 'subsidiary';
    case 'currency':
      return 'currency';
    case 'createdFrom':
      return (SPECS as Partial<Record<AnyRecordType, TypeSpec>>)[type]?.createdFrom;
    default:
      return undefined;
  }
}

function lineRefTarget(sublist: string, field: string): AnyRecordType | undefined {
  if (sublist === 'item' && field === 'item') return 'serviceSaleItem';
  if (sublist === 'apply' && field === 'doc') return 'invoice';
  return undefined;
}

function refName(record: StoredRecord): string | undefined {
  const d = record.data;
  switch (record.type) {
    case 'customer':
      return d.isPerson === true ? `${String(d.firstName)} ${String(d.lastName)}` : String(d.companyName);
    case 'currency':
      return String(d.symbol);
    case 'subsidiary':
      return String(d.name);
    case 'serviceSaleItem':
      return String(d.itemId);
    default:
      return typeof d.tranId === 'string' ? d.tranId : undefined;
  }
}

function references(record: StoredRecord): Array<{ type: AnyRecordType; id: string }> {
  const out: Array<{ type: AnyRecordType; id: string }> = [];
  for (const [field, value] of Object.entries(record.data)) {
    const target = refTarget(record.type, field);
    if (target && isRef(value)) out.push({ type: target, id: value.id });
  }
  for (const line of applyLines(record.data)) out.push({ type: 'invoice', id: line.doc.id });
  return out;
}

function itemLines(data: Json): ItemLine[] {
  const sublist = data.item;
  return isObject(sublist) && Array.isArray(sublist.items) ? (sublist.items as ItemLine[]) : [];
}

function applyLines(data: Json): ApplyLine[] {
  const sublist = data.apply;
  return isObject(sublist) && Array.isArray(sublist.items) ? (sublist.items as ApplyLine[]) : [];
}

function appliedTotal(data: Json): number {
  return round2(applyLines(data).reduce((sum, l) => sum + l.amount, 0));
}

/**
 * Subtotal is the sum of line amounts. Tax is the lines' `tax1Amt` when given (per-line tax amounts, as
 * a billing system reports them), else `taxRate` percent of the subtotal (the legacy tax body field).
 */
function transactionTotals(data: Json): { subtotal: number; taxTotal: number; total: number } {
  const lines = itemLines(data);
  const subtotal = round2(lines.reduce((sum, l) => sum + l.amount, 0));
  const lineTax = lines.some((l) => typeof l.tax1Amt === 'number')
    ? lines.reduce((sum, l) => sum + (typeof l.tax1Amt === 'number' ? l.tax1Amt : 0), 0)
    : undefined;
  const taxRate = typeof data.taxRate === 'number' ? data.taxRate : 0;
  const taxTotal = round2(lineTax ?? (subtotal * taxRate) / 100);
  return { subtotal, taxTotal, total: round2(subtotal + taxTotal) };
}

function mergeLines(field: string, existing: unknown, incoming: unknown[]): unknown[] {
  const current = isObject(existing) && Array.isArray(existing.items) ? [...existing.items] : [];
  // Item lines are keyed by `line` (a line without one is new), apply lines by the document they apply to.
  const key =
    field === 'apply'
      ? (line: unknown) =>
          isObject(line) && isObject(line.doc) ? String(line.doc.id ?? line.doc.externalId) : ''
      : (line: unknown) => (isObject(line) && typeof line.line === 'number' ? String(line.line) : undefined);
  for (const line of incoming) {
    const index = key(line) === undefined ? -1 : current.findIndex((c) => key(c) === key(line));
    if (index >= 0) current[index] = { ...(current[index] as Json), ...(line as Json) };
    else current.push(line);
  }
  return current;
}

function checkNumber(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalidValue(`Invalid value for field ${path}: expected a number.`, path);
  }
  return value;
}

function checkDate(value: unknown, path: string): void {
  const valid =
    typeof value === 'string' &&
    /^\d{4}-\d{2}-\d{2}$/.test(value) &&
    !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) &&
    new Date(`${value}T00:00:00Z`).toISOString().startsWith(value);
  if (!valid) throw invalidValue(`Invalid date value for field ${path}: use the format YYYY-MM-DD.`, path);
}
