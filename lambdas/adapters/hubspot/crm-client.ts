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
import { httpError, PermanentError, TransientError } from '../../shared/errors';
import { sendWithBearer } from '../bearer-request';

/**
 * The CRM side of the saga for HubSpot: CRM v3 objects and v4 associations with `fetch`. The official
 * `@hubspot/api-client` bundles to about 5 MB, most of a Lambda's cold start, for five calls.
 */

/** Deal properties the saga writes back (and reads, to know what an earlier run already made). */
export interface HubSpotWriteBackProperties {
  readonly billingCustomerId: string;
  readonly subscriptionId: string;
  readonly erpCustomerId: string;
  readonly salesOrderId: string;
  readonly status: string;
}

export const HUBSPOT_DEFAULT_WRITE_BACK_PROPERTIES: HubSpotWriteBackProperties = {
  billingCustomerId: 'revbridge_billing_customer_id',
  subscriptionId: 'revbridge_subscription_id',
  erpCustomerId: 'revbridge_erp_customer_id',
  salesOrderId: 'revbridge_sales_order_id',
  status: 'revbridge_status',
};

export interface HubSpotCrmClientOptions {
  /** `HUBSPOT_BASE_URL`; the local runtime points it at the HubSpot twin. @default 'https://api.hubapi.com' */
  readonly baseUrl?: string;
  /**
   * A private app token or an OAuth access token. Called again with `refresh: true` once when HubSpot
   * answers 401 (OAuth access tokens expire after 30 minutes).
   */
  readonly accessToken: (options: { readonly refresh: boolean }) => Promise<string>;
  /** The portal's company currency, for deals without `deal_currency_code` (single-currency portals). */
  readonly defaultCurrency: string;
  readonly writeBackProperties?: Partial<HubSpotWriteBackProperties>;
  /** Line item property holding the catalog key. @default 'hs_sku' */
  readonly productCodeProperty?: string;
  /** Company property with the tax id (VAT number, EIN). @default 'tax_id' */
  readonly companyTaxIdProperty?: string;
  /** Company property with the billing email; none by default (companies have no email property). */
  readonly companyEmailProperty?: string;
  /** Where the subsidiary routing key lives, if the portal carries one. */
  readonly subsidiaryProperty?: { readonly object: 'deal' | 'company'; readonly name: string };
  /** Deal property with the id of the deal this one amends (amendments and upsells). */
  readonly amendmentOfProperty?: string;
  /** Per request. @default 10000 */
  readonly timeoutMs?: number;
  readonly fetchImpl?: typeof fetch;
}

const DEFAULT_BASE_URL = 'https://api.hubapi.com';
/** https://developers.hubspot.com/docs/api-reference/crm-associations-v4/guide#association-type-id-values */
const PRIMARY_DEAL_TO_COMPANY = 5;
/** Batch reads take at most 100 inputs. */
const BATCH_LIMIT = 100;
/** The v4 associations list pages at 500. */
const ASSOCIATION_PAGE = 500;
const DEAL_ID = /^\d+$/;

const property = z.nullish(z.string());
const objectSchema = z.object({ id: z.string(), properties: z.record(z.string(), property) });
const associationsSchema = z.object({
  results: z.array(
    z.object({
      toObjectId: z.union([z.number(), z.string()]),
      associationTypes: z.optional(z.array(z.object({ typeId: z.number() }))),
    }),
  ),
  paging: z.optional(z.object({ next: z.optional(z.object({ after: z.string() })) })),
});
const batchSchema = z.object({ results: z.array(objectSchema) });
const searchSchema = z.object({ results: z.array(objectSchema) });
/** Search serves at most 200 a page. */
const WON_DEALS_PAGE = 200;

type HubSpotObject = z.infer<typeof objectSchema>;

