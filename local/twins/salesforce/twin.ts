import {
  type DeliveryAttempt,
  type FaultConfig,
  FaultInjector,
  faultsFromEnv,
  IdGenerator,
  startTwinServer,
} from '../common';
import { type OutboundMessageOptions, OutboundQueue, type QueuedOutboundMessage } from './outbound-queue';
import { SALESFORCE_API_VERSION } from './render';
import { createSalesforceApi } from './routes';
import { CLOSED_WON_STAGE, type CustomFields, type SObjectName } from './schema';
import { OrgStore, type SRecord } from './store';

export type { OutboundMessageOptions, QueuedOutboundMessage } from './outbound-queue';
export { SALESFORCE_API_VERSION } from './render';

export const SALESFORCE_DEFAULT_PORT = 4030;
export const SALESFORCE_DEFAULT_ORG_ID = '00D000000000001EAA';
export const SALESFORCE_DEFAULT_ACCESS_TOKEN = 'revbridge-local-sf-token';
/** Developer Edition's daily allowance; production orgs get more. */
const DEFAULT_DAILY_API_LIMIT = 15_000;

export interface SalesforceTwinOptions {
  /** @default 4030; 0 picks a free port */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Seeds ids and, unless `faults.seed` is set, the fault sequence. @default 1 */
  seed?: number;
  /** @default faultsFromEnv('salesforce'), i.e. `TWIN_FAULTS_SALESFORCE` */
  faults?: FaultConfig;
  /** 18-character org id. @default '00D000000000001EAA' */
  organizationId?: string;
  /** The only bearer token the REST API accepts. @default 'revbridge-local-sf-token' */
  accessToken?: string;
  /** Sends an outbound message when an opportunity becomes Closed Won; none when absent. */
  outboundMessage?: OutboundMessageOptions;
  /** Custom fields (`Name__c`) per object; a real org rejects fields it does not have, so does the twin. */
  customFields?: CustomFields;
  /** Currencies of the (multi-currency) org; the first is the corporate currency. @default USD, EUR, GBP, CAD, AUD, JPY */
  currencies?: readonly string[];
  /** Daily API request allowance reported in `Sforce-Limit-Info`. @default 15000 */
  dailyApiLimit?: number;
}

export interface SalesforceTwin {
  url: string;
  port: number;
  /** What a `jsforce.Connection` takes as `instanceUrl`. */
  instanceUrl: string;
  organizationId: string;
  accessToken: string;
  apiVersion: string;
  faults: FaultInjector;
  /** API requests counted so far (the `N` in `Sforce-Limit-Info: api-usage=N/15000`). */
  readonly apiUsage: number;
  /** A copy of a record as the REST API would return it, or `undefined`. */
  getRecord(type: SObjectName, id: string): SRecord | undefined;
  records(type: SObjectName): SRecord[];
  /** Creates a record through the same validation as the REST API (no API usage counted). */
  createRecord(type: SObjectName, values: Record<string, unknown>): string;
  updateRecord(type: SObjectName, id: string, values: Record<string, unknown>): void;
  /** What a sales rep does in the UI: moves the opportunity to Closed Won (or Closed Lost). */
  closeOpportunity(id: string, outcome?: 'won' | 'lost'): void;
  /** Sets or replaces the outbound message definition (the listener URL may only be known later). */
  configureOutboundMessage(options: OutboundMessageOptions | undefined): void;
  /** Messages queued so far, in order. */
  readonly outboundMessages: readonly QueuedOutboundMessage[];
  /** Every delivery attempt of outbound messages. */
  readonly deliveries: readonly DeliveryAttempt[];
  /** Resolves when no outbound message is waiting or being retried. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A Salesforce org in one process: the REST API subset jsforce uses for quote-to-cash (sObject CRUD,
 * upsert by external id, sObject Collections, describe, SOQL) with Salesforce's errors and limit header,
 * and Outbound Messages on Closed Won, retried until the listener acknowledges them.
 *
 * This file wires the org together; the jobs live beside it: `routes.ts` (the REST API), `render.ts` (wire
 * shapes), `store.ts` (records and their validation), `soql.ts`, `outbound-queue.ts` (outbound messages on
 * Closed Won) and `outbound-message.ts` (their SOAP body).
 */
export async function startSalesforceTwin(options: SalesforceTwinOptions = {}): Promise<SalesforceTwin> {
  const seed = options.seed ?? 1;
  const faultConfig = { ...(options.faults ?? faultsFromEnv('salesforce')) };
  if (faultConfig.seed === undefined) faultConfig.seed = seed;
  const faults = new FaultInjector(faultConfig);
  const organizationId = checkOrgId(options.organizationId ?? SALESFORCE_DEFAULT_ORG_ID);
  const accessToken = options.accessToken ?? SALESFORCE_DEFAULT_ACCESS_TOKEN;
  const dailyApiLimit = options.dailyApiLimit ?? DEFAULT_DAILY_API_LIMIT;
  const store = new OrgStore({
    currencies: options.currencies ?? ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'JPY'],
    ...(options.customFields === undefined ? {} : { customFields: options.customFields }),
  });
  const ids = new IdGenerator(seed);
  const sessionId = `${organizationId.slice(0, 15)}!AQ${ids.next('', 94, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._')}`;
  const outbound = new OutboundQueue({
    store,
    faults,
    organizationId,
    sessionId,
    outbound: options.outboundMessage,
  });
  const api = createSalesforceApi({ store, accessToken, dailyApiLimit });
  const { json } = api;

