import * as z from 'zod/mini';
import {
  type CrmClient,
  type Deal,
  type DealFieldWriter,
  type DealWriteBack,
  dealSchema,
} from '../../domain/deal';
import { describeIssues } from '../../domain/events';
import { toMinorUnits } from '../../domain/money';
import type { ReconciliationWindow, WonDealPage } from '../../domain/reconciliation';
import { httpError, PermanentError } from '../../shared/errors';
import { sendWithBearer } from '../bearer-request';
import { isRecordId } from './record-id';

/**
 * The CRM side of the saga for Salesforce, on the REST API with `fetch`.
 *
 * Not `jsforce`: measured with esbuild (--bundle --minify --format=esm --platform=node), a function
 * that queries and updates through `jsforce` 3.9 is 1311 KB (747 KB importing only
 * `jsforce/lib/connection`); with this client it is 37 KB, of which 27 KB is `zod/mini` (shared with
 * the rest of the function) and 6 KB the client. One SOQL query and one PATCH do not justify about
 * 40 ms more cold start (ARCHITECTURE.md: ~30 ms per MB).
 */

/** Opportunity fields the saga writes back (and reads, to know what an earlier run already made). */
export interface SalesforceWriteBackFields {
  readonly billingCustomerId: string;
  readonly subscriptionId: string;
  readonly erpCustomerId: string;
  readonly salesOrderId: string;
  readonly status: string;
}

export const SALESFORCE_DEFAULT_WRITE_BACK_FIELDS: SalesforceWriteBackFields = {
  billingCustomerId: 'Billing_Customer_Id__c',
  subscriptionId: 'Subscription_Id__c',
  erpCustomerId: 'ERP_Customer_Id__c',
  salesOrderId: 'Sales_Order_Id__c',
  status: 'Revbridge_Status__c',
};

export interface SalesforceCrmClientOptions {
  /** `SALESFORCE_INSTANCE_URL`, e.g. `https://acme.my.salesforce.com` (no trailing slash needed). */
  readonly instanceUrl: string;
  /**
   * A bearer access token. Called again with `refresh: true` once when Salesforce answers 401 (sessions
   * expire), so a provider that mints tokens (JWT bearer flow) can skip its cache.
   */
  readonly accessToken: (options: { readonly refresh: boolean }) => Promise<string>;
  /** The org's corporate currency, used when the org is not multi-currency. */
  readonly defaultCurrency: string;
  /**
   * Multi-currency orgs have `CurrencyIsoCode` on every record; querying it in a single-currency org
   * is an INVALID_FIELD error. @default true
   */
  readonly multiCurrency?: boolean;
  /** @default '62.0' */
  readonly apiVersion?: string;
  readonly writeBackFields?: Partial<SalesforceWriteBackFields>;
  /** Account field with the tax id (VAT number, EIN). @default 'Tax_Id__c' */
  readonly accountTaxIdField?: string;
  /** Account field with the billing email; none by default (the Account object has no email field). */
  readonly accountEmailField?: string;
  /** Subsidiary routing key, as a path from the Opportunity (`Subsidiary__c`, `Account.Subsidiary__c`). */
  readonly subsidiaryField?: string;
  /** Opportunity field with the id of the opportunity this one amends (amendments and upsells). */
  readonly amendmentOfField?: string;
  /**
   * Orgs with state and country picklists hold the ISO code in `BillingCountryCode`; others hold free
   * text in `BillingCountry`, which is used only when it is a two-letter code. @default 'BillingCountry'
   */
  readonly accountCountryField?: 'BillingCountry' | 'BillingCountryCode';
  /** Per request. @default 10000 */
  readonly timeoutMs?: number;
  readonly fetchImpl?: typeof fetch;
}