export class HubSpotCrmClient implements CrmClient, DealFieldWriter {
  private readonly properties: HubSpotWriteBackProperties;
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: HubSpotCrmClientOptions) {
    this.properties = { ...HUBSPOT_DEFAULT_WRITE_BACK_PROPERTIES, ...options.writeBackProperties };
    this.baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.fetchImpl = options.fetchImpl ?? fetch;
  }

  async getDeal(dealId: string): Promise<Deal | null> {
    checkDealId(dealId);
    const { options, properties } = this;
    const dealProperties = [
      'dealname',
      'dealstage',
      'hs_lastmodifieddate',
      'hs_is_closed_won',
      'deal_currency_code',
      properties.billingCustomerId,
      properties.subscriptionId,
      properties.erpCustomerId,
      properties.salesOrderId,
      ...(options.subsidiaryProperty?.object === 'deal' ? [options.subsidiaryProperty.name] : []),
      ...(options.amendmentOfProperty ? [options.amendmentOfProperty] : []),
    ];
    const deal = await this.readObject('deals', dealId, dealProperties);
    if (!deal) return null;
    const [lineIds, companyIds] = await Promise.all([
      this.associated(dealId, 'line_items'),
      this.associated(dealId, 'companies'),
    ]);
    const company = companyIds.find((c) => c.primary) ?? companyIds[0];
    if (!company) {
      throw new PermanentError(`deal ${dealId} has no associated company`, { code: 'DealHasNoAccount' });
    }
    const [companyObject, lineItems] = await Promise.all([
      this.readObject('companies', company.id, this.companyProperties()),
      this.readLineItems(lineIds.map((l) => l.id)),
    ]);
    if (!companyObject) {
      // Associated a moment ago, gone now: the next attempt reads the deal as it is then.
      throw new TransientError(`company ${company.id} of deal ${dealId} vanished while reading`, {
        code: 'DealChanged',
      });
    }
    return this.toDeal(deal, companyObject, lineItems);
  }

  async writeBack(dealId: string, values: DealWriteBack): Promise<void> {
    checkDealId(dealId);
    const { properties } = this;
    const written: Record<string, string> = { [properties.status]: values.status };
    if (values.billingCustomerId !== undefined)
      written[properties.billingCustomerId] = values.billingCustomerId;
    if (values.subscriptionId !== undefined) written[properties.subscriptionId] = values.subscriptionId;
    if (values.erpCustomerId !== undefined) written[properties.erpCustomerId] = values.erpCustomerId;
    if (values.salesOrderId !== undefined) written[properties.salesOrderId] = values.salesOrderId;
    await this.send('update deal', 'PATCH', `/crm/v3/objects/deals/${dealId}`, { properties: written });
  }

  /**
   * Sets company properties; `null` clears one (HubSpot clears a property set to the empty string).
   * HubSpot takes every value as a string, numbers and dates (`YYYY-MM-DD` or epoch ms) included.
   */
  async updateCompany(
    companyId: string,
    values: Readonly<Record<string, string | number | null>>,
  ): Promise<void> {
    // The id goes into a URL path: HubSpot record ids are numeric.
    if (!DEAL_ID.test(companyId)) {
      throw new PermanentError('company id is not a HubSpot record id', { code: 'InvalidAccountId' });
    }
    const properties = Object.fromEntries(
      Object.entries(values).map(([name, value]) => [name, value === null ? '' : String(value)]),
    );
    await this.send('update company', 'PATCH', `/crm/v3/objects/companies/${companyId}`, { properties });
  }

  async writeDealFields(dealId: string, fields: Readonly<Record<string, string | number>>): Promise<void> {
    checkDealId(dealId);
    // HubSpot takes every property value as a string, numbers in plain decimal notation.
    const written = Object.fromEntries(Object.entries(fields).map(([name, value]) => [name, String(value)]));
    await this.send('update deal', 'PATCH', `/crm/v3/objects/deals/${dealId}`, { properties: written });
  }

  /**
   * One page of the deals in a won stage (`wonStages`, the pipeline's internal values) last modified in
   * the window, in id order after `afterId`. Keyset paging on `hs_object_id` rather than search's
   * `after`, which stops at 10,000 results
   * (https://developers.hubspot.com/docs/api-reference/search/guide#limitations).
   */
  async listWonDeals(
    window: ReconciliationWindow,
    afterId: string | null,
    wonStages: readonly string[],
  ): Promise<WonDealPage> {
    if (afterId !== null) checkDealId(afterId);
    const amends = this.options.amendmentOfProperty;
    const filters = [
      { propertyName: 'dealstage', operator: 'IN', values: wonStages },
      // Date-times are filtered in epoch milliseconds.
      { propertyName: 'hs_lastmodifieddate', operator: 'GTE', value: String(Date.parse(window.from)) },
      { propertyName: 'hs_lastmodifieddate', operator: 'LTE', value: String(Date.parse(window.to)) },
      ...(afterId ? [{ propertyName: 'hs_object_id', operator: 'GT', value: afterId }] : []),
    ];
    const response = await this.send('search won deals', 'POST', '/crm/v3/objects/deals/search', {
      filterGroups: [{ filters }],
      sorts: [{ propertyName: 'hs_object_id', direction: 'ASCENDING' }],
      properties: ['dealstage', ...(amends ? [amends] : [])],
      limit: WON_DEALS_PAGE,
    });
    const { results } = parse(searchSchema, await response.json(), 'deal search');
    const items = results.map((deal) => ({
      crm: 'hubspot' as const,
      dealId: deal.id,
      amends: (amends && deal.properties[amends]?.trim()) || null,
    }));
    return { items, next: items.length === WON_DEALS_PAGE ? (items.at(-1)?.dealId ?? null) : null };
  }

  private companyProperties(): string[] {
    const { options } = this;
    return [
      'name',
      'address',
      'address2',
      'city',
      'zip',
      'state',
      'country',
      options.companyTaxIdProperty ?? 'tax_id',
      ...(options.companyEmailProperty ? [options.companyEmailProperty] : []),
      ...(options.subsidiaryProperty?.object === 'company' ? [options.subsidiaryProperty.name] : []),
    ];
  }

  private productCodeProperty(): string {
    return this.options.productCodeProperty ?? 'hs_sku';
  }

  /** The object, or `null` when HubSpot answers 404. */
  private async readObject(
    type: string,
    id: string,
    names: readonly string[],
  ): Promise<HubSpotObject | null> {
    const query = new URLSearchParams({ properties: names.join(','), archived: 'false' });
    const response = await this.send(
      `read ${type}`,
      'GET',
      `/crm/v3/objects/${type}/${id}?${query}`,
      undefined,
      [404],
    );
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    return parse(objectSchema, await response.json(), type);
  }

  /** Every record of `toType` associated with the deal, in HubSpot's order, following the pages. */
  private async associated(dealId: string, toType: string): Promise<{ id: string; primary: boolean }[]> {
    const found: { id: string; primary: boolean }[] = [];
    let after: string | undefined;
    do {
      const query = new URLSearchParams({ limit: String(ASSOCIATION_PAGE), ...(after ? { after } : {}) });
      const response = await this.send(
        `list deal ${toType}`,
        'GET',
        `/crm/v4/objects/deals/${dealId}/associations/${toType}?${query}`,
      );
      const page = parse(associationsSchema, await response.json(), `associations.${toType}`);
      for (const result of page.results) {
        found.push({
          id: String(result.toObjectId),
          primary: (result.associationTypes ?? []).some((t) => t.typeId === PRIMARY_DEAL_TO_COMPANY),
        });
      }
      after = page.paging?.next?.after;
    } while (after);
    return found;
  }

  /**
   * Line items by id, in the order given. One deleted since the association was listed is left out:
   * the deal no longer has it.
   */
  private async readLineItems(ids: readonly string[]): Promise<HubSpotObject[]> {
    const byId = new Map<string, HubSpotObject>();
    for (let start = 0; start < ids.length; start += BATCH_LIMIT) {
      const inputs = ids.slice(start, start + BATCH_LIMIT).map((id) => ({ id }));
      const response = await this.send('read line items', 'POST', '/crm/v3/objects/line_items/batch/read', {
        inputs,
        properties: [this.productCodeProperty(), 'quantity', 'price'],
        propertiesWithHistory: [],
      });
      for (const item of parse(batchSchema, await response.json(), 'line_items').results)
        byId.set(item.id, item);
    }
    return ids.flatMap((id) => {
      const item = byId.get(id);
      return item ? [item] : [];
    });
  }

  private toDeal(deal: HubSpotObject, company: HubSpotObject, lineItems: readonly HubSpotObject[]): Deal {
    const { options, properties } = this;
    const p = deal.properties;
    const c = company.properties;
    const currency = (value(p.deal_currency_code) ?? options.defaultCurrency).toUpperCase();
    const version = value(p.hs_lastmodifieddate);
    if (!version) throw malformed('deals.properties.hs_lastmodifieddate: missing');
    const subsidiary = options.subsidiaryProperty;
    const candidate = {
      crm: 'hubspot' as const,
      dealId: deal.id,
      version,
      name: value(p.dealname) ?? '',
      stage: value(p.dealstage) ?? '',
      isWon: p.hs_is_closed_won === 'true',
      currency,
      account: {
        id: company.id,
        name: value(c.name) ?? '',
        email: options.companyEmailProperty ? value(c[options.companyEmailProperty]) : null,
        billingAddress: billingAddress(c),
        taxId: value(c[options.companyTaxIdProperty ?? 'tax_id']),
      },
      subsidiary: subsidiary ? value((subsidiary.object === 'deal' ? p : c)[subsidiary.name]) : null,
      ...(options.amendmentOfProperty ? { amends: value(p[options.amendmentOfProperty]) } : {}),
      lines: lineItems.map((item) => {
        const productCode = value(item.properties[this.productCodeProperty()]);
        if (!productCode) {
          throw new PermanentError(`line item ${item.id} has no ${this.productCodeProperty()}`, {
            code: 'MissingProductCode',
          });
        }
        const price = value(item.properties.price);
        if (price === null) throw malformed(`line_items.${item.id}.price: missing`);
        const quantity = value(item.properties.quantity);
        return {
          id: item.id,
          productCode,
          // HubSpot sends every number as a string; a missing quantity means one.
          quantity: quantity === null ? 1 : Number(quantity),
          unitAmount: toMinorUnits(price, currency),
        };
      }),
      existing: {
        billingCustomerId: value(p[properties.billingCustomerId]),
        subscriptionId: value(p[properties.subscriptionId]),
        erpCustomerId: value(p[properties.erpCustomerId]),
        salesOrderId: value(p[properties.salesOrderId]),
      },
    };
    return parse(dealSchema, candidate, 'deal');
  }

  /**
   * One API call. `expected` lists statuses other than 2xx the caller handles itself (404 on a read).
   */
  private async send(
    what: string,
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    body?: unknown,
    expected: readonly number[] = [],
  ): Promise<Response> {
    const response = await sendWithBearer({
      vendor: 'HubSpot',
      what,
      url: `${this.baseUrl}${path}`,
      method,
      ...(body === undefined ? {} : { body }),
      timeoutMs: this.options.timeoutMs ?? 10_000,
      fetchImpl: this.fetchImpl,
      accessToken: this.options.accessToken,
    });
    if (response.ok || expected.includes(response.status)) return response;
    throw await hubSpotError(response, what);
  }
}

