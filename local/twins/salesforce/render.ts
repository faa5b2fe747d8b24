/**
 * The org's wire shapes: records as the REST API returns them, sObject summaries and describes, the API
 * version and resource lists, and a rolled-back collection result.
 */
import { SalesforceApiError } from './errors';
import { findField, type SObjectDef } from './schema';
import type { SRecord } from './store';

/** The version the twin advertises as latest; older versions down to 31.0 are served too. */
export const SALESFORCE_API_VERSION = '62.0';
export const MIN_API_VERSION = 31;

export function recordUrl(version: string, type: string, id: string): string {
  return `/services/data/v${version}/sobjects/${type}/${id}`;
}

/** A record as `GET /sobjects/<type>/<id>` returns it: attributes, then the fields asked for (or all). */
export function present(
  def: SObjectDef,
  record: SRecord,
  version: string,
  fields?: string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    attributes: { type: def.name, url: recordUrl(version, def.name, String(record.Id)) },
  };
  if (fields) {
    const wanted = ['Id', ...fields];
    for (const name of wanted) {
      const field = findField(def, name);
      if (!field) {
        throw new SalesforceApiError(
          400,
          'INVALID_FIELD',
          `No such column '${name}' on sobject of type ${def.name}`,
        );
      }
      out[field.name] = record[field.name] ?? null;
    }
    return out;
  }
  for (const field of def.fields) out[field.name] = record[field.name] ?? null;
  return out;
}

export function rolledBack(id: string | undefined): Record<string, unknown> {
  return {
    ...(id === undefined ? {} : { id }),
    success: false,
    errors: [
      {
        statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
        message:
          'Record rolled back because not all records were valid and the request was using AllOrNone header',
        fields: [],
      },
    ],
  };
}

export function sobjectSummary(def: SObjectDef, version: string) {
  const base = `/services/data/v${version}/sobjects/${def.name}`;
  return {
    name: def.name,
    label: def.label,
    labelPlural: def.labelPlural,
    keyPrefix: def.keyPrefix,
    custom: false,
    createable: true,
    updateable: true,
    deletable: true,
    queryable: true,
    retrieveable: true,
    urls: { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` },
  };
}

/** A minimal describe: what jsforce and field-mapping code read (names, types, permissions, references). */
export function describe(def: SObjectDef, version: string) {
  return {
    ...sobjectSummary(def, version),
    fields: def.fields.map((f) => ({
      name: f.name,
      label: f.label,
      type: f.type,
      custom: f.custom === true,
      nillable: f.nillable,
      createable: f.createable,
      updateable: f.updateable,
      externalId: f.externalId === true,
      idLookup: f.name === 'Id' || f.externalId === true,
      calculated:
        !f.createable &&
        !f.updateable &&
        ![
          'Id',
          'CreatedDate',
          'CreatedById',
          'LastModifiedDate',
          'LastModifiedById',
          'SystemModstamp',
          'IsDeleted',
        ].includes(f.name),
      defaultedOnCreate: !f.nillable && !f.required,
      referenceTo: f.referenceTo ? [f.referenceTo] : [],
      relationshipName: f.relationshipName ?? null,
      picklistValues: (f.picklistValues ?? []).map((value) => ({
        value,
        label: value,
        active: true,
        defaultValue: false,
      })),
    })),
    childRelationships: def.childRelationships.map((c) => ({
      childSObject: c.childSObject,
      field: c.field,
      relationshipName: c.relationshipName,
      cascadeDelete: c.childSObject === 'OpportunityLineItem',
    })),
  };
}

export function versions() {
  const list = [];
  for (let v = MIN_API_VERSION; v <= Number.parseInt(SALESFORCE_API_VERSION, 10); v++) {
    list.push({ label: `v${v}.0`, url: `/services/data/v${v}.0`, version: `${v}.0` });
  }
  return list;
}

export function resources(version: string) {
  const base = `/services/data/v${version}`;
  return {
    sobjects: `${base}/sobjects`,
    query: `${base}/query`,
    queryAll: `${base}/queryAll`,
    composite: `${base}/composite`,
    limits: `${base}/limits`,
  };
}
