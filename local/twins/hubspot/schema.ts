/**
 * The slice of a HubSpot portal's schema the twin knows: the CRM objects of quote-to-cash with their
 * standard properties, the default deal pipeline and HubSpot-defined association types. Properties the
 * portal does not have are rejected, as HubSpot rejects them; custom ones are declared up front or
 * created through the properties API.
 */

export type PropertyType = 'string' | 'number' | 'datetime' | 'date' | 'enumeration' | 'bool';

export interface PropertyDef {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: string;
  groupName: string;
  readOnly?: boolean;
  options?: Array<{ label: string; value: string }>;
  hasUniqueValue?: boolean;
  custom?: boolean;
}

export const OBJECT_TYPES = ['contacts', 'companies', 'deals', 'products', 'line_items'] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];

export interface ObjectTypeDef {
  name: ObjectType;
  /** `0-3` for deals, etc.; the API accepts it wherever a type name goes. */
  objectTypeId: string;
  /** As used in webhook subscription types (`deal.propertyChange`) and association labels. */
  singular: string;
  /** The key under `associations` in v3 object responses; HubSpot spells line items with a space. */
  associationKey: string;
  /** Returned when a read names no properties. */
  defaultProperties: readonly string[];
  properties: PropertyDef[];
}

export const DEAL_STAGES: ReadonlyArray<{
  id: string;
  label: string;
  probability: string;
  closed: boolean;
  won: boolean;
}> = [
  {
    id: 'appointmentscheduled',
    label: 'Appointment Scheduled',
    probability: '0.2',
    closed: false,
    won: false,
  },
  { id: 'qualifiedtobuy', label: 'Qualified To Buy', probability: '0.4', closed: false, won: false },
  {
    id: 'presentationscheduled',
    label: 'Presentation Scheduled',
    probability: '0.6',
    closed: false,
    won: false,
  },
  {
    id: 'decisionmakerboughtin',
    label: 'Decision Maker Bought-In',
    probability: '0.8',
    closed: false,
    won: false,
  },
  { id: 'contractsent', label: 'Contract Sent', probability: '0.9', closed: false, won: false },
  { id: 'closedwon', label: 'Closed Won', probability: '1.0', closed: true, won: true },
  { id: 'closedlost', label: 'Closed Lost', probability: '0.0', closed: true, won: false },
];
export const DEFAULT_PIPELINE = 'default';

/** Always returned, whatever properties a read asks for. */
export const ALWAYS_RETURNED = ['createdate', 'hs_lastmodifieddate', 'hs_object_id'] as const;

const p = (name: string, type: PropertyType, extra: Partial<PropertyDef> = {}): PropertyDef => ({
  name,
  label: name,
  type,
  fieldType:
    type === 'number'
      ? 'number'
      : type === 'datetime' || type === 'date'
        ? 'date'
        : type === 'enumeration'
          ? 'select'
          : type === 'bool'
            ? 'booleancheckbox'
            : 'text',
  groupName: 'default',
  ...extra,
});
const ro = (name: string, type: PropertyType): PropertyDef => p(name, type, { readOnly: true });

const system = (): PropertyDef[] => [
  ro('hs_object_id', 'number'),
  ro('createdate', 'datetime'),
  ro('hs_lastmodifieddate', 'datetime'),
];

export type CustomPropertySpec =
  | string
  | { name: string; type?: PropertyType; label?: string; hasUniqueValue?: boolean; options?: string[] };

export type CustomProperties = Partial<Record<ObjectType, readonly CustomPropertySpec[]>>;

