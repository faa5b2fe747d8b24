import { invalidField, jsonParserError, MultipleMatchesError, notFound, SalesforceApiError } from './errors';
import { RecordIdMinter, toId18 } from './record-ids';
import {
  buildSchema,
  type CustomFields,
  type FieldDef,
  findField,
  findSObject,
  OPPORTUNITY_STAGES,
  type SObjectDef,
  type SObjectName,
  sobjectForId,
} from './schema';

export type FieldValue = string | number | boolean | null;
/** A record as the REST API returns it: canonical field names, every field present (null when empty). */
export type SRecord = Record<string, FieldValue>;

export interface RecordChange {
  type: SObjectName;
  before: SRecord | undefined;
  after: SRecord;
}

export interface OrgStoreOptions {
  currencies: readonly string[];
  customFields?: CustomFields;
  /** The integration user that owns and modifies records. */
  userId?: string;
}

/** Timestamps as the REST API writes them: millisecond precision and a `+0000` offset, not `Z`. */
export function restDateTime(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}

/**
 * The org's data: validates writes the way the REST API does (unknown, read-only and missing required
 * fields, JSON types, restricted picklists, references), keeps the derived fields a real org computes
 * (IsWon from the stage, line item totals, the opportunity amount) and reports every change.
 */
export class OrgStore {
  readonly schema: Map<SObjectName, SObjectDef>;
  readonly userId: string;
  readonly standardPricebookId: string;
  private tables = new Map<SObjectName, Map<string, SRecord>>();
  /**
   * Line item ids by opportunity id, every one ever written: a superset, read through the table, so
   * it needs no undo when a request is rolled back or a record deleted.
   */
  private readonly lineItemIds = new Map<string, Set<string>>();
  private readonly minter = new RecordIdMinter();
  private readonly listeners: Array<(change: RecordChange) => void> = [];
  private readonly currencies: readonly string[];

  constructor(options: OrgStoreOptions) {
    this.currencies = options.currencies;
    this.schema = buildSchema(options.currencies, options.customFields);
    for (const name of this.schema.keys()) this.tables.set(name, new Map());
    this.userId = options.userId ?? toId18('0058d000001TWIN') ?? '0058d000001TWINAAA';
    this.standardPricebookId = this.insertRaw('Pricebook2', {
      Name: 'Standard Price Book',
      IsActive: true,
      IsStandard: true,
    });
  }

  onChange(listener: (change: RecordChange) => void): void {
    this.listeners.push(listener);
  }

  sobject(name: string): SObjectDef {
    const def = findSObject(this.schema, name);
    if (!def) {
      throw new SalesforceApiError(404, 'NOT_FOUND', `The requested resource does not exist`);
    }
    return def;
  }

  table(name: SObjectName): Map<string, SRecord> {
    const table = this.tables.get(name);
    if (!table) throw new Error(`no table ${name}`);
    return table;
  }

  /** A copy of the record, or `undefined`. Accepts 15- and 18-character ids. */
  get(type: SObjectName, id: string): SRecord | undefined {
    const id18 = toId18(id);
    const record = id18 === undefined ? undefined : this.table(type).get(id18);
    return record ? { ...record } : undefined;
  }

  mustGet(type: SObjectName, id: string): SRecord {
    const record = this.get(type, id);
    if (!record) throw toId18(id) === undefined ? badPathId(id) : notFound();
    return record;
  }

  all(type: SObjectName): SRecord[] {
    return [...this.table(type).values()].map((r) => ({ ...r }));
  }

  /** For allOrNone: a request that fails half way leaves the org as it was. */
  snapshot(): Map<SObjectName, Map<string, SRecord>> {
    return new Map(
      [...this.tables].map(([name, table]) => [name, new Map([...table].map(([id, r]) => [id, { ...r }]))]),
    );
  }

  restore(snapshot: Map<SObjectName, Map<string, SRecord>>): void {
    this.tables = snapshot;
  }