  const server = await startTwinServer({
    name: 'salesforce',
    port: options.port ?? SALESFORCE_DEFAULT_PORT,
    ...(options.host === undefined ? {} : { host: options.host }),
    faults,
    handler: api.handler,
    vendorError: (status) => {
      if (status === 429) {
        // Salesforce has no 429: too many concurrent long requests is a 403 with this code.
        return json(403, [
          { message: 'ConcurrentPerOrgLongTxn Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' },
        ]);
      }
      if (status === 503) {
        return json(503, [{ message: 'Server temporarily unavailable', errorCode: 'SERVER_UNAVAILABLE' }]);
      }
      if (status < 500) {
        // An injected refusal: what a validation rule of the org answers.
        return json(status, [
          {
            message: 'Refused by a validation rule of this org.',
            errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
            fields: [],
          },
        ]);
      }
      return json(status, [
        {
          message: `An unexpected error occurred. Please include this ErrorId if you contact support: ${ids.next('', 9, '0123456789')}-${ids.next('', 5, '0123456789')} (${ids.next('-', 9, '0123456789')})`,
          errorCode: 'UNKNOWN_EXCEPTION',
        },
      ]);
    },
  });
  outbound.instanceUrl = server.url;

  return {
    url: server.url,
    port: server.port,
    instanceUrl: server.url,
    organizationId,
    accessToken,
    apiVersion: SALESFORCE_API_VERSION,
    faults,
    get apiUsage() {
      return api.apiUsage;
    },
    getRecord: (type, id) => store.get(type, id),
    records: (type) => store.all(type),
    createRecord: (type, values) => store.create(type, values),
    updateRecord: (type, id, values) => store.update(type, id, values),
    closeOpportunity: (id, outcome = 'won') =>
      store.update('Opportunity', id, { StageName: outcome === 'won' ? CLOSED_WON_STAGE : 'Closed Lost' }),
    configureOutboundMessage(config) {
      outbound.configure(config);
    },
    get outboundMessages() {
      return outbound.queued;
    },
    get deliveries() {
      return outbound.deliveries();
    },
    idle: () => outbound.idle(),
    close: async () => {
      outbound.close();
      await server.close();
    },
  };
}

/**
 * The org id is used verbatim (a listener compares it byte for byte); only its shape is checked, since the
 * configured default's last three characters are not the checksum a real org id would carry.
 */
function checkOrgId(value: string): string {
  if (!/^00D[a-zA-Z0-9]{12}(?:[a-zA-Z0-9]{3})?$/.test(value)) {
    throw new Error(`organizationId must be a 15- or 18-character org id starting with 00D, got ${value}`);
  }
  return value;
}
