import { badRequest, HubSpotApiError, objectNotFound, propertyError, validationError } from './errors';
import {
  ALWAYS_RETURNED,
  ASSOCIATION_TYPES,
  type AssociationTypeDef,
  associationType,
  buildSchema,
  type CustomProperties,
  type CustomPropertySpec,
  customProperty,
  DEAL_STAGES,
  DEFAULT_PIPELINE,
  type ObjectType,
  type ObjectTypeDef,
  type PropertyDef,
} from './schema';

export interface CrmObject {
  id: string;
  type: ObjectType;
  /** Every value is a string (or null), as the API returns them. */
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

export interface PropertyChange {
  type: ObjectType;
  objectId: string;
  propertyName: string;
  value: string | null;
  /** True when the change came with the object's creation. */
  creation: boolean;
}

export interface AssociationInput {
  to: { id: string };
  types: Array<{ associationCategory?: string; associationTypeId: number }>;
}

interface Edge {
  fromType: ObjectType;
  fromId: string;
  toType: ObjectType;
  toId: string;
  typeId: number;
}

/**
 * HubSpot datetimes: ISO 8601 in UTC, with milliseconds unless they are zero (a date picked in the UI
 * comes back as `2025-08-10T00:00:00Z`).
 */
export function hubSpotDateTime(date: Date): string {
  const iso = date.toISOString();
  return iso.endsWith('.000Z') ? iso.replace('.000Z', 'Z') : iso;
}

/**
 * The portal's CRM data: objects with string properties validated against the schema, the derived
 * properties HubSpot computes (deal stage flags, line item amount), archiving and associations.
 */
export class CrmStore {
  readonly schema: Map<ObjectType, ObjectTypeDef>;
  private readonly objects = new Map<ObjectType, Map<string, CrmObject>>();
  private readonly edges = new Map<string, Edge>();
  private nextId: number;

  constructor(options: { customProperties?: CustomProperties; firstId?: number } = {}) {
    this.schema = buildSchema(options.customProperties);
    for (const name of this.schema.keys()) this.objects.set(name, new Map());
    this.nextId = options.firstId ?? 10_000_000_001;
  }

  def(type: ObjectType): ObjectTypeDef {
    const def = this.schema.get(type);
    if (!def) throw new Error(`unknown object type ${type}`);
    return def;
  }

  table(type: ObjectType): Map<string, CrmObject> {
    const table = this.objects.get(type);
    if (!table) throw new Error(`unknown object type ${type}`);
    return table;
  }

  get(type: ObjectType, id: string, archived = false): CrmObject | undefined {
    const object = this.table(type).get(id);
    if (!object || object.archived !== archived) return undefined;
    return structuredClone(object);
  }

  mustGet(type: ObjectType, id: string, archived = false): CrmObject {
    const object = this.get(type, id, archived);
    if (!object) throw objectNotFound(id);
    return object;
  }

  /** Objects in id order (the order list pages follow). */
  list(type: ObjectType, archived = false): CrmObject[] {
    return [...this.table(type).values()]
      .filter((o) => o.archived === archived)
      .sort((a, b) => Number(a.id) - Number(b.id))
      .map((o) => structuredClone(o));
  }

  findByProperty(type: ObjectType, name: string, value: string): CrmObject | undefined {
    if (name === 'hs_object_id') return this.get(type, value);
    return this.list(type).find((o) => o.properties[name] === value);
  }

  addProperty(type: ObjectType, spec: CustomPropertySpec): PropertyDef {
    const def = this.def(type);
    const property = customProperty(spec);
    if (def.properties.some((p) => p.name === property.name)) {
      throw new HubSpotApiError(
        409,
        'OBJECT_ALREADY_EXISTS',
        `Property named '${property.name}' already exists.`,
      );
    }
    def.properties.push(property);
    return property;
  }