export function buildSchema(custom: CustomProperties = {}): Map<ObjectType, ObjectTypeDef> {
  const defs: ObjectTypeDef[] = [
    {
      name: 'contacts',
      objectTypeId: '0-1',
      singular: 'contact',
      associationKey: 'contacts',
      defaultProperties: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
      properties: [
        ...system(),
        ro('lastmodifieddate', 'datetime'),
        p('email', 'string', { hasUniqueValue: true }),
        p('firstname', 'string'),
        p('lastname', 'string'),
        p('phone', 'string'),
        p('company', 'string'),
        p('jobtitle', 'string'),
      ],
    },
    {
      name: 'companies',
      objectTypeId: '0-2',
      singular: 'company',
      associationKey: 'companies',
      defaultProperties: ['createdate', 'domain', 'hs_lastmodifieddate', 'hs_object_id', 'name'],
      properties: [
        ...system(),
        p('name', 'string'),
        p('domain', 'string'),
        p('address', 'string'),
        p('address2', 'string'),
        p('city', 'string'),
        p('state', 'string'),
        p('zip', 'string'),
        p('country', 'string'),
        p('phone', 'string'),
        p('industry', 'enumeration'),
        p('description', 'string'),
        p('annualrevenue', 'number'),
        p('numberofemployees', 'number'),
        p('hubspot_owner_id', 'enumeration'),
      ],
    },
    {
      name: 'deals',
      objectTypeId: '0-3',
      singular: 'deal',
      associationKey: 'deals',
      defaultProperties: [
        'amount',
        'closedate',
        'createdate',
        'dealname',
        'dealstage',
        'hs_lastmodifieddate',
        'hs_object_id',
        'pipeline',
      ],
      properties: [
        ...system(),
        p('dealname', 'string'),
        p('amount', 'number'),
        p('closedate', 'datetime'),
        p('dealstage', 'enumeration', {
          options: DEAL_STAGES.map((s) => ({ label: s.label, value: s.id })),
        }),
        p('pipeline', 'enumeration', { options: [{ label: 'Sales Pipeline', value: DEFAULT_PIPELINE }] }),
        p('dealtype', 'enumeration', {
          options: [
            { label: 'New Business', value: 'newbusiness' },
            { label: 'Existing Business', value: 'existingbusiness' },
          ],
        }),
        p('description', 'string'),
        p('deal_currency_code', 'enumeration'),
        p('hubspot_owner_id', 'enumeration'),
        p('hs_priority', 'enumeration'),
        ro('hs_deal_stage_probability', 'number'),
        ro('hs_is_closed', 'bool'),
        ro('hs_is_closed_won', 'bool'),
      ],
    },
    {
      name: 'products',
      objectTypeId: '0-7',
      singular: 'product',
      associationKey: 'products',
      defaultProperties: [
        'createdate',
        'description',
        'hs_lastmodifieddate',
        'hs_object_id',
        'name',
        'price',
      ],
      properties: [
        ...system(),
        p('name', 'string'),
        p('description', 'string'),
        p('price', 'number'),
        p('hs_sku', 'string'),
        p('hs_cost_of_goods_sold', 'number'),
        p('recurringbillingfrequency', 'enumeration'),
        p('hs_recurring_billing_period', 'string'),
      ],
    },
    {
      name: 'line_items',
      objectTypeId: '0-8',
      singular: 'line_item',
      associationKey: 'line items',
      defaultProperties: ['createdate', 'hs_lastmodifieddate', 'hs_object_id', 'name', 'price', 'quantity'],
      properties: [
        ...system(),
        p('name', 'string'),
        p('description', 'string'),
        p('quantity', 'number'),
        p('price', 'number'),
        ro('amount', 'number'),
        p('discount', 'number'),
        p('hs_discount_percentage', 'number'),
        p('hs_product_id', 'string'),
        p('hs_sku', 'string'),
        p('hs_line_item_currency_code', 'enumeration'),
        p('recurringbillingfrequency', 'enumeration'),
        p('hs_recurring_billing_period', 'string'),
        p('hs_recurring_billing_start_date', 'date'),
      ],
    },
  ];
  const schema = new Map<ObjectType, ObjectTypeDef>();
  for (const def of defs) {
    for (const spec of custom[def.name] ?? []) def.properties.push(customProperty(spec));
    schema.set(def.name, def);
  }
  return schema;
}

