import { createHash } from 'node:crypto';
import {
  type AmendmentLine,
  type ProrationBehavior,
  type SubscriptionAmendments,
  withoutAmendment,
} from '../domain/amendment';
import { priceDealLines } from '../domain/catalog-prices';
import type { Deal } from '../domain/deal';
import { type CanonicalEvent, followUpEvent } from '../domain/events';
import {
  catalogItemResolver,
  contractValue,
  isEnded,
  type SalesOrderPort,
  type SubscriptionState,
  syncSalesOrderToSubscription,
} from '../domain/sales-order-change';
import { salesOrderExternalId } from '../quote-to-cash/identity';
import { PermanentError } from '../shared/errors';
import { need, type SagaDeps, sagaFailurePath } from '../shared/saga-failure';
import type { WithEvent } from '../shared/saga-step-handler';
import type { Plan, SagaState, Step } from './schema';

/**
 * The amendment saga (ARCHITECTURE.md flow 7, statemachines/amend-contract.asl.json): a won amendment
 * or upsell of an active contract adds its lines to the contract's billing subscription (prorated as
 * the stage configures), changes the ERP sales order to match (lines added, never rewritten), writes
 * back to the CRM and announces `contract.amended`. A failure after a write undoes it in reverse: the
 * sales order goes back to the subscription as it was before, then the subscription loses the lines
 * (its proration credits what was charged); nothing billed is deleted.
 */

export const FLOW = 'amend-contract';

/** The status the CRM shows on the amendment once the contract has it. */
export const AMENDED_STATUS = 'Amended';

/** The state machine's forward states (a Catch records a failure under the failing state's name). */
export const FORWARD_STATES = {
  ValidateAmendment: 'validating the amendment',
  ChangeSubscription: 'changing the subscription',
  ChangeSalesOrder: 'changing the ERP sales order',
  WriteBackToCrm: 'writing the amendment back to the CRM',
  PublishContractAmended: 'announcing the amended contract',
} as const;

export interface AmendContractDeps extends SagaDeps {
  readonly billing: SubscriptionAmendments;
  readonly salesOrders: SalesOrderPort;
  readonly prorationBehavior: ProrationBehavior;
}

export type Saga = WithEvent<SagaState, 'crm.deal.won'>;

const failurePath = sagaFailurePath(FLOW, FORWARD_STATES, 'the amendment is not valid');

export type StepResult =
  | Plan
  | { id: string; contractValue: number }
  | { id: string; changed: boolean }
  | { event: CanonicalEvent<'contract.amended'> }
  | { exceptionId: string; reason: string }
  | { status: string }
  | { outcome: string };

/**
 * The key of one amendment run, from the deal and the version of its `crm.deal.won` event: the Stripe
 * Idempotency-Key prefix and the subscription's record of the amendment it took.
 */
export const amendmentKey = (deal: Pick<Deal, 'crm' | 'dealId'>, version: string): string =>
  `amend-${deal.crm}-${deal.dealId}-${createHash('sha256').update(version).digest('hex').slice(0, 16)}`;

/** Runs one step. Every step is safe to run twice (Retry): keys, metadata and state-derived changes. */
export const runStep = async (step: Step, saga: Saga, deps: AmendContractDeps): Promise<StepResult> => {
  switch (step) {
    case 'validate':
      return validateAmendment(saga, deps);
    case 'changeSubscription':
      return changeSubscription(saga, deps);
    case 'changeSalesOrder':
      return changeSalesOrder(saga, deps);
    case 'writeBack':
      return writeBack(saga, deps);
    case 'restoreSalesOrder': {
      const plan = need(saga.plan, 'plan');
      const current = await subscriptionOf(plan, deps);
      const result = await syncOrder(withoutAmendment(current, plan.lines, keyOf(saga)), plan, deps);
      return { id: result.orderId, changed: result.outcome === 'changed' };
    }
    case 'revertSubscription': {
      const plan = need(saga.plan, 'plan');
      const outcome = await deps.billing.revertAmendment(
        plan.subscriptionId,
        plan.lines,
        keyOf(saga),
        deps.prorationBehavior,
      );
      return { outcome };
    }
    case 'openException':
      return failurePath.openException(saga, deps);
    case 'notifyCrmOwner':
      return failurePath.notifyCrmOwner(saga, deps);
  }
};

/**
 * The amendment, the contract it amends and its prices, checked before anything is written; every
 * problem is listed at once and fails the saga with `ValidationFailed`. Reads only.
 */