  create(
    type: ObjectType,
    input: unknown,
    associations: AssociationInput[] = [],
  ): { object: CrmObject; changes: PropertyChange[] } {
    const def = this.def(type);
    const values = this.validate(def, input, undefined);
    for (const association of associations) this.checkAssociation(type, association);
    const id = String(this.nextId++);
    const now = new Date();
    const properties: Record<string, string | null> = {};
    for (const property of def.properties) properties[property.name] = null;
    Object.assign(properties, values, {
      hs_object_id: id,
      createdate: hubSpotDateTime(now),
      hs_lastmodifieddate: hubSpotDateTime(now),
    });
    if (type === 'contacts') properties.lastmodifieddate = properties.hs_lastmodifieddate ?? null;
    this.derive(def, properties, undefined);
    const object: CrmObject = {
      id,
      type,
      properties,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      archived: false,
    };
    this.table(type).set(id, object);
    for (const association of associations) {
      this.associate(
        type,
        id,
        association.to.id,
        association.types.map((t) => t.associationTypeId),
      );
    }
    const changes = Object.entries(properties)
      .filter(([, value]) => value !== null)
      .map(([propertyName, value]) => ({ type, objectId: id, propertyName, value, creation: true }));
    return { object: structuredClone(object), changes };
  }

  update(type: ObjectType, id: string, input: unknown): { object: CrmObject; changes: PropertyChange[] } {
    const def = this.def(type);
    const object = this.table(type).get(id);
    if (!object || object.archived) throw objectNotFound(id);
    const values = this.validate(def, input, id);
    const before = { ...object.properties };
    Object.assign(object.properties, values);
    this.derive(def, object.properties, before);
    const changes: PropertyChange[] = [];
    for (const [name, value] of Object.entries(object.properties)) {
      if (before[name] !== value)
        changes.push({ type, objectId: id, propertyName: name, value, creation: false });
    }
    if (changes.length > 0) {
      const now = new Date();
      object.properties.hs_lastmodifieddate = hubSpotDateTime(now);
      if (type === 'contacts') object.properties.lastmodifieddate = object.properties.hs_lastmodifieddate;
      object.updatedAt = now.toISOString();
    }
    return { object: structuredClone(object), changes };
  }

  archive(type: ObjectType, id: string): void {
    const object = this.table(type).get(id);
    // Archiving something already archived or unknown is a no-op with 204, as in HubSpot.
    if (!object || object.archived) return;
    object.archived = true;
    object.archivedAt = new Date().toISOString();
  }

  /** Associates two records with the given type ids (and their inverses and implied unlabeled types). */
  associate(fromType: ObjectType, fromId: string, toId: string, typeIds: number[]): AssociationTypeDef[] {
    const created: AssociationTypeDef[] = [];
    for (const typeId of typeIds) {
      const def = associationType(typeId);
      if (!def || def.from !== fromType) {
        throw badRequest(`${typeId} is not a valid association type id from ${fromType}`);
      }
      this.mustGet(def.to, toId);
      for (const t of [def, ...(def.implies === undefined ? [] : [associationType(def.implies)])]) {
        if (!t) continue;
        this.addEdge({ fromType: t.from, fromId, toType: t.to, toId, typeId: t.id });
        this.addEdge({ fromType: t.to, fromId: toId, toType: t.from, toId: fromId, typeId: t.inverse });
        created.push(t);
      }
    }
    return created;
  }

  /** Removes every association between two records, both directions. */
  disassociate(fromType: ObjectType, fromId: string, toType: ObjectType, toId: string): void {
    for (const [key, edge] of this.edges) {
      const forward =
        edge.fromType === fromType && edge.fromId === fromId && edge.toType === toType && edge.toId === toId;
      const backward =
        edge.fromType === toType && edge.fromId === toId && edge.toType === fromType && edge.toId === fromId;
      if (forward || backward) this.edges.delete(key);
    }
  }

