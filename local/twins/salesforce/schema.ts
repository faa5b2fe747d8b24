/**
 * The slice of a Salesforce org's schema the twin knows: the standard objects of quote-to-cash with the
 * fields, types and permissions the REST API enforces, plus the custom fields a test or the local runtime
 * declares. Unknown fields are rejected exactly like a real org rejects them.
 */

export type FieldType =
  | 'id'
  | 'string'
  | 'textarea'
  | 'picklist'
  | 'currency'
  | 'double'
  | 'percent'
  | 'int'
  | 'date'
  | 'datetime'
  | 'boolean'
  | 'reference'
  | 'url'
  | 'phone';

export interface FieldDef {
  name: string;
  label: string;
  type: FieldType;
  createable: boolean;
  updateable: boolean;
  nillable: boolean;
  /** Required on create (not nillable, not defaulted). */
  required?: boolean;
  externalId?: boolean;
  /** For references: the object pointed to and the relationship name used in SOQL (`Account.Name`). */
  referenceTo?: SObjectName;
  relationshipName?: string;
  picklistValues?: readonly string[];
  custom?: boolean;
}

export interface ChildRelationship {
  /** Name used in SOQL subqueries, e.g. `OpportunityLineItems`. */
  relationshipName: string;
  childSObject: SObjectName;
  field: string;
}

export interface SObjectDef {
  name: SObjectName;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  fields: FieldDef[];
  childRelationships: ChildRelationship[];
}

export const SOBJECT_NAMES = [
  'Account',
  'Opportunity',
  'OpportunityLineItem',
  'Product2',
  'Pricebook2',
  'PricebookEntry',
] as const;
export type SObjectName = (typeof SOBJECT_NAMES)[number];

/** Stage picklist of a default org, with the probability, closed and won flags each stage implies. */
export const OPPORTUNITY_STAGES: ReadonlyArray<{
  name: string;
  probability: number;
  closed: boolean;
  won: boolean;
  forecast: string;
}> = [
  { name: 'Prospecting', probability: 10, closed: false, won: false, forecast: 'Pipeline' },
  { name: 'Qualification', probability: 10, closed: false, won: false, forecast: 'Pipeline' },
  { name: 'Needs Analysis', probability: 20, closed: false, won: false, forecast: 'Pipeline' },
  { name: 'Value Proposition', probability: 50, closed: false, won: false, forecast: 'Pipeline' },
  { name: 'Id. Decision Makers', probability: 60, closed: false, won: false, forecast: 'Pipeline' },
  { name: 'Perception Analysis', probability: 70, closed: false, won: false, forecast: 'Pipeline' },
  { name: 'Proposal/Price Quote', probability: 75, closed: false, won: false, forecast: 'Pipeline' },
  { name: 'Negotiation/Review', probability: 90, closed: false, won: false, forecast: 'Pipeline' },
  { name: 'Closed Won', probability: 100, closed: true, won: true, forecast: 'Closed' },
  { name: 'Closed Lost', probability: 0, closed: true, won: false, forecast: 'Omitted' },
];

export const CLOSED_WON_STAGE = 'Closed Won';

/** A custom field a test or the runtime adds to an object; a bare string is a text field. */
export type CustomFieldSpec =
  | string
  | {
      name: string;
      /** @default 'string' */
      type?: Exclude<FieldType, 'id'>;
      /** Marks it usable for upsert (`/sobjects/<type>/<field>/<value>`). */
      externalId?: boolean;
      referenceTo?: SObjectName;
      label?: string;
    };

export type CustomFields = Partial<Record<SObjectName, readonly CustomFieldSpec[]>>;

const audit = (): FieldDef[] => [
  sys('CreatedDate', 'datetime'),
  sys('CreatedById', 'reference'),
  sys('LastModifiedDate', 'datetime'),
  sys('LastModifiedById', 'reference'),
  sys('SystemModstamp', 'datetime'),
  sys('IsDeleted', 'boolean'),
];

function sys(name: string, type: FieldType, extra: Partial<FieldDef> = {}): FieldDef {
  return {
    name,
    label: name,
    type,
    createable: false,
    updateable: false,
    nillable: type !== 'boolean',
    ...extra,
  };
}

function rw(name: string, type: FieldType, extra: Partial<FieldDef> = {}): FieldDef {
  return { name, label: name, type, createable: true, updateable: true, nillable: true, ...extra };
}

