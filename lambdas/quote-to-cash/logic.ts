import { priceDealLines } from '../domain/catalog-prices';
import type { BillingClient, Deal, ErpClient } from '../domain/deal';
import { type CanonicalEvent, followUpEvent } from '../domain/events';
import type { LinkKey, LinksRepository } from '../domain/ports';
import { PermanentError } from '../shared/errors';
import { need, type SagaDeps, sagaFailurePath } from '../shared/saga-failure';
import { erpCustomerExternalId, idempotencyKey, salesOrderExternalId } from './identity';
import type { Plan, SagaState, Step } from './schema';

export const FLOW = 'quote-to-cash';

/** The status the CRM shows once the contract is live. */
export const ACTIVATED_STATUS = 'Activated';

/**
 * The state machine's names for the forward steps (statemachines/quote-to-cash.asl.json): a Catch
 * records the failure under the failing state's name, which the failure path turns into words.
 */
export const FORWARD_STATES = {
  ValidateDeal: 'validating the deal',
  UpsertErpCustomer: 'creating the ERP customer',
  UpsertBillingCustomer: 'creating the billing customer',
  CreateSubscription: 'creating the subscription',
  CreateSalesOrder: 'creating the ERP sales order',
  WriteBackToCrm: 'writing the ids back to the CRM',
  PublishContractActivated: 'announcing the activated contract',
} as const;

export interface QuoteToCashDeps extends SagaDeps {
  readonly billing: BillingClient;
  readonly erp: ErpClient;
  readonly links: LinksRepository;
}

/** The saga state with its start event parsed (the handler does it once, at the boundary). */
export type Saga = Omit<SagaState, 'event'> & { readonly event: CanonicalEvent<'crm.deal.won'> };

export type StepResult =
  | Plan
  | { id: string; externalId: string; created: boolean }
  | { id: string; created: boolean }
  | { id: string }
  | { event: CanonicalEvent<'contract.activated'> }
  | { exceptionId: string; reason: string }
  | { status: string }
  | { done: true };

/** Runs one step of the saga. Every step is safe to run twice (Retry): upserts and idempotency keys. */
export const runStep = async (step: Step, saga: Saga, deps: QuoteToCashDeps): Promise<StepResult> => {
  switch (step) {
    case 'validate':
      return validateDeal(saga.deal, deps);
    case 'upsertErpCustomer':
      return upsertErpCustomer(saga, deps);
    case 'upsertBillingCustomer':
      return upsertBillingCustomer(saga, deps);
    case 'createSubscription':
      return createSubscription(saga, deps);
    case 'createSalesOrder':
      return createSalesOrder(saga, deps);
    case 'writeBack':
      return writeBack(saga, deps);
    case 'closeSalesOrder':
      await deps.erp.closeSalesOrder(need(saga.salesOrder, 'salesOrder').externalId);
      return { done: true };
    case 'cancelSubscription':
      await deps.billing.cancelSubscription(need(saga.subscription, 'subscription').id, runKey(saga));
      return { done: true };
    case 'deactivateErpCustomer':
      await deps.erp.deactivateCustomer(need(saga.erpCustomer, 'erpCustomer').externalId);
      return { done: true };
    case 'openException':
      return failurePath.openException(saga, deps);
    case 'notifyCrmOwner':
      return failurePath.notifyCrmOwner(saga, deps);
  }
};

/**
 * Customer master and product mapping, checked before anything is written: every problem is listed at
 * once (the CRM owner fixes them in one go), and a deal with any problem fails with `ValidationFailed`.
 * Reads only: the mapping, and Stripe for the prices the catalog's lookup keys name now.
 */
