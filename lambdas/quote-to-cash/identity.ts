import { createHash } from 'node:crypto';
import type { Deal } from '../domain/deal';

/**
 * The names one saga run goes by, all derived from the deal and the version of the `crm.deal.won`
 * event: the same event (or a duplicate of it) always maps to the same execution, the same Stripe
 * idempotency keys and the same NetSuite external ids, so nothing is created twice.
 */

type DealRef = Pick<Deal, 'crm' | 'dealId'>;

const digest = (...parts: string[]): string =>
  createHash('sha256').update(parts.join('\u0000')).digest('hex');

/** Characters a NetSuite external id may hold are letters, digits, `_` and `-`. */
const externalIdSafe = (value: string): string => value.replace(/[^A-Za-z0-9_-]/g, '_');

/**
 * A Step Functions execution name: 1-80 characters without whitespace, brackets, wildcards, quotes or
 * `# % \ ^ | ~ \` $ & , ; : /` (an ISO timestamp has colons). Readable parts first (CRM, deal id, the
 * version's digits) for whoever looks for the deal in the console, then a hash of the exact values so
 * two different versions can never collapse into one name after the cleaning.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 */
export const executionName = (deal: DealRef, version: string): string => {
  const readable = `${deal.crm === 'salesforce' ? 'sf' : 'hs'}-${externalIdSafe(deal.dealId).slice(0, 24)}-${version.replace(/\D/g, '').slice(0, 17)}`;
  return `${readable}-${digest(deal.crm, deal.dealId, version).slice(0, 20)}`;
};

/** The prefix of every Stripe idempotency key of this run (the client adds one suffix per call). */
export const idempotencyKey = (deal: DealRef, version: string): string =>
  `q2c-${deal.crm}-${deal.dealId}-${digest(version).slice(0, 16)}`;

/** The ERP customer is per CRM account: a second deal of the same account finds the first one's. */
export const erpCustomerExternalId = (deal: Pick<Deal, 'crm' | 'account'>): string =>
  externalIdSafe(`${deal.crm}-${deal.account.id}`);

/** The sales order is per deal. */
export const salesOrderExternalId = (deal: DealRef): string => externalIdSafe(`${deal.crm}-${deal.dealId}`);