export function customProperty(spec: CustomPropertySpec): PropertyDef {
  const s = typeof spec === 'string' ? { name: spec } : spec;
  if (!/^[a-z][a-z0-9_]*$/.test(s.name)) {
    throw new Error(`custom property name ${s.name} must be lower case letters, digits and underscores`);
  }
  return p(s.name, s.type ?? 'string', {
    label: s.label ?? s.name,
    custom: true,
    groupName: 'revbridge',
    ...(s.hasUniqueValue ? { hasUniqueValue: true } : {}),
    ...(s.options ? { options: s.options.map((value) => ({ label: value, value })) } : {}),
  });
}

export function findObjectType(
  schema: Map<ObjectType, ObjectTypeDef>,
  name: string,
): ObjectTypeDef | undefined {
  const lower = name.toLowerCase();
  for (const def of schema.values()) {
    // Singular names and object type ids are accepted in paths as well.
    if (def.name === lower || def.objectTypeId === lower || def.singular === lower) return def;
  }
  return undefined;
}

export interface AssociationTypeDef {
  id: number;
  from: ObjectType;
  to: ObjectType;
  /** Shown as `type` in v3 association lists. */
  name: string;
  /** v4 label: `Primary` for the primary company, null otherwise. */
  label: string | null;
  inverse: number;
  /** Creating a labelled association also creates the unlabeled one. */
  implies?: number;
}

/**
 * HubSpot-defined association type ids for the pairs quote-to-cash uses.
 * https://developers.hubspot.com/docs/api-reference/crm-associations-v4/guide#association-type-id-values
 */
export const ASSOCIATION_TYPES: readonly AssociationTypeDef[] = [
  {
    id: 1,
    from: 'contacts',
    to: 'companies',
    name: 'contact_to_company',
    label: 'Primary',
    inverse: 2,
    implies: 279,
  },
  {
    id: 2,
    from: 'companies',
    to: 'contacts',
    name: 'company_to_contact',
    label: 'Primary',
    inverse: 1,
    implies: 280,
  },
  {
    id: 279,
    from: 'contacts',
    to: 'companies',
    name: 'contact_to_company_unlabeled',
    label: null,
    inverse: 280,
  },
  {
    id: 280,
    from: 'companies',
    to: 'contacts',
    name: 'company_to_contact_unlabeled',
    label: null,
    inverse: 279,
  },
  { id: 3, from: 'deals', to: 'contacts', name: 'deal_to_contact', label: null, inverse: 4 },
  { id: 4, from: 'contacts', to: 'deals', name: 'contact_to_deal', label: null, inverse: 3 },
  {
    id: 5,
    from: 'deals',
    to: 'companies',
    name: 'deal_to_company',
    label: 'Primary',
    inverse: 6,
    implies: 341,
  },
  {
    id: 6,
    from: 'companies',
    to: 'deals',
    name: 'company_to_deal',
    label: 'Primary',
    inverse: 5,
    implies: 342,
  },
  { id: 341, from: 'deals', to: 'companies', name: 'deal_to_company_unlabeled', label: null, inverse: 342 },
  { id: 342, from: 'companies', to: 'deals', name: 'company_to_deal_unlabeled', label: null, inverse: 341 },
  { id: 19, from: 'deals', to: 'line_items', name: 'deal_to_line_item', label: null, inverse: 20 },
  { id: 20, from: 'line_items', to: 'deals', name: 'line_item_to_deal', label: null, inverse: 19 },
];

/** The unlabeled ("default") type for a pair, which `associations/default` creates. */
export function defaultAssociationType(from: ObjectType, to: ObjectType): AssociationTypeDef | undefined {
  return ASSOCIATION_TYPES.find((t) => t.from === from && t.to === to && t.label === null);
}

export function associationType(id: number): AssociationTypeDef | undefined {
  return ASSOCIATION_TYPES.find((t) => t.id === id);
}