export const validateDeal = async (deal: Deal, deps: Pick<QuoteToCashDeps, 'mapping' | 'prices'>) => {
  const { mapping } = deps;
  const problems: string[] = [];
  if (!deal.isWon) problems.push('the deal is not won');

  const subsidiaryKey = deal.subsidiary ?? mapping.defaultSubsidiaryByCurrency[deal.currency];
  const subsidiary = subsidiaryKey === undefined ? undefined : mapping.subsidiaries[subsidiaryKey];
  if (subsidiaryKey === undefined) {
    problems.push(`no subsidiary is set and none is configured for ${deal.currency}`);
  } else if (!subsidiary) {
    problems.push(`subsidiary ${subsidiaryKey} is not configured`);
  } else if (!subsidiary.currencies.includes(deal.currency)) {
    problems.push(`subsidiary ${subsidiaryKey} does not sell in ${deal.currency}`);
  }

  const address = deal.account.billingAddress;
  if (!address) {
    problems.push('the account has no billing address');
  } else {
    const missing = (['line1', 'city', 'postalCode', 'country'] as const).filter(
      (field) => address[field].trim() === '',
    );
    if (missing.length > 0) problems.push(`the billing address has no ${missing.join(', ')}`);
    else if (!/^[A-Z]{2}$/.test(address.country))
      problems.push('the billing country is not an ISO 3166 two-letter code');
  }
  if (subsidiary?.requireTaxId && !deal.account.taxId?.trim()) {
    problems.push(`the account has no tax id, which subsidiary ${subsidiaryKey} requires`);
  }

  if (deal.lines.length === 0) problems.push('the deal has no line items');
  const priced = await priceDealLines(deal, mapping.catalog, deps.prices);
  problems.push(...priced.problems);

  if (problems.length > 0 || !subsidiary || subsidiaryKey === undefined) {
    throw new PermanentError(problems.join('; '), { code: 'ValidationFailed' });
  }

  // Stripe refuses one price twice on a subscription: lines of the same product become one item.
  const quantities = new Map<string, number>();
  const salesOrderLines: Plan['salesOrderLines'] = [];
  for (const line of deal.lines) {
    const product = mapping.catalog[line.productCode];
    const priceId = priced.priceIdOf(line.productCode);
    if (!product || !priceId) continue;
    quantities.set(priceId, (quantities.get(priceId) ?? 0) + line.quantity);
    salesOrderLines.push({
      itemId: product.netsuiteItemId,
      quantity: line.quantity,
      unitAmount: line.unitAmount,
    });
  }
  const plan: Plan = {
    subsidiaryKey,
    erpSubsidiaryId: subsidiary.netsuiteSubsidiaryId,
    subscriptionItems: [...quantities].map(([priceId, quantity]) => ({ priceId, quantity })),
    salesOrderLines,
  };
  return plan;
};

/**
 * The ERP customer, by external id = CRM account. It counts as created by this saga (and is
 * deactivated if the saga fails) only when no earlier run linked it: a customer another deal of the
 * account uses must never be switched off by this deal's failure. A retry after the link was written
 * sees "not created", which errs on the safe side (an unused active customer, not a disabled one).
 */
const upsertErpCustomer = async (saga: Saga, deps: QuoteToCashDeps) => {
  const { deal } = saga;
  const key: LinkKey = { entity: 'customer', system: deal.crm, id: deal.account.id };
  const [linked] = await deps.links.find([{ key, target: 'netsuite' }]);
  const created = linked === undefined && deal.existing.erpCustomerId === null;
  const externalId = erpCustomerExternalId(deal);
  const id = await deps.erp.upsertCustomer(routed(saga), externalId);
  await deps.links.record(key, 'netsuite', id, eventOf(saga).id);
  return { id, externalId, created };
};

/**
 * The billing customer (kept on failure: finance never deletes a customer that may hold invoices).
 * Besides the CRM account's link, the Stripe customer is linked to the ERP customer, so the invoice
 * flow posts this customer's invoices to the customer the saga made instead of creating another.
 */