/**
 * Error codes Salesforce returns on a 4xx that a retry can clear: the org's request limits (a 403,
 * Salesforce has no 429), a record locked by another transaction, a query that timed out.
 * https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
 */
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  'REQUEST_LIMIT_EXCEEDED',
  'UNABLE_TO_LOCK_ROW',
  'QUERY_TIMEOUT',
  'SERVER_UNAVAILABLE',
]);

/** A text field longer than its length is rejected (STRING_TOO_LONG); 255 is the largest Text field. */
const STATUS_MAX_LENGTH = 255;
const FIELD_PATH = /^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*$/;
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

const text = z.nullish(z.string());
const lineSchema = z.object({
  Id: z.string(),
  ProductCode: text,
  Product2: z.nullish(z.object({ ProductCode: text })),
  Quantity: z.number(),
  UnitPrice: z.number(),
});
const linesPageSchema = z.object({
  done: z.boolean(),
  nextRecordsUrl: z.optional(z.string()),
  records: z.array(lineSchema),
});
const opportunitySchema = z.object({
  Id: z.string(),
  Name: z.string(),
  StageName: z.string(),
  IsWon: z.boolean(),
  CurrencyIsoCode: text,
  LastModifiedDate: text,
  SystemModstamp: text,
  AccountId: text,
  Account: z.nullish(
    z.object({
      Name: z.string(),
      BillingStreet: text,
      BillingCity: text,
      BillingPostalCode: text,
      BillingState: text,
    }),
  ),
  // A subquery with no rows comes back as null, not as an empty page.
  OpportunityLineItems: z.nullish(linesPageSchema),
});
/** Opportunities per page of `listWonDeals`. */
const WON_DEALS_PAGE = 200;
const queryResultSchema = z.object({ records: z.array(z.record(z.string(), z.unknown())) });

type SalesforceLine = z.infer<typeof lineSchema>;