  create(typeName: string, input: unknown): string {
    const def = this.sobject(typeName);
    const values = this.coerce(def, input, 'create');
    const missing = def.fields.filter(
      (f) => f.required && (values[f.name] === undefined || values[f.name] === null),
    );
    const lineItemRequired = def.name === 'OpportunityLineItem' ? this.lineItemMissing(values) : [];
    const missingNames = [...missing.map((f) => f.name), ...lineItemRequired];
    if (missingNames.length > 0) {
      throw new SalesforceApiError(
        400,
        'REQUIRED_FIELD_MISSING',
        `Required fields are missing: [${missingNames.join(', ')}]`,
        missingNames,
      );
    }
    const record = this.blank(def);
    Object.assign(record, values);
    this.derive(def, record, undefined, values);
    const id = this.minter.next(def.keyPrefix);
    const now = restDateTime(new Date());
    Object.assign(record, {
      Id: id,
      CreatedDate: now,
      CreatedById: this.userId,
      LastModifiedDate: now,
      LastModifiedById: this.userId,
      SystemModstamp: now,
      IsDeleted: false,
    });
    if (findField(def, 'OwnerId') && record.OwnerId === null) record.OwnerId = this.userId;
    this.table(def.name).set(id, record);
    this.afterWrite(def, record, undefined);
    this.emit({ type: def.name, before: undefined, after: { ...record } });
    return id;
  }

  update(typeName: string, id: string, input: unknown): void {
    const def = this.sobject(typeName);
    const id18 = toId18(id);
    const existing = id18 === undefined ? undefined : this.table(def.name).get(id18);
    if (!existing) throw id18 === undefined ? badPathId(id) : notFound();
    const values = this.coerce(def, input, 'update');
    const before = { ...existing };
    const record = { ...existing, ...values };
    for (const field of def.fields) {
      if (field.required && field.updateable && record[field.name] === null) {
        throw new SalesforceApiError(
          400,
          'REQUIRED_FIELD_MISSING',
          `Required fields are missing: [${field.name}]`,
          [field.name],
        );
      }
    }
    this.derive(def, record, before, values);
    const now = restDateTime(new Date());
    record.LastModifiedDate = now;
    record.LastModifiedById = this.userId;
    record.SystemModstamp = now;
    this.table(def.name).set(existing.Id as string, record);
    this.afterWrite(def, record, before);
    this.emit({ type: def.name, before, after: { ...record } });
  }

  /**
   * Upsert by external id (or `Id`). Several matches answer 300 with the matching records' URLs, as the
   * REST API does. https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_upsert.htm
   */
  upsert(
    typeName: string,
    fieldName: string,
    value: string,
    input: unknown,
    options: { updateOnly?: boolean } = {},
  ): { id: string; created: boolean } {
    const def = this.sobject(typeName);
    const field = findField(def, fieldName);
    if (!field || (!field.externalId && field.name !== 'Id')) {
      throw new SalesforceApiError(
        404,
        'NOT_FOUND',
        `Provided external ID field does not exist or is not accessible: ${fieldName}`,
      );
    }
    const matches = this.findBy(def.name, field, value);
    if (matches.length > 1) {
      throw new MultipleMatchesError(
        def.name,
        matches.map((r) => String(r.Id)),
      );
    }
    const body = isPlainObject(input) ? { ...input } : input;
    if (isPlainObject(body)) {
      // The external id in the URL wins; repeating it in the body is allowed when it is the same value.
      for (const key of Object.keys(body)) {
        if (key.toLowerCase() === field.name.toLowerCase()) delete body[key];
      }
    }
    const match = matches[0];
    if (match) {
      this.update(def.name, match.Id as string, body);
      return { id: match.Id as string, created: false };
    }
    if (options.updateOnly || field.name === 'Id') throw notFound();
    const withKey = isPlainObject(body) ? { ...body, [field.name]: value } : body;
    return { id: this.create(def.name, withKey), created: true };
  }

