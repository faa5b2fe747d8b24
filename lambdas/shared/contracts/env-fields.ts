import * as z from 'zod/mini';
import { nonEmpty, positiveIntFromString } from '../env';
import { ENV } from './env';

/**
 * The environment a handler reads, by what the stack binds to it: each group matches one grant on
 * the CDK side (a table's `bind`, the bus's `grantPublish`, a vendor's access), so a handler's
 * `envSchema` is the groups of what it was given plus its own configuration.
 */

/** `EventBackbone.grantPublish`. */
export const busEnv = { [ENV.EVENT_BUS_NAME]: nonEmpty() };
/** `LinksTable.bind`. */
export const linksEnv = { [ENV.LINKS_TABLE_NAME]: nonEmpty() };
/** `ExceptionsTable.bind`. */
export const exceptionsEnv = { [ENV.EXCEPTIONS_TABLE_NAME]: nonEmpty() };
/** A queue consumer (`QueueConsumer` and `IdempotencyTable.bind`). */
export const queueConsumerEnv = {
  [ENV.IDEMPOTENCY_TABLE_NAME]: nonEmpty(),
  [ENV.QUEUE_URL]: nonEmpty(),
};

/** `FlowPlatform.grantNetSuite`, without the flow's `NETSUITE_MAPPING` (each flow's own shape). */
export const netsuiteEnv = {
  [ENV.NETSUITE_BASE_URL]: z.url(),
  [ENV.NETSUITE_SECRET_ID]: nonEmpty(),
  [ENV.NETSUITE_TIMEOUT_MS]: positiveIntFromString(),
  [ENV.CONCURRENCY_LEASES_TABLE_NAME]: nonEmpty(),
  [ENV.NETSUITE_CONCURRENCY_LIMIT]: positiveIntFromString(),
};

/** A flow with `stripe: true` (Stripe's API). */
export const stripeApiEnv = {
  [ENV.STRIPE_API_BASE_URL]: z.url(),
  [ENV.STRIPE_API_KEY_SECRET_ID]: nonEmpty(),
  [ENV.STRIPE_TIMEOUT_MS]: positiveIntFromString(),
};

const optionalName = () => z.optional(nonEmpty());

/** A flow with `crm: true` (lib/vendor-environment.ts `crmEnvironment`). */
export const crmEnv = {
  [ENV.SALESFORCE_INSTANCE_URL]: z.url(),
  [ENV.SALESFORCE_ACCESS_TOKEN_SECRET_ID]: nonEmpty(),
  [ENV.SALESFORCE_DEFAULT_CURRENCY]: nonEmpty(),
  [ENV.SALESFORCE_TAX_ID_FIELD]: optionalName(),
  [ENV.SALESFORCE_EMAIL_FIELD]: optionalName(),
  [ENV.SALESFORCE_SUBSIDIARY_FIELD]: optionalName(),
  [ENV.SALESFORCE_AMENDMENT_OF_FIELD]: optionalName(),
  [ENV.HUBSPOT_BASE_URL]: z.url(),
  [ENV.HUBSPOT_ACCESS_TOKEN_SECRET_ID]: nonEmpty(),
  [ENV.HUBSPOT_DEFAULT_CURRENCY]: nonEmpty(),
  [ENV.HUBSPOT_TAX_ID_PROPERTY]: optionalName(),
  [ENV.HUBSPOT_EMAIL_PROPERTY]: optionalName(),
  [ENV.HUBSPOT_AMENDMENT_OF_PROPERTY]: optionalName(),
  /** `company.<property>` or `deal.<property>`. */
  [ENV.HUBSPOT_SUBSIDIARY_PROPERTY]: z.optional(
    z.string().check(z.regex(/^(company|deal)\.[A-Za-z0-9_]+$/, 'must be company.<name> or deal.<name>')),
  ),
};

/**
 * A saga's steps function (the stack's `saga`): the CRMs, Stripe and NetSuite, with the links, the
 * exceptions and the bus; each saga adds its own mappings.
 */
export const sagaStepsEnv = {
  ...crmEnv,
  ...busEnv,
  ...linksEnv,
  ...exceptionsEnv,
  ...netsuiteEnv,
  ...stripeApiEnv,
};