export class SalesforceCrmClient implements CrmClient, DealFieldWriter {
  private readonly fields: SalesforceWriteBackFields;
  private readonly dataPath: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: SalesforceCrmClientOptions) {
    this.fields = { ...SALESFORCE_DEFAULT_WRITE_BACK_FIELDS, ...options.writeBackFields };
    // Field names go into SOQL: only API names and relationship paths are accepted.
    const configured = [
      ...Object.values(this.fields),
      options.accountTaxIdField,
      options.accountEmailField,
      options.subsidiaryField,
      options.amendmentOfField,
    ];
    for (const name of configured) {
      if (name !== undefined && !FIELD_PATH.test(name)) {
        throw new Error(`Salesforce field name ${JSON.stringify(name)} is not an API name`);
      }
    }
    this.dataPath = `/services/data/v${options.apiVersion ?? '62.0'}`;
    this.fetchImpl = options.fetchImpl ?? fetch;
  }

  async getDeal(dealId: string): Promise<Deal | null> {
    if (!isRecordId(dealId)) {
      throw new PermanentError('deal id is not a Salesforce record id', { code: 'InvalidDealId' });
    }
    const response = await this.send(
      'query Opportunity',
      'GET',
      `${this.dataPath}/query?q=${encodeURIComponent(this.soql(dealId))}`,
    );
    const result = parse(queryResultSchema, await response.json(), 'query result');
    const raw = result.records[0];
    if (!raw) return null;
    const opportunity = parse(opportunitySchema, raw, 'Opportunity');
    const lines = [...(opportunity.OpportunityLineItems?.records ?? [])];
    let next =
      opportunity.OpportunityLineItems?.done === false
        ? opportunity.OpportunityLineItems.nextRecordsUrl
        : undefined;
    while (next) {
      const page = parse(
        linesPageSchema,
        await (await this.send('query more lines', 'GET', next)).json(),
        'OpportunityLineItems',
      );
      lines.push(...page.records);
      next = page.done ? undefined : page.nextRecordsUrl;
    }
    return this.toDeal(opportunity, raw, lines);
  }

  async writeBack(dealId: string, values: DealWriteBack): Promise<void> {
    if (!isRecordId(dealId)) {
      throw new PermanentError('deal id is not a Salesforce record id', { code: 'InvalidDealId' });
    }
    const body: Record<string, string> = { [this.fields.status]: values.status.slice(0, STATUS_MAX_LENGTH) };
    if (values.billingCustomerId !== undefined)
      body[this.fields.billingCustomerId] = values.billingCustomerId;
    if (values.subscriptionId !== undefined) body[this.fields.subscriptionId] = values.subscriptionId;
    if (values.erpCustomerId !== undefined) body[this.fields.erpCustomerId] = values.erpCustomerId;
    if (values.salesOrderId !== undefined) body[this.fields.salesOrderId] = values.salesOrderId;
    await this.send('update Opportunity', 'PATCH', `${this.dataPath}/sobjects/Opportunity/${dealId}`, body);
  }

  /**
   * Sets fields on an Account (`null` clears one). Names are checked to be API names: they come from
   * configuration, and an unknown one is Salesforce's INVALID_FIELD (permanent).
   */
  async updateAccount(
    accountId: string,
    fields: Readonly<Record<string, string | number | null>>,
  ): Promise<void> {
    if (!isRecordId(accountId)) {
      throw new PermanentError('account id is not a Salesforce record id', { code: 'InvalidAccountId' });
    }
    for (const name of Object.keys(fields)) {
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) {
        throw new PermanentError('Account field name is not an API name', { code: 'InvalidFieldName' });
      }
    }
    await this.send('update Account', 'PATCH', `${this.dataPath}/sobjects/Account/${accountId}`, fields);
  }

  async writeDealFields(dealId: string, fields: Readonly<Record<string, string | number>>): Promise<void> {
    if (!isRecordId(dealId)) {
      throw new PermanentError('deal id is not a Salesforce record id', { code: 'InvalidDealId' });
    }
    for (const name of Object.keys(fields)) {
      if (!FIELD_NAME.test(name)) {
        throw new PermanentError(`Salesforce field name ${JSON.stringify(name)} is not an API name`, {
          code: 'InvalidFieldName',
        });
      }
    }
    const body = Object.fromEntries(
      Object.entries(fields).map(([name, value]) => [
        name,
        typeof value === 'string' ? value.slice(0, STATUS_MAX_LENGTH) : value,
      ]),
    );
    await this.send('update Opportunity', 'PATCH', `${this.dataPath}/sobjects/Opportunity/${dealId}`, body);
  }

  /**
   * One page of the opportunities won (`IsWon`, whatever the stage is called) and last modified in the
   * window, in id order after `afterId`: keyset paging, so a checkpoint holds an id rather than a query
   * locator (those expire after 15 minutes of inactivity).
   */
  async listWonDeals(window: ReconciliationWindow, afterId: string | null): Promise<WonDealPage> {
    if (afterId !== null && !isRecordId(afterId)) {
      throw new PermanentError('cursor is not a Salesforce record id', { code: 'InvalidCursor' });
    }
    const amends = this.options.amendmentOfField;
    const fields = ['Id', ...(amends ? [amends] : [])].join(', ');
    // SOQL date-times have no milliseconds; unquoted, as SOQL wants them.
    const at = (iso: string) => new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const where = [
      'IsWon = true',
      `LastModifiedDate >= ${at(window.from)}`,
      `LastModifiedDate <= ${at(window.to)}`,
      ...(afterId ? [`Id > '${afterId}'`] : []),
    ].join(' AND ');
    const soql = `SELECT ${fields} FROM Opportunity WHERE ${where} ORDER BY Id LIMIT ${WON_DEALS_PAGE}`;
    const response = await this.send(
      'query won Opportunities',
      'GET',
      `${this.dataPath}/query?q=${encodeURIComponent(soql)}`,
    );
    const { records } = parse(queryResultSchema, await response.json(), 'query result');
    const items = records.map((record) => ({
      crm: 'salesforce' as const,
      dealId: String(record.Id),
      amends: amends ? stringAt(record, amends) : null,
    }));
    return { items, next: items.length === WON_DEALS_PAGE ? (items.at(-1)?.dealId ?? null) : null };
  }

  private soql(dealId: string): string {
    const { options, fields } = this;
    const opportunityFields = [
      'Id',
      'Name',
      'StageName',
      'IsWon',
      ...(options.multiCurrency === false ? [] : ['CurrencyIsoCode']),
      'LastModifiedDate',
      'SystemModstamp',
      'AccountId',
      fields.billingCustomerId,
      fields.subscriptionId,
      fields.erpCustomerId,
      fields.salesOrderId,
      ...(options.subsidiaryField ? [options.subsidiaryField] : []),
      ...(options.amendmentOfField ? [options.amendmentOfField] : []),
    ];
    const accountFields = [
      'Name',
      'BillingStreet',
      'BillingCity',
      'BillingPostalCode',
      'BillingState',
      this.countryField(),
      this.taxIdField(),
      ...(options.accountEmailField ? [options.accountEmailField] : []),
    ].map((name) => `Account.${name}`);
    const lines =
      '(SELECT Id, ProductCode, Product2.ProductCode, Quantity, UnitPrice FROM OpportunityLineItems ORDER BY SortOrder NULLS LAST, Id)';
    // The id was checked to be 15 or 18 letters and digits, so it cannot break out of the literal.
    return `SELECT ${[...new Set([...opportunityFields, ...accountFields])].join(', ')}, ${lines} FROM Opportunity WHERE Id = '${dealId}'`;
  }

  private countryField(): string {
    return this.options.accountCountryField ?? 'BillingCountry';
  }

  private taxIdField(): string {
    return this.options.accountTaxIdField ?? 'Tax_Id__c';
  }

  private toDeal(
    opportunity: z.infer<typeof opportunitySchema>,
    raw: Record<string, unknown>,
    lines: readonly SalesforceLine[],
  ): Deal {
    const { options, fields } = this;
    const version = opportunity.LastModifiedDate ?? opportunity.SystemModstamp;
    if (!version) throw malformed('Opportunity.LastModifiedDate: missing (and no SystemModstamp)');
    const account = opportunity.Account;
    if (!opportunity.AccountId || !account) {
      throw new PermanentError(`opportunity ${opportunity.Id} has no account`, { code: 'DealHasNoAccount' });
    }
    const currency = (
      options.multiCurrency === false
        ? options.defaultCurrency
        : (opportunity.CurrencyIsoCode ?? options.defaultCurrency)
    ).toUpperCase();
    const deal = {
      crm: 'salesforce' as const,
      dealId: opportunity.Id,
      version,
      name: opportunity.Name,
      stage: opportunity.StageName,
      isWon: opportunity.IsWon,
      currency,
      account: {
        id: opportunity.AccountId,
        name: account.Name,
        email: options.accountEmailField ? stringAt(raw, `Account.${options.accountEmailField}`) : null,
        billingAddress: billingAddress(
          account.BillingStreet,
          account.BillingCity,
          account.BillingPostalCode,
          account.BillingState,
          stringAt(raw, `Account.${this.countryField()}`),
        ),
        taxId: stringAt(raw, `Account.${this.taxIdField()}`),
      },
      subsidiary: options.subsidiaryField ? stringAt(raw, options.subsidiaryField) : null,
      ...(options.amendmentOfField ? { amends: stringAt(raw, options.amendmentOfField) } : {}),
      lines: lines.map((line) => {
        const productCode = line.ProductCode ?? line.Product2?.ProductCode;
        if (!productCode) {
          throw new PermanentError(`opportunity line ${line.Id} has no product code`, {
            code: 'MissingProductCode',
          });
        }
        return {
          id: line.Id,
          productCode,
          quantity: line.Quantity,
          unitAmount: toMinorUnits(line.UnitPrice, currency),
        };
      }),
      existing: {
        billingCustomerId: stringAt(raw, fields.billingCustomerId),
        subscriptionId: stringAt(raw, fields.subscriptionId),
        erpCustomerId: stringAt(raw, fields.erpCustomerId),
        salesOrderId: stringAt(raw, fields.salesOrderId),
      },
    };
    // The same check every consumer of a Deal relies on (a fractional quantity fails here, named).
    return parse(dealSchema, deal, 'deal');
  }

  private async send(what: string, method: 'GET' | 'PATCH', path: string, body?: unknown): Promise<Response> {
    const response = await sendWithBearer({
      vendor: 'Salesforce',
      what,
      url: `${this.options.instanceUrl.replace(/\/+$/, '')}${path}`,
      method,
      ...(body === undefined ? {} : { body }),
      timeoutMs: this.options.timeoutMs ?? 10_000,
      fetchImpl: this.fetchImpl,
      accessToken: this.options.accessToken,
    });
    if (response.ok) return response;
    throw await salesforceError(response, what);
  }
}