  delete(typeName: string, id: string): void {
    const def = this.sobject(typeName);
    const id18 = toId18(id);
    const removed = id18 === undefined ? undefined : this.table(def.name).get(id18);
    if (id18 === undefined || !removed) throw notFound();
    this.table(def.name).delete(id18);
    // Master-detail and the opportunity's products go with their parent.
    for (const child of def.childRelationships) {
      if (def.name === 'Product2' || def.name === 'Pricebook2') continue;
      for (const record of this.all(child.childSObject)) {
        if (record[child.field] === id18) this.delete(child.childSObject, record.Id as string);
      }
    }
    if (def.name === 'OpportunityLineItem') this.rollUpOpportunity(removed.OpportunityId);
  }

  /** Inserts without validation, for the seed data an org comes with. */
  private insertRaw(type: SObjectName, values: SRecord): string {
    const def = this.sobject(type);
    const record = this.blank(def);
    Object.assign(record, values);
    const id = this.minter.next(def.keyPrefix);
    const now = restDateTime(new Date());
    Object.assign(record, {
      Id: id,
      CreatedDate: now,
      CreatedById: this.userId,
      LastModifiedDate: now,
      LastModifiedById: this.userId,
      SystemModstamp: now,
      IsDeleted: false,
    });
    this.table(type).set(id, record);
    return id;
  }

  private findBy(type: SObjectName, field: FieldDef, value: string): SRecord[] {
    if (field.name === 'Id') {
      const record = this.get(type, value);
      return record ? [record] : [];
    }
    return this.all(type).filter((r) => r[field.name] !== null && String(r[field.name]) === value);
  }

  private blank(def: SObjectDef): SRecord {
    const record: SRecord = {};
    for (const field of def.fields) record[field.name] = field.type === 'boolean' ? false : null;
    return record;
  }

  private emit(change: RecordChange): void {
    for (const listener of this.listeners) listener(change);
  }

  /** Validates a JSON body and turns it into canonical field names and typed values. */
  private coerce(def: SObjectDef, input: unknown, mode: 'create' | 'update'): SRecord {
    if (!isPlainObject(input)) {
      throw jsonParserError(`Cannot deserialize instance of ${def.name} from ${describeJson(input)} value`);
    }
    const out: SRecord = {};
    const readOnly: string[] = [];
    for (const [key, raw] of Object.entries(input)) {
      if (key === 'attributes') continue;
      const field = findField(def, key);
      if (!field) {
        throw invalidField(`No such column '${key}' on sobject of type ${def.name}`);
      }
      if (field.name === 'Id' && mode === 'update') continue;
      if ((mode === 'create' && !field.createable) || (mode === 'update' && !field.updateable)) {
        readOnly.push(field.name);
        continue;
      }
      out[field.name] = this.coerceValue(field, raw);
    }
    if (readOnly.length > 0) {
      throw new SalesforceApiError(
        400,
        'INVALID_FIELD_FOR_INSERT_UPDATE',
        `Unable to create/update fields: ${readOnly.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
        readOnly,
      );
    }
    return out;
  }

  private coerceValue(field: FieldDef, raw: unknown): FieldValue {
    if (raw === null) {
      if (!field.nillable) {
        throw new SalesforceApiError(
          400,
          'REQUIRED_FIELD_MISSING',
          `Required fields are missing: [${field.name}]`,
          [field.name],
        );
      }
      return null;
    }
    const typeError = () =>
      jsonParserError(
        `Cannot deserialize instance of ${field.type} from ${describeJson(raw)} value ${JSON.stringify(raw)} or request may be missing a required field`,
      );
    switch (field.type) {
      case 'currency':
      case 'double':
      case 'percent':
      case 'int': {
        const n =
          typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
        if (!Number.isFinite(n) || (field.type === 'int' && !Number.isInteger(n))) throw typeError();
        return n;
      }
      case 'boolean':
        if (typeof raw !== 'boolean') throw typeError();
        return raw;
      case 'date':
        if (typeof raw !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(raw) || Number.isNaN(Date.parse(raw))) {
          throw typeError();
        }
        return raw;
      case 'datetime': {
        if (typeof raw !== 'string' || Number.isNaN(Date.parse(raw))) throw typeError();
        return restDateTime(new Date(raw));
      }
      case 'reference':
        if (typeof raw !== 'string') throw typeError();
        return this.checkReference(field, raw);
      case 'picklist': {
        if (typeof raw !== 'string') throw typeError();
        const allowed = field.picklistValues;
        if (allowed && !allowed.includes(raw)) {
          throw new SalesforceApiError(
            400,
            'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
            `${field.label}: bad value for restricted picklist field: ${raw}`,
            [field.name],
          );
        }
        return raw;
      }
      default:
        if (typeof raw === 'string') return raw;
        if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
        throw typeError();
    }
  }

  private checkReference(field: FieldDef, raw: string): string {
    if (raw === '') return raw;
    const id18 = toId18(raw);
    if (id18 === undefined) {
      throw new SalesforceApiError(
        400,
        'MALFORMED_ID',
        `${field.label}: id value of incorrect type: ${raw}`,
        [field.name],
      );
    }
    if (!field.referenceTo) return id18;
    const target = sobjectForId(this.schema, id18);
    if (target?.name !== field.referenceTo) {
      throw new SalesforceApiError(
        400,
        'FIELD_INTEGRITY_EXCEPTION',
        `${field.label}: id value of incorrect type: ${raw}`,
        [field.name],
      );
    }
    if (!this.table(target.name).has(id18)) {
      throw new SalesforceApiError(400, 'INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id`, [
        field.name,
      ]);
    }
    return id18;
  }