  /** Associated records of one type, by id, with the type ids that link them. */
  associations(
    fromType: ObjectType,
    fromId: string,
    toType: ObjectType,
  ): Array<{ toId: string; typeIds: number[] }> {
    const byTarget = new Map<string, number[]>();
    for (const edge of this.edges.values()) {
      if (edge.fromType !== fromType || edge.fromId !== fromId || edge.toType !== toType) continue;
      if (!this.get(toType, edge.toId)) continue;
      byTarget.set(edge.toId, [...(byTarget.get(edge.toId) ?? []), edge.typeId]);
    }
    return [...byTarget]
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([toId, typeIds]) => ({ toId, typeIds: typeIds.sort((a, b) => a - b) }));
  }

  private addEdge(edge: Edge): void {
    this.edges.set(`${edge.fromType}:${edge.fromId}:${edge.typeId}:${edge.toId}`, edge);
  }

  private checkAssociation(fromType: ObjectType, association: AssociationInput): void {
    if (!association?.to || typeof association.to.id !== 'string' || !Array.isArray(association.types)) {
      throw badRequest('Invalid input JSON on line 1: associations need "to.id" and "types"');
    }
    for (const t of association.types) {
      const def = associationType(Number(t.associationTypeId));
      if (!def || def.from !== fromType) {
        throw badRequest(
          `${String(t.associationTypeId)} is not a valid association type id from ${fromType}`,
        );
      }
      if (!this.get(def.to, association.to.id)) {
        throw badRequest(
          `One or more associations are invalid: ${def.to} ${association.to.id} does not exist`,
        );
      }
    }
  }

  /** Validates `properties` and returns them as the strings HubSpot stores. */
  private validate(
    def: ObjectTypeDef,
    input: unknown,
    existingId: string | undefined,
  ): Record<string, string | null> {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw badRequest('Invalid input JSON: properties must be an object');
    }
    const errors = [];
    const out: Record<string, string | null> = {};
    for (const [name, raw] of Object.entries(input)) {
      const property = def.properties.find((p) => p.name === name);
      if (!property) {
        errors.push(propertyError(name, 'PROPERTY_DOESNT_EXIST', `Property "${name}" does not exist`));
        continue;
      }
      if (property.readOnly) {
        errors.push(
          propertyError(
            name,
            'READ_ONLY_VALUE',
            `"${name}" is a read only property; its value cannot be set.`,
          ),
        );
        continue;
      }
      const result = coerce(property, raw);
      if ('error' in result) {
        errors.push(propertyError(name, result.error, result.message));
        continue;
      }
      out[name] = result.value;
    }
    if (errors.length > 0) throw validationError(errors);
    for (const property of def.properties) {
      const value = out[property.name];
      if (!property.hasUniqueValue || value === undefined || value === null) continue;
      const clash = this.list(def.name).find(
        (o) => o.id !== existingId && o.properties[property.name] === value,
      );
      if (clash) {
        throw new HubSpotApiError(
          409,
          'CONFLICT',
          `A ${def.singular} with ${property.name} '${value}' already exists. Existing ID: ${clash.id}`,
        );
      }
    }
    return out;
  }

  private derive(
    def: ObjectTypeDef,
    properties: Record<string, string | null>,
    before: Record<string, string | null> | undefined,
  ): void {
    if (def.name === 'deals') {
      properties.pipeline ??= DEFAULT_PIPELINE;
      properties.dealstage ??= DEAL_STAGES[0]?.id ?? null;
      const stage = DEAL_STAGES.find((s) => s.id === properties.dealstage);
      if (stage) {
        properties.hs_is_closed = String(stage.closed);
        properties.hs_is_closed_won = String(stage.won);
        properties.hs_deal_stage_probability = stage.probability;
        // Moving a deal to a closed stage stamps the close date when none was set.
        if (stage.closed && properties.closedate === null && before?.dealstage !== properties.dealstage) {
          properties.closedate = hubSpotDateTime(new Date());
        }
      }
    }
    if (def.name === 'line_items') {
      if (!before && properties.hs_product_id) {
        const product = this.get('products', properties.hs_product_id);
        if (!product) {
          throw validationError([
            propertyError(
              'hs_product_id',
              'INVALID_OBJECT_ID',
              `Product with ID ${properties.hs_product_id} does not exist`,
            ),
          ]);
        }
        // A line item made from a product starts as a copy of the product's properties.
        for (const name of [
          'name',
          'price',
          'description',
          'hs_sku',
          'recurringbillingfrequency',
          'hs_recurring_billing_period',
        ]) {
          if (properties[name] === null || properties[name] === undefined) {
            properties[name] = product.properties[name] ?? null;
          }
        }
      }
      const quantity = Number(properties.quantity ?? 1);
      const price = Number(properties.price ?? 0);
      const percent = Number(properties.hs_discount_percentage ?? 0);
      const discount = Number(properties.discount ?? 0);
      const amount = quantity * price * (1 - percent / 100) - discount * quantity;
      properties.amount = Number.isFinite(amount) ? amount.toFixed(2) : null;
    }
  }
}