const malformed = (detail: string): PermanentError =>
  new PermanentError(`Salesforce answer is malformed: ${detail}`, { code: 'MalformedPayload' });

const parse = <S extends z.ZodMiniType>(schema: S, value: unknown, what: string): z.infer<S> => {
  const result = schema.safeParse(value);
  if (!result.success) throw malformed(describeIssues(result.error.issues, what));
  return result.data;
};

/** A configured field's value: SOQL nests parent fields (`Account.Tax_Id__c` → `{ Account: { Tax_Id__c } }`). */
const stringAt = (record: Record<string, unknown>, path: string): string | null => {
  let value: unknown = record;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return null;
    value = (value as Record<string, unknown>)[part];
  }
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value.trim() === '' ? null : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw malformed(`${path}: expected a text value`);
};

/**
 * The billing address when it is complete enough to invoice: street, city, postal code and an ISO
 * country code. A partial one is `null`, which the saga's validation reports to the CRM owner.
 * BillingStreet is a text area: its first line is line 1, the rest line 2.
 */
const billingAddress = (
  street: string | null | undefined,
  city: string | null | undefined,
  postalCode: string | null | undefined,
  state: string | null | undefined,
  country: string | null,
): Deal['account']['billingAddress'] => {
  const streetLines = (street ?? '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const [line1, ...rest] = streetLines;
  const code = country?.trim().toUpperCase();
  if (!line1 || !city?.trim() || !postalCode?.trim() || !code || !/^[A-Z]{2}$/.test(code)) return null;
  return {
    line1,
    line2: rest.length > 0 ? rest.join(', ') : null,
    city: city.trim(),
    postalCode: postalCode.trim(),
    state: state?.trim() ? state.trim() : null,
    country: code,
  };
};

/**
 * Salesforce answers errors as `[{ message, errorCode, fields }]`. The message can quote the data sent
 * (STRING_TOO_LONG does), so only the code and the field names travel on.
 */
const salesforceError = async (response: Response, what: string): Promise<Error> => {
  let code = `HTTP${response.status}`;
  let fields: string[] = [];
  try {
    const body: unknown = await response.json();
    const first: unknown = Array.isArray(body) ? body[0] : body;
    if (typeof first === 'object' && first !== null) {
      const entry = first as { errorCode?: unknown; fields?: unknown };
      if (typeof entry.errorCode === 'string') code = entry.errorCode;
      if (Array.isArray(entry.fields))
        fields = entry.fields.filter((f): f is string => typeof f === 'string');
    }
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  const message = `Salesforce ${what} answered ${response.status} ${code}${fields.length > 0 ? ` (${fields.join(', ')})` : ''}`;
  return httpError(
    message,
    { status: response.status, code, retryAfter: response.headers.get('retry-after') },
    TRANSIENT_CODES.has(code),
  );
};