function required(name: string, type: FieldType, extra: Partial<FieldDef> = {}): FieldDef {
  return rw(name, type, { nillable: false, required: true, ...extra });
}

function ref(
  name: string,
  to: SObjectName,
  relationshipName: string,
  extra: Partial<FieldDef> = {},
): FieldDef {
  return rw(name, 'reference', { referenceTo: to, relationshipName, ...extra });
}

export function buildSchema(
  currencies: readonly string[],
  custom: CustomFields = {},
): Map<SObjectName, SObjectDef> {
  const currency = rw('CurrencyIsoCode', 'picklist', {
    picklistValues: currencies,
    label: 'Currency ISO Code',
  });
  const address = (prefix: string): FieldDef[] =>
    ['Street', 'City', 'State', 'PostalCode', 'Country'].map((part) =>
      rw(`${prefix}${part}`, part === 'Street' ? 'textarea' : 'string'),
    );

  const defs: SObjectDef[] = [
    {
      name: 'Account',
      label: 'Account',
      labelPlural: 'Accounts',
      keyPrefix: '001',
      fields: [
        sys('Id', 'id', { nillable: false }),
        required('Name', 'string', { label: 'Account Name' }),
        rw('AccountNumber', 'string'),
        rw('Type', 'picklist'),
        ref('ParentId', 'Account', 'Parent'),
        ...address('Billing'),
        ...address('Shipping'),
        rw('Phone', 'phone'),
        rw('Website', 'url'),
        rw('Industry', 'picklist'),
        rw('AnnualRevenue', 'currency'),
        rw('NumberOfEmployees', 'int'),
        rw('Description', 'textarea'),
        currency,
        rw('OwnerId', 'reference'),
        ...audit(),
      ],
      childRelationships: [
        { relationshipName: 'Opportunities', childSObject: 'Opportunity', field: 'AccountId' },
      ],
    },
    {
      name: 'Opportunity',
      label: 'Opportunity',
      labelPlural: 'Opportunities',
      keyPrefix: '006',
      fields: [
        sys('Id', 'id', { nillable: false }),
        ref('AccountId', 'Account', 'Account'),
        required('Name', 'string', { label: 'Name' }),
        rw('Description', 'textarea'),
        required('StageName', 'picklist', {
          label: 'Stage',
          picklistValues: OPPORTUNITY_STAGES.map((s) => s.name),
        }),
        rw('Amount', 'currency'),
        rw('Probability', 'percent'),
        sys('ExpectedRevenue', 'currency'),
        rw('TotalOpportunityQuantity', 'double'),
        required('CloseDate', 'date', { label: 'Close Date' }),
        rw('Type', 'picklist'),
        rw('NextStep', 'string'),
        rw('LeadSource', 'picklist'),
        sys('IsClosed', 'boolean'),
        sys('IsWon', 'boolean'),
        rw('ForecastCategoryName', 'picklist'),
        currency,
        sys('HasOpportunityLineItem', 'boolean'),
        ref('Pricebook2Id', 'Pricebook2', 'Pricebook2'),
        rw('OwnerId', 'reference'),
        ...audit(),
      ],
      childRelationships: [
        {
          relationshipName: 'OpportunityLineItems',
          childSObject: 'OpportunityLineItem',
          field: 'OpportunityId',
        },
      ],
    },
    {
      name: 'OpportunityLineItem',
      label: 'Opportunity Product',
      labelPlural: 'Opportunity Product',
      keyPrefix: '00k',
      fields: [
        sys('Id', 'id', { nillable: false }),
        ref('OpportunityId', 'Opportunity', 'Opportunity', {
          updateable: false,
          nillable: false,
          required: true,
        }),
        rw('SortOrder', 'int'),
        ref('PricebookEntryId', 'PricebookEntry', 'PricebookEntry', { updateable: false }),
        ref('Product2Id', 'Product2', 'Product2', { updateable: false }),
        sys('ProductCode', 'string'),
        sys('Name', 'string'),
        sys('CurrencyIsoCode', 'picklist'),
        required('Quantity', 'double'),
        rw('TotalPrice', 'currency'),
        rw('UnitPrice', 'currency', { label: 'Sales Price' }),
        sys('ListPrice', 'currency'),
        sys('Subtotal', 'currency'),
        rw('ServiceDate', 'date'),
        rw('Description', 'string'),
        rw('Discount', 'percent'),
        ...audit(),
      ],
      childRelationships: [],
    },
    {
      name: 'Product2',
      label: 'Product',
      labelPlural: 'Products',
      keyPrefix: '01t',
      fields: [
        sys('Id', 'id', { nillable: false }),
        required('Name', 'string', { label: 'Product Name' }),
        rw('ProductCode', 'string'),
        rw('Description', 'textarea'),
        rw('IsActive', 'boolean', { nillable: false }),
        rw('Family', 'picklist'),
        rw('ExternalId', 'string', { externalId: true }),
        rw('StockKeepingUnit', 'string'),
        rw('QuantityUnitOfMeasure', 'picklist'),
        currency,
        ...audit(),
      ],
      childRelationships: [
        { relationshipName: 'PricebookEntries', childSObject: 'PricebookEntry', field: 'Product2Id' },
      ],
    },
    {
      name: 'Pricebook2',
      label: 'Price Book',
      labelPlural: 'Price Books',
      keyPrefix: '01s',
      fields: [
        sys('Id', 'id', { nillable: false }),
        required('Name', 'string'),
        rw('IsActive', 'boolean', { nillable: false }),
        sys('IsStandard', 'boolean'),
        rw('Description', 'textarea'),
        ...audit(),
      ],
      childRelationships: [
        { relationshipName: 'PricebookEntries', childSObject: 'PricebookEntry', field: 'Pricebook2Id' },
      ],
    },
    {
      name: 'PricebookEntry',
      label: 'Price Book Entry',
      labelPlural: 'Price Book Entries',
      keyPrefix: '01u',
      fields: [
        sys('Id', 'id', { nillable: false }),
        sys('Name', 'string'),
        ref('Pricebook2Id', 'Pricebook2', 'Pricebook2', {
          updateable: false,
          nillable: false,
          required: true,
        }),
        ref('Product2Id', 'Product2', 'Product2', { updateable: false, nillable: false, required: true }),
        required('UnitPrice', 'currency', { label: 'List Price' }),
        rw('IsActive', 'boolean', { nillable: false }),
        rw('UseStandardPrice', 'boolean', { nillable: false }),
        sys('ProductCode', 'string'),
        currency,
        ...audit(),
      ],
      childRelationships: [],
    },
  ];

  const schema = new Map<SObjectName, SObjectDef>();
  for (const def of defs) {
    for (const spec of custom[def.name] ?? []) {
      def.fields.push(customField(def.name, spec));
    }
    schema.set(def.name, def);
  }
  return schema;
}

