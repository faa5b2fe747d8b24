/** The portal's wire shapes: CRM objects with their associations, v4 association results, properties, pipelines. */
import {
  associationType,
  DEAL_STAGES,
  DEFAULT_PIPELINE,
  findObjectType,
  type ObjectType,
  type ObjectTypeDef,
  type PropertyDef,
} from './schema';
import { associationTypeName, type CrmObject, type CrmStore, selectProperties } from './store';

export function present(
  store: CrmStore,
  def: ObjectTypeDef,
  object: CrmObject,
  requested: string[] | undefined,
  associationTypes?: string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: object.id,
    properties: selectProperties(def, object, requested),
    createdAt: object.createdAt,
    updatedAt: object.updatedAt,
    archived: object.archived,
    ...(object.archivedAt ? { archivedAt: object.archivedAt } : {}),
  };
  if (associationTypes && associationTypes.length > 0) {
    const associations: Record<string, unknown> = {};
    for (const name of associationTypes) {
      const toDef = findObjectType(store.schema, name);
      if (!toDef) continue;
      const results = store
        .associations(def.name, object.id, toDef.name)
        .flatMap(({ toId, typeIds }) =>
          typeIds.map((typeId) => ({ id: toId, type: associationTypeName(typeId) })),
        );
      // Types with nothing associated are left out rather than listed empty.
      if (results.length > 0) associations[toDef.associationKey] = { results };
    }
    if (Object.keys(associations).length > 0) out.associations = associations;
  }
  return out;
}

/** What create and update answer: the object with every property that has a value. */
export function presentWritten(
  store: CrmStore,
  def: ObjectTypeDef,
  object: CrmObject,
): Record<string, unknown> {
  const set = Object.keys(object.properties).filter((name) => object.properties[name] !== null);
  return present(store, def, object, set);
}

export function v4Results(store: CrmStore, from: ObjectType, fromId: string, to: ObjectType) {
  return store.associations(from, fromId, to).map(({ toId, typeIds }) => ({
    toObjectId: Number(toId),
    associationTypes: typeIds.map((typeId) => ({
      category: 'HUBSPOT_DEFINED',
      typeId,
      label: associationType(typeId)?.label ?? null,
    })),
  }));
}

/** A property as the properties API shows it. */
export const renderProperty = (p: PropertyDef) => ({
  name: p.name,
  label: p.label,
  type: p.type,
  fieldType: p.fieldType,
  groupName: p.groupName,
  description: '',
  options: (p.options ?? []).map((o, i) => ({ ...o, displayOrder: i, hidden: false })),
  hasUniqueValue: p.hasUniqueValue === true,
  hidden: false,
  formField: !p.readOnly,
  calculated: p.readOnly === true,
  modificationMetadata: {
    archivable: p.custom === true,
    readOnlyDefinition: p.custom !== true,
    readOnlyValue: p.readOnly === true,
  },
});

/** The one deal pipeline the portal has, with its stages. */
export function renderPipeline() {
  const now = new Date(0).toISOString();
  return {
    id: DEFAULT_PIPELINE,
    label: 'Sales Pipeline',
    displayOrder: 0,
    archived: false,
    createdAt: now,
    updatedAt: now,
    stages: DEAL_STAGES.map((stage, i) => ({
      id: stage.id,
      label: stage.label,
      displayOrder: i,
      archived: false,
      createdAt: now,
      updatedAt: now,
      metadata: { isClosed: String(stage.closed), probability: stage.probability },
    })),
  };
}