  private lineItemMissing(values: SRecord): string[] {
    return values.PricebookEntryId || values.Product2Id ? [] : ['PricebookEntryId'];
  }

  /** The fields a real org computes, set after every write. */
  private derive(def: SObjectDef, record: SRecord, before: SRecord | undefined, written: SRecord): void {
    switch (def.name) {
      case 'Opportunity':
        this.deriveOpportunity(record, before, written);
        break;
      case 'OpportunityLineItem':
        this.deriveLineItem(record, before, written);
        break;
      case 'PricebookEntry':
        this.derivePricebookEntry(record, before);
        break;
      default:
        break;
    }
    if (findField(def, 'CurrencyIsoCode')?.createable && record.CurrencyIsoCode === null) {
      record.CurrencyIsoCode = this.currencies[0] ?? 'USD';
    }
  }

  private deriveOpportunity(record: SRecord, before: SRecord | undefined, written: SRecord): void {
    const stage = OPPORTUNITY_STAGES.find((s) => s.name === record.StageName);
    if (stage) {
      record.IsClosed = stage.closed;
      record.IsWon = stage.won;
      const stageChanged = before?.StageName !== record.StageName;
      if (stageChanged && written.Probability === undefined) record.Probability = stage.probability;
      if (stageChanged && written.ForecastCategoryName === undefined)
        record.ForecastCategoryName = stage.forecast;
    }
    const items = before ? this.lineItemsOf(record.Id as string) : [];
    record.HasOpportunityLineItem = items.length > 0;
    if (items.length > 0) {
      // With products the amount is the sum of their totals and cannot be set directly.
      record.Amount = round2(items.reduce((sum, item) => sum + Number(item.TotalPrice ?? 0), 0));
      record.TotalOpportunityQuantity = items.reduce((sum, item) => sum + Number(item.Quantity ?? 0), 0);
    }
    record.ExpectedRevenue =
      typeof record.Amount === 'number' && typeof record.Probability === 'number'
        ? round2((record.Amount * record.Probability) / 100)
        : null;
  }