const upsertBillingCustomer = async (saga: Saga, deps: QuoteToCashDeps) => {
  const { deal } = saga;
  const erpCustomer = need(saga.erpCustomer, 'erpCustomer');
  const causedBy = eventOf(saga).id;
  const id = await deps.billing.upsertCustomer(deal, runKey(saga));
  await deps.links.record(
    { entity: 'customer', system: deal.crm, id: deal.account.id },
    'stripe',
    id,
    causedBy,
  );
  await deps.links.record({ entity: 'customer', system: 'stripe', id }, 'netsuite', erpCustomer.id, causedBy);
  // The subsidiary the deal was routed to: the customer's invoices, payments and credit memos must
  // book to it (NetSuite refuses a transaction in another subsidiary than its customer's).
  await deps.links.record(
    { entity: 'customerSubsidiary', system: 'stripe', id },
    'netsuite',
    need(saga.plan, 'plan').erpSubsidiaryId,
    causedBy,
    { reverse: false },
  );
  return { id };
};

const createSubscription = async (saga: Saga, deps: QuoteToCashDeps) => {
  const { deal } = saga;
  const plan = need(saga.plan, 'plan');
  const customer = need(saga.billingCustomer, 'billingCustomer');
  const { subscriptionId } = await deps.billing.createSubscription(
    deal,
    customer.id,
    plan.subscriptionItems,
    runKey(saga),
  );
  // The client hands back the subscription an earlier run wrote to the CRM while it is live: that one
  // belongs to the earlier activation and is not this run's to cancel.
  const created = subscriptionId !== deal.existing.subscriptionId;
  await deps.links.record(
    { entity: 'subscription', system: deal.crm, id: deal.dealId },
    'stripe',
    subscriptionId,
    eventOf(saga).id,
  );
  return { id: subscriptionId, created };
};

const createSalesOrder = async (saga: Saga, deps: QuoteToCashDeps) => {
  const { deal } = saga;
  const plan = need(saga.plan, 'plan');
  const erpCustomer = need(saga.erpCustomer, 'erpCustomer');
  const externalId = salesOrderExternalId(deal);
  const created = deal.existing.salesOrderId === null;
  const id = await deps.erp.upsertSalesOrder(routed(saga), externalId, erpCustomer.id, plan.salesOrderLines);
  await deps.links.record(
    { entity: 'salesOrder', system: deal.crm, id: deal.dealId },
    'netsuite',
    id,
    eventOf(saga).id,
  );
  return { id, externalId, created };
};

/** Writes the ids and `Activated` to the CRM, and returns the `contract.activated` event to publish. */
const writeBack = async (saga: Saga, deps: QuoteToCashDeps) => {
  const { deal } = saga;
  const event = eventOf(saga);
  const ids = {
    billingCustomerId: need(saga.billingCustomer, 'billingCustomer').id,
    subscriptionId: need(saga.subscription, 'subscription').id,
    erpCustomerId: need(saga.erpCustomer, 'erpCustomer').id,
    salesOrderId: need(saga.salesOrder, 'salesOrder').id,
  };
  await deps.crm(deal.crm).writeBack(deal.dealId, { ...ids, status: ACTIVATED_STATUS });
  const activated = followUpEvent(
    event,
    'contract.activated',
    FLOW,
    {
      crm: deal.crm,
      dealId: deal.dealId,
      dealVersion: event.data.version,
      accountId: deal.account.id,
      currency: deal.currency,
      ...ids,
      erpSubsidiaryId: need(saga.plan, 'plan').erpSubsidiaryId,
    },
    deps.now?.(),
  );
  return { event: activated };
};

/** Why the saga failed, in words safe to show the CRM owner (lambdas/shared/saga-failure.ts). */
const failurePath = sagaFailurePath(FLOW, FORWARD_STATES, 'the deal is not valid');
export const describeFailure = (saga: Pick<SagaState, 'failure'>): { code: string; reason: string } =>
  failurePath.describe(saga);

/**
 * The deal as the ERP client must see it: with the subsidiary the validation routed it to (a deal
 * without one goes by its currency), so routing is decided in one place, the plan.
 */
const routed = (saga: Saga): Deal => ({ ...saga.deal, subsidiary: need(saga.plan, 'plan').subsidiaryKey });

const eventOf = (saga: Saga): CanonicalEvent<'crm.deal.won'> => saga.event;

const runKey = (saga: Saga): string => idempotencyKey(saga.deal, saga.event.data.version);