export const validateAmendment = async (saga: Saga, deps: AmendContractDeps): Promise<Plan> => {
  const { deal } = saga;
  const problems: string[] = [];
  if (!deal.isWon) problems.push('the deal is not won');
  const amends = deal.amends ?? null;
  if (amends === null) problems.push('the deal does not name the deal it amends');
  const original = amends === null ? null : await deps.crm(deal.crm).getDeal(amends);
  if (amends !== null && !original) problems.push(`the amended deal ${amends} is not in the CRM`);
  const subscriptionId = original?.existing.subscriptionId ?? null;
  if (original && (subscriptionId === null || original.existing.salesOrderId === null)) {
    problems.push(`the amended deal ${original.dealId} has no activated contract`);
  }
  if (original?.amends) {
    problems.push(
      `the amended deal ${original.dealId} is itself an amendment: name the deal of the contract (${original.amends})`,
    );
  }
  if (original && original.currency !== deal.currency) {
    problems.push(`the amendment is in ${deal.currency}, the contract in ${original.currency}`);
  }

  if (deal.lines.length === 0) problems.push('the deal has no line items');
  const priced = await priceDealLines(deal, deps.mapping.catalog, deps.prices);
  problems.push(...priced.problems);

  if (subscriptionId !== null && problems.length === 0) {
    const subscription = await deps.billing.getSubscription(subscriptionId);
    if (!subscription) problems.push(`the contract's subscription ${subscriptionId} is not in billing`);
    else if (isEnded(subscription))
      problems.push(`the contract's subscription ${subscriptionId} is ${subscription.status}, not active`);
    const order = original
      ? await deps.salesOrders.getSalesOrder(salesOrderExternalId(original), deal.currency)
      : null;
    if (original && !order)
      problems.push(`the contract's sales order ${salesOrderExternalId(original)} is not in the ERP`);
  }
  if (problems.length > 0 || !original || subscriptionId === null) {
    throw new PermanentError(problems.join('; '), { code: 'ValidationFailed' });
  }

  const quantities = new Map<string, number>();
  for (const line of deal.lines) {
    const priceId = priced.priceIdOf(line.productCode);
    if (priceId) quantities.set(priceId, (quantities.get(priceId) ?? 0) + line.quantity);
  }
  const lines: AmendmentLine[] = [...quantities].map(([priceId, quantity]) => ({ priceId, quantity }));
  return {
    amendsDealId: original.dealId,
    subscriptionId,
    salesOrderExternalId: salesOrderExternalId(original),
    lines,
    effectiveDate: saga.event.occurredAt.slice(0, 10),
  };
};

const changeSubscription = async (saga: Saga, deps: AmendContractDeps) => {
  const plan = need(saga.plan, 'plan');
  const subscription = await deps.billing.applyAmendment(
    plan.subscriptionId,
    plan.lines,
    keyOf(saga),
    deps.prorationBehavior,
  );
  return { id: subscription.id, contractValue: contractValue(subscription) };
};

/**
 * The order follows billing: re-read the subscription, then the shared sales order change. No links
 * are recorded for the amendment: the subscription and the order stay linked to the deal that made
 * them, which is how flow 5 (lambdas/sync-subscription) finds the order from the subscription.
 */
const changeSalesOrder = async (saga: Saga, deps: AmendContractDeps) => {
  const plan = need(saga.plan, 'plan');
  const result = await syncOrder(await subscriptionOf(plan, deps), plan, deps);
  return { id: result.orderId, changed: result.outcome === 'changed' };
};

const syncOrder = (subscription: SubscriptionState, plan: Plan, deps: AmendContractDeps) =>
  syncSalesOrderToSubscription(
    subscription,
    plan.salesOrderExternalId,
    { salesOrders: deps.salesOrders, itemFor: catalogItemResolver(deps.mapping.catalog) },
    plan.effectiveDate,
  );

const subscriptionOf = async (plan: Plan, deps: AmendContractDeps): Promise<SubscriptionState> => {
  const subscription = await deps.billing.getSubscription(plan.subscriptionId);
  if (!subscription) {
    throw new PermanentError(`subscription ${plan.subscriptionId} is not in billing`, {
      code: 'SubscriptionNotFound',
    });
  }
  return subscription;
};

/** Writes the ids and `Amended` to the amendment deal, and returns the `contract.amended` event. */
const writeBack = async (saga: Saga, deps: AmendContractDeps) => {
  const { deal, event } = saga;
  const plan = need(saga.plan, 'plan');
  const subscription = need(saga.subscription, 'subscription');
  const salesOrder = need(saga.salesOrder, 'salesOrder');
  await deps.crm(deal.crm).writeBack(deal.dealId, {
    subscriptionId: subscription.id,
    salesOrderId: salesOrder.id,
    status: AMENDED_STATUS,
  });
  const amended = followUpEvent(
    event,
    'contract.amended',
    FLOW,
    {
      crm: deal.crm,
      dealId: deal.dealId,
      dealVersion: event.data.version,
      amendsDealId: plan.amendsDealId,
      accountId: deal.account.id,
      currency: deal.currency,
      subscriptionId: subscription.id,
      salesOrderId: salesOrder.id,
      contractValue: subscription.contractValue,
      prorationBehavior: deps.prorationBehavior,
    },
    deps.now?.(),
  );
  return { event: amended };
};

export const describeFailure = (saga: Pick<SagaState, 'failure'>) => failurePath.describe(saga);

const keyOf = (saga: Saga): string => amendmentKey(saga.deal, saga.event.data.version);