  private deriveLineItem(record: SRecord, before: SRecord | undefined, written: SRecord): void {
    const opportunity = this.mustGetReference('Opportunity', record.OpportunityId);
    if (!before) {
      let entry: SRecord | undefined;
      if (typeof record.PricebookEntryId === 'string') {
        entry = this.mustGetReference('PricebookEntry', record.PricebookEntryId);
      } else {
        const pricebookId = (opportunity.Pricebook2Id as string | null) ?? this.standardPricebookId;
        entry = this.all('PricebookEntry').find(
          (e) =>
            e.Product2Id === record.Product2Id &&
            e.Pricebook2Id === pricebookId &&
            e.CurrencyIsoCode === opportunity.CurrencyIsoCode,
        );
        if (!entry) {
          throw new SalesforceApiError(
            400,
            'FIELD_INTEGRITY_EXCEPTION',
            'field integrity exception: PricebookEntryId (no active price book entry for this product in the opportunity price book)',
            ['Product2Id'],
          );
        }
        record.PricebookEntryId = entry.Id as string;
      }
      if (entry.IsActive !== true) {
        throw new SalesforceApiError(
          400,
          'FIELD_INTEGRITY_EXCEPTION',
          'field integrity exception: PricebookEntryId (pricebook entry is inactive)',
          ['PricebookEntryId'],
        );
      }
      if (opportunity.Pricebook2Id !== null && opportunity.Pricebook2Id !== entry.Pricebook2Id) {
        throw new SalesforceApiError(
          400,
          'FIELD_INTEGRITY_EXCEPTION',
          'field integrity exception: PricebookEntryId (pricebook entry is in a different pricebook than the one assigned to the opportunity)',
          ['PricebookEntryId'],
        );
      }
      if (entry.CurrencyIsoCode !== opportunity.CurrencyIsoCode) {
        throw new SalesforceApiError(
          400,
          'FIELD_INTEGRITY_EXCEPTION',
          'field integrity exception: PricebookEntryId (pricebook entry currency code does not match opportunity currency code)',
          ['PricebookEntryId'],
        );
      }
      const product = this.mustGetReference('Product2', entry.Product2Id);
      record.Product2Id = entry.Product2Id ?? null;
      record.ProductCode = product.ProductCode ?? null;
      record.ListPrice = entry.UnitPrice ?? null;
      record.Name = `${String(opportunity.Name)} ${String(product.Name)}`;
      record.CurrencyIsoCode = opportunity.CurrencyIsoCode ?? null;
    }
    const hasUnit = written.UnitPrice !== undefined && written.UnitPrice !== null;
    const hasTotal = written.TotalPrice !== undefined && written.TotalPrice !== null;
    if (hasUnit && hasTotal) {
      throw new SalesforceApiError(
        400,
        'FIELD_INTEGRITY_EXCEPTION',
        'field integrity exception: TotalPrice (cannot specify both UnitPrice and TotalPrice)',
        ['TotalPrice'],
      );
    }
    if (!before && !hasUnit && !hasTotal) {
      throw new SalesforceApiError(
        400,
        'FIELD_INTEGRITY_EXCEPTION',
        'field integrity exception: unknown (must specify either UnitPrice or TotalPrice)',
        [],
      );
    }
    const quantity = Number(record.Quantity ?? 0);
    const discount = typeof record.Discount === 'number' ? record.Discount : 0;
    if (hasTotal) {
      record.UnitPrice =
        quantity === 0 ? 0 : round2(Number(record.TotalPrice) / quantity / (1 - discount / 100));
    }
    const subtotal = round2(quantity * Number(record.UnitPrice ?? 0));
    record.Subtotal = subtotal;
    record.TotalPrice = hasTotal ? Number(record.TotalPrice) : round2(subtotal * (1 - discount / 100));
  }