const checkDealId = (dealId: string): void => {
  // The id goes into a URL path: HubSpot record ids are numeric.
  if (!DEAL_ID.test(dealId)) {
    throw new PermanentError('deal id is not a HubSpot record id', { code: 'InvalidDealId' });
  }
};

/** HubSpot clears a property to `""` or `null` depending on how it was cleared: both mean no value. */
const value = (raw: string | null | undefined): string | null => {
  const trimmed = raw?.trim();
  return trimmed ? trimmed : null;
};

const malformed = (detail: string): PermanentError =>
  new PermanentError(`HubSpot answer is malformed: ${detail}`, { code: 'MalformedPayload' });

const parse = <S extends z.ZodMiniType>(schema: S, input: unknown, what: string): z.infer<S> => {
  const result = schema.safeParse(input);
  if (!result.success) throw malformed(describeIssues(result.error.issues, what));
  return result.data;
};

/**
 * The company's address when it is complete enough to invoice: street, city, zip and an ISO country
 * code. HubSpot's `country` is free text; only a two-letter value is taken as a code.
 */
const billingAddress = (c: Record<string, string | null | undefined>): Deal['account']['billingAddress'] => {
  const line1 = value(c.address);
  const city = value(c.city);
  const postalCode = value(c.zip);
  const country = value(c.country)?.toUpperCase();
  if (!line1 || !city || !postalCode || !country || !/^[A-Z]{2}$/.test(country)) return null;
  return { line1, line2: value(c.address2), city, postalCode, state: value(c.state), country };
};

/**
 * HubSpot answers errors as `{ status: 'error', message, category, correlationId }`. The message can
 * quote property values, so only the category and the correlation id (for HubSpot support) travel on.
 * A 429 without Retry-After is HubSpot's rolling burst window: waiting one window is enough.
 * https://developers.hubspot.com/docs/api/usage-details#rate-limits
 */
const hubSpotError = async (response: Response, what: string): Promise<Error> => {
  let code = `HTTP${response.status}`;
  let correlationId: string | undefined;
  try {
    const body = (await response.json()) as { category?: unknown; correlationId?: unknown };
    if (typeof body.category === 'string') code = body.category;
    if (typeof body.correlationId === 'string') correlationId = body.correlationId;
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  const window = Number(response.headers.get('x-hubspot-ratelimit-interval-milliseconds'));
  const retryAfter =
    response.headers.get('retry-after') ??
    (response.status === 429 && window > 0 ? String(Math.ceil(window / 1000)) : null);
  return httpError(
    `HubSpot ${what} answered ${response.status} ${code}${correlationId ? ` (correlation id ${correlationId})` : ''}`,
    { status: response.status, code, retryAfter },
  );
};