function customField(object: SObjectName, spec: CustomFieldSpec): FieldDef {
  const s = typeof spec === 'string' ? { name: spec } : spec;
  if (!/^[A-Za-z][A-Za-z0-9_]*__c$/.test(s.name)) {
    throw new Error(`custom field ${object}.${s.name} must be an API name ending in __c`);
  }
  const type = s.type ?? 'string';
  const field: FieldDef = rw(s.name, type, { custom: true, label: s.label ?? s.name.replace(/__c$/, '') });
  if (s.externalId) field.externalId = true;
  if (type === 'reference') {
    if (!s.referenceTo) throw new Error(`custom reference field ${object}.${s.name} needs referenceTo`);
    field.referenceTo = s.referenceTo;
    field.relationshipName = s.name.replace(/__c$/, '__r');
  }
  return field;
}

/** Case-insensitive lookups, as the API resolves object and field names. */
export function findSObject(schema: Map<SObjectName, SObjectDef>, name: string): SObjectDef | undefined {
  const lower = name.toLowerCase();
  for (const def of schema.values()) {
    if (def.name.toLowerCase() === lower) return def;
  }
  return undefined;
}

export function findField(def: SObjectDef, name: string): FieldDef | undefined {
  const lower = name.toLowerCase();
  return def.fields.find((f) => f.name.toLowerCase() === lower);
}

export function sobjectForId(schema: Map<SObjectName, SObjectDef>, id: string): SObjectDef | undefined {
  const prefix = id.slice(0, 3);
  for (const def of schema.values()) {
    if (def.keyPrefix === prefix) return def;
  }
  return undefined;
}