export function associationTypeName(typeId: number): string {
  return ASSOCIATION_TYPES.find((t) => t.id === typeId)?.name ?? String(typeId);
}

/** Which properties a read returns: the asked-for ones (known ones only) plus the always-returned ones. */
export function selectProperties(
  def: ObjectTypeDef,
  object: CrmObject,
  requested: string[] | undefined,
): Record<string, string | null> {
  const names =
    requested && requested.length > 0 ? [...requested, ...ALWAYS_RETURNED] : [...def.defaultProperties];
  const out: Record<string, string | null> = {};
  for (const name of [...new Set(names)].sort()) {
    // Unknown names are ignored on reads rather than rejected.
    if (!def.properties.some((p) => p.name === name)) continue;
    out[name] = object.properties[name] ?? null;
  }
  return out;
}

function coerce(
  property: PropertyDef,
  raw: unknown,
): { value: string | null } | { error: string; message: string } {
  if (raw === null || raw === '') return { value: null };
  if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
    return {
      error: 'INVALID_PROPERTY_VALUE',
      message: `${JSON.stringify(raw)} is not a valid value for ${property.name}`,
    };
  }
  const text = String(raw).trim();
  switch (property.type) {
    case 'number':
      return text !== '' && Number.isFinite(Number(text))
        ? { value: text }
        : { error: 'INVALID_DECIMAL', message: `${text} was not a valid number.` };
    case 'bool':
      return text === 'true' || text === 'false'
        ? { value: text }
        : { error: 'INVALID_BOOLEAN', message: `${text} was not a valid boolean.` };
    case 'datetime':
    case 'date': {
      const date = /^\d+$/.test(text) ? new Date(Number(text)) : new Date(text);
      if (Number.isNaN(date.getTime())) {
        return { error: 'INVALID_DATE', message: `${text} was not a valid date or date-time.` };
      }
      if (property.type === 'date') {
        if (
          date.getUTCHours() + date.getUTCMinutes() + date.getUTCSeconds() + date.getUTCMilliseconds() !==
          0
        ) {
          return {
            error: 'INVALID_DATE',
            message: `${text} is not midnight UTC; date properties take midnight UTC.`,
          };
        }
        return { value: date.toISOString().slice(0, 10) };
      }
      return { value: hubSpotDateTime(date) };
    }
    case 'enumeration': {
      if (
        property.options &&
        property.options.length > 0 &&
        !property.options.some((o) => o.value === text)
      ) {
        const allowed = property.options.map((o) => o.value).join(', ');
        return {
          error: 'INVALID_OPTION',
          message: `${text} was not one of the allowed options: [${allowed}]`,
        };
      }
      return { value: text };
    }
    default:
      return { value: text };
  }
}