  private derivePricebookEntry(record: SRecord, before: SRecord | undefined): void {
    const product = this.mustGetReference('Product2', record.Product2Id);
    record.Name = product.Name ?? null;
    record.ProductCode = product.ProductCode ?? null;
    if (before) return;
    if (record.Pricebook2Id !== this.standardPricebookId) {
      const standard = this.all('PricebookEntry').find(
        (e) => e.Product2Id === record.Product2Id && e.Pricebook2Id === this.standardPricebookId,
      );
      if (!standard) {
        throw new SalesforceApiError(
          400,
          'STANDARD_PRICE_NOT_DEFINED',
          'No standard price defined for this product',
          [],
        );
      }
    }
    const currency = record.CurrencyIsoCode ?? this.currencies[0] ?? 'USD';
    const duplicate = this.all('PricebookEntry').find(
      (e) =>
        e.Product2Id === record.Product2Id &&
        e.Pricebook2Id === record.Pricebook2Id &&
        e.CurrencyIsoCode === currency,
    );
    if (duplicate) {
      throw new SalesforceApiError(
        400,
        'DUPLICATE_VALUE',
        'This price definition already exists in this price book',
        [],
      );
    }
  }

  private afterWrite(def: SObjectDef, record: SRecord, before: SRecord | undefined): void {
    if (def.name !== 'OpportunityLineItem') return;
    const opportunityId = record.OpportunityId as string;
    let ids = this.lineItemIds.get(opportunityId);
    if (!ids) {
      ids = new Set();
      this.lineItemIds.set(opportunityId, ids);
    }
    ids.add(record.Id as string);
    const opportunity = this.table('Opportunity').get(opportunityId);
    if (opportunity && opportunity.Pricebook2Id === null) {
      const entry = this.table('PricebookEntry').get(record.PricebookEntryId as string);
      opportunity.Pricebook2Id = entry?.Pricebook2Id ?? null;
    }
    this.rollUpOpportunity(opportunityId);
    if (before && before.OpportunityId !== opportunityId) this.rollUpOpportunity(before.OpportunityId);
  }

  /** Keeps an opportunity's roll-ups (amount, quantity, has-products) in line with its line items. */
  private rollUpOpportunity(opportunityId: FieldValue | undefined): void {
    const opportunity =
      typeof opportunityId === 'string' ? this.table('Opportunity').get(opportunityId) : undefined;
    if (!opportunity) return;
    const items = this.lineItemsOf(opportunityId as string);
    opportunity.HasOpportunityLineItem = items.length > 0;
    if (items.length > 0) {
      opportunity.Amount = round2(items.reduce((sum, item) => sum + Number(item.TotalPrice ?? 0), 0));
      opportunity.TotalOpportunityQuantity = items.reduce((sum, item) => sum + Number(item.Quantity ?? 0), 0);
      opportunity.ExpectedRevenue =
        typeof opportunity.Probability === 'number'
          ? round2((opportunity.Amount * opportunity.Probability) / 100)
          : null;
    }
  }

  private lineItemsOf(opportunityId: string): SRecord[] {
    const table = this.table('OpportunityLineItem');
    const items: SRecord[] = [];
    for (const id of this.lineItemIds.get(opportunityId) ?? []) {
      const item = table.get(id);
      if (item && item.OpportunityId === opportunityId) items.push(item);
    }
    return items;
  }

  private mustGetReference(type: SObjectName, id: FieldValue | undefined): SRecord {
    const record = typeof id === 'string' ? this.table(type).get(id) : undefined;
    if (!record) {
      throw new SalesforceApiError(400, 'INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', []);
    }
    return record;
  }
}

/**
 * `/sobjects/<type>/<x>` is also the external-id resource, so a value that is not a record id is read as a
 * field name, and the API answers with that resource's error.
 */
function badPathId(value: string): SalesforceApiError {
  return new SalesforceApiError(
    404,
    'NOT_FOUND',
    `Provided external ID field does not exist or is not accessible: ${value}`,
  );
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeJson(value: unknown): string {
  if (Array.isArray(value)) return 'START_ARRAY';
  if (value === null) return 'VALUE_NULL';
  switch (typeof value) {
    case 'string':
      return 'VALUE_STRING';
    case 'number':
      return 'VALUE_NUMBER';
    case 'boolean':
      return 'VALUE_TRUE';
    default:
      return 'START_OBJECT';
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
