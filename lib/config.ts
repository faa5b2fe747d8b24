import { z } from 'zod';
import { PRORATION_BEHAVIORS } from '../lambdas/domain/amendment';
import { contractProblems } from './vendor-environment';

/**
 * A stage's configuration, from `cdk.json` context (`revbridge:stages.<stage>`), validated at synth:
 * `cdk synth` fails with every problem listed rather than deploying half a configuration.
 */

const id = z.string().min(1);

const currencyCode = z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code, upper case');
const httpsUrl = z.url().refine((url) => url.startsWith('https://'), 'must be an https URL');
/** A Salesforce API name or relationship path (it goes into SOQL). */
const apiName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/, 'an API name');
const propertyName = z.string().regex(/^[a-z0-9_]+$/, 'a HubSpot property internal name');
/** A field of the object itself (no relationship path). */
const salesforceFieldName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'a Salesforce field API name');

/**
 * The quote-to-cash saga's master data mapping. The catalog keys Stripe prices by `lookup_key`, not by
 * price id: Stripe prices are immutable, so a price change is a new price that takes the lookup key
 * over (`transfer_lookup_key`), and the saga picks it up without a redeploy.
 * https://docs.stripe.com/products-prices/manage-prices#lookup-keys
 */
const quoteToCashSchema = z
  .object({
    /** CRM product code (Salesforce ProductCode / HubSpot hs_sku) → what it is in billing and the ERP. */
    catalog: z
      .record(
        z.string().min(1),
        z
          .object({
            /** The NetSuite item the sales order line uses. */
            netsuiteItemId: id,
            /** The recurring Stripe price, by lookup key, for each currency the product is sold in. */
            stripeLookupKeys: z
              .record(currencyCode, z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'a Stripe lookup key'))
              .refine((value) => Object.keys(value).length > 0, 'at least one currency'),
          })
          .strict(),
      )
      .refine((value) => Object.keys(value).length > 0, 'at least one product'),
    /** Subsidiary key (as the CRM carries it on the deal or account) → the NetSuite subsidiary. */
    subsidiaries: z
      .record(
        z.string().min(1),
        z
          .object({
            netsuiteSubsidiaryId: id,
            /** Currencies this subsidiary sells in; a deal in another currency is not routed here. */
            currencies: z.array(currencyCode).min(1),
            /** Deals routed here need the customer's tax id (VAT registration) before anything is written. */
            requireTaxId: z.boolean(),
          })
          .strict(),
      )
      .refine((value) => Object.keys(value).length > 0, 'at least one subsidiary'),
    /** Where a deal goes when the CRM names no subsidiary: by the deal's currency. */
    defaultSubsidiaryByCurrency: z.record(currencyCode, z.string().min(1)),
  })
  .strict();

export type QuoteToCashConfig = z.infer<typeof quoteToCashSchema>;

/**
 * Lambda caps a function's environment at 4 KB in total and the mapping travels there as JSON; the
 * rest of the saga function's environment (secret ARNs, table names, the NetSuite mapping) takes about
 * 1.9 KB once deployed. A catalog that outgrows this share must move to a parameter store: failing here
 * says so at synth instead of at deploy.
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html
 */
export const QUOTE_TO_CASH_ENV_BUDGET_BYTES = 1500;

/** What a field-by-field schema cannot see: references between the mapping and the ERP's ids. */
const quoteToCashProblems = (
  q2c: QuoteToCashConfig,
  netsuite: { currencyIds: Record<string, string>; taxItemId: string; adjustmentItemId: string },
): { path: (string | number)[]; message: string }[] => {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const erpCurrency = (currency: string) => netsuite.currencyIds[currency] !== undefined;
  const lookupKeyOwner = new Map<string, string>();
  for (const [code, product] of Object.entries(q2c.catalog)) {
    if (product.netsuiteItemId === netsuite.taxItemId || product.netsuiteItemId === netsuite.adjustmentItemId)
      problems.push({
        path: ['catalog', code, 'netsuiteItemId'],
        message: 'is the tax or adjustment item, not a product',
      });
    for (const [currency, lookupKey] of Object.entries(product.stripeLookupKeys)) {
      if (!erpCurrency(currency))
        problems.push({
          path: ['catalog', code, 'stripeLookupKeys', currency],
          message: `currency ${currency} has no NetSuite id in netsuite.currencyIds`,
        });
      const owner = lookupKeyOwner.get(lookupKey);
      if (owner !== undefined)
        problems.push({
          path: ['catalog', code, 'stripeLookupKeys', currency],
          message: `lookup key "${lookupKey}" is already used by ${owner}`,
        });
      else lookupKeyOwner.set(lookupKey, `${code} ${currency}`);
    }
  }
  for (const [key, subsidiary] of Object.entries(q2c.subsidiaries)) {
    subsidiary.currencies.forEach((currency, index) => {
      if (!erpCurrency(currency))
        problems.push({
          path: ['subsidiaries', key, 'currencies', index],
          message: `currency ${currency} has no NetSuite id in netsuite.currencyIds`,
        });
    });
  }
  for (const [currency, key] of Object.entries(q2c.defaultSubsidiaryByCurrency)) {
    const subsidiary = q2c.subsidiaries[key];
    if (!subsidiary)
      problems.push({
        path: ['defaultSubsidiaryByCurrency', currency],
        message: `names subsidiary "${key}", which is not in quoteToCash.subsidiaries`,
      });
    else if (!subsidiary.currencies.includes(currency))
      problems.push({
        path: ['defaultSubsidiaryByCurrency', currency],
        message: `subsidiary "${key}" does not sell in ${currency}`,
      });
  }
  const size = Buffer.byteLength(JSON.stringify(q2c));
  if (size > QUOTE_TO_CASH_ENV_BUDGET_BYTES)
    problems.push({
      path: [],
      message: `is ${size} bytes as JSON, over the ${QUOTE_TO_CASH_ENV_BUDGET_BYTES}-byte share of the function environment`,
    });
  return problems;
};

/** A field written, not read through a relationship: a plain Salesforce API name. */
const writableApiName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'a field API name');

/**
 * Flow 5, a billing subscription changed or canceled: where the CRM shows the subscription's status and
 * its contract value (the recurring amount of one billing period, in the deal's currency), and which
 * NetSuite transaction column carries a changed line's effective date.
 */
const subscriptionSyncSchema = z
  .object({
    salesforce: z
      .object({
        /** Opportunity text field with billing's status (`active`, `past_due`, `canceled`, ...). */
        statusField: writableApiName,
        /** Opportunity currency field with the contract value. */
        contractValueField: writableApiName,
      })
      .strict(),
    hubspot: z
      .object({
        statusProperty: propertyName,
        /** A number property. */
        contractValueProperty: propertyName,
      })
      .strict(),
    /** A custom transaction column (date) on the sales order's item lines. */
    effectiveDateField: z
      .string()
      .regex(/^custcol[a-z0-9_]+$/, 'a NetSuite transaction column id (custcol...)')
      .default('custcol_revbridge_effective_date'),
  })
  .strict();

export type SubscriptionSyncConfig = z.infer<typeof subscriptionSyncSchema>;

export const stageConfigSchema = z
  .object({
    /** Prefix of resource names, so several stages can share an account. */
    stage: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,20}$/, 'lower-case letters, digits and dashes, 2-21 characters'),
    logRetentionDays: z.union([z.literal(7), z.literal(14), z.literal(30), z.literal(90), z.literal(365)]),
    /** Events kept in the bus archive, for replay. */
    archiveRetentionDays: z.number().int().min(1).max(3650),
    /** If true, tables and the archive are retained when the stack is deleted. */
    retainData: z.boolean(),
    webhooks: z.object({
      /** Largest webhook body accepted; larger ones get 413. Stripe events are far below 256 KiB. */
      maxBodyBytes: z
        .number()
        .int()
        .min(1024)
        .max(6 * 1024 * 1024),
      /** Steady-state requests per second per API stage. */
      rateLimit: z.number().int().min(1),
      burstLimit: z.number().int().min(1),
    }),
    queues: z.object({
      /** Receives before a message moves to its DLQ. */
      maxReceiveCount: z.number().int().min(1).max(1000),
      batchSize: z.number().int().min(1).max(10),
      /** Oldest-message age that raises the queue's age alarm. */
      maxMessageAgeSeconds: z.number().int().min(60),
    }),
    stripe: z.object({
      accountId: z.string().regex(/^acct_[A-Za-z0-9]+$/, 'a Stripe account id (acct_...)'),
      /** @default https://api.stripe.com */
      apiBaseUrl: httpsUrl.default('https://api.stripe.com'),
      /** Per API request of the saga. */
      timeoutMs: z.number().int().min(1000).max(60_000).default(10_000),
    }),
    netsuite: z.object({
      /** REST base URL, e.g. https://1234567.suitetalk.api.netsuite.com */
      baseUrl: z.url().refine((url) => url.startsWith('https://'), 'must be an https URL'),
      /**
       * Concurrent requests the account allows (NetSuite: 5 to 15 depending on licence). It is shared by
       * every flow that calls NetSuite, at least 2 each (Lambda's SQS maximum concurrency): synthesis
       * fails, naming the flows, if it is too small for them.
       */
      concurrencyLimit: z.number().int().min(4).max(100),
      timeoutMs: z.number().int().min(1000).max(60_000),
      subsidiaryId: id,
      currencyIds: z
        .record(z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code'), id)
        .refine((value) => Object.keys(value).length > 0, 'at least one currency'),
      productItemIds: z.record(id, id),
      defaultItemId: id,
      taxItemId: id,
      adjustmentItemId: id,
    }),
    salesforce: z.object({
      /** The org whose outbound messages are accepted (15 or 18 characters). */
      orgId: z
        .string()
        .regex(/^00D[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$/, 'a Salesforce org id (00D..., 15 or 18 characters)'),
      /** Opportunity stages that mean won, for messages that do not carry IsWon. */
      wonStages: z.array(z.string().min(1)).min(1),
      /** The org's My Domain URL the saga reads deals from and writes ids back to. */
      instanceUrl: httpsUrl,
      /** The corporate currency, for an org without multi-currency. */
      defaultCurrency: currencyCode,
      /** Account field with the tax id. @default Tax_Id__c */
      accountTaxIdField: apiName.optional(),
      /** Account field with the billing email, if the org has one. */
      accountEmailField: apiName.optional(),
      /** Where the subsidiary key lives, as a path from the Opportunity (`Account.Subsidiary__c`). */
      subsidiaryField: apiName.optional(),
      /**
       * Opportunity field naming the opportunity an amendment or upsell amends (a lookup to the
       * original, activated opportunity): a won opportunity with it set runs the amendment saga.
       * Without it, every won opportunity is a new contract.
       */
      amendmentOfField: apiName.optional(),
    }),
    hubspot: z.object({
      /** Deal stage values that mean won. */
      wonStages: z.array(z.string().min(1)).min(1),
      /**
       * The public base URL HubSpot calls (it signs it), when not the API's own execute-api URL,
       * e.g. behind a custom domain. @default https://<api-id>.execute-api.<region>.amazonaws.com/<stage>
       */
      webhookBaseUrl: z.url().optional(),
      /** @default https://api.hubapi.com */
      apiBaseUrl: httpsUrl.default('https://api.hubapi.com'),
      /** The portal's company currency, for deals without a currency. */
      defaultCurrency: currencyCode,
      /** Company property with the tax id. @default tax_id */
      companyTaxIdProperty: propertyName.optional(),
      /** Company property with the billing email, if the portal has one. */
      companyEmailProperty: propertyName.optional(),
      /** Where the subsidiary key lives: `company.<property>` or `deal.<property>`. */
      subsidiaryProperty: z
        .string()
        .regex(/^(company|deal)\.[A-Za-z0-9_]+$/, 'company.<property> or deal.<property>')
        .optional(),
      /** Deal property with the id of the deal an amendment or upsell amends; as `amendmentOfField`. */
      amendmentOfProperty: propertyName.optional(),
    }),
    /** Flow 6: scheduled reconciliation of billing against the ERP. */
    reconciliation: z
      .object({
        /** Minutes between scheduled runs; an unfinished run is continued by the next one. */
        scheduleMinutes: z.number().int().min(5).max(1440),
        /** The scheduled window: this many days back. */
        windowDays: z.number().int().min(1).max(31),
        /** The window ends this long before now, so records still in flight are not differences. */
        settleMinutes: z.number().int().min(0).max(1440),
        /**
         * Whether the ERP posts billing credit notes as credit memos (NetSuite `creditMemo`, external
         * id = credit note id); false skips the credit note comparison.
         */
        creditMemos: z.boolean(),
        /**
         * NetSuite requests reconciliation makes at once (leases it takes from the account's limit,
         * which every flow shares); the rest of the limit stays with the flows.
         */
        erpConcurrency: z.number().int().min(1).max(15),
      })
      .strict(),
    /**
     * Flow 4, payment failed → dunning signal: where each CRM shows a failing payment on the customer's
     * account (fields the org or portal is set up with once), and what counts as a spike of failures.
     */
    dunning: z
      .object({
        salesforce: z
          .object({
            /** Account Currency/Number field: what is owed on the failing invoices, in major units. */
            amountDueField: salesforceFieldName,
            /** Account Number field: collection attempts of the latest failing invoice. */
            attemptCountField: salesforceFieldName,
            /** Account Date field: the next retry; empty when the billing system will not retry. */
            nextRetryDateField: salesforceFieldName,
            /** Account Text field with the failing invoice's billing id, if the org has one. */
            invoiceIdField: salesforceFieldName.optional(),
          })
          .strict(),
        hubspot: z
          .object({
            amountDueProperty: propertyName,
            attemptCountProperty: propertyName,
            nextRetryDateProperty: propertyName,
            invoiceIdProperty: propertyName.optional(),
          })
          .strict(),
        /** Failed payments in 5 minutes that raise the spike alarm. */
        paymentsFailedSpike: z.number().int().min(1),
      })
      .strict(),
    /** Vendor event time to ERP write, p99, above which the latency alarm fires. */
    syncLatencyObjectiveSeconds: z.number().int().min(1),
    quoteToCash: quoteToCashSchema,
    /** The amendment saga (a won upsell or amendment of an active contract). */
    amendment: z
      .object({
        /**
         * How Stripe bills the change mid-period: `create_prorations` (on the next invoice),
         * `always_invoice` (an invoice at once) or `none`.
         * https://docs.stripe.com/billing/subscriptions/prorations
         */
        prorationBehavior: z.enum(PRORATION_BEHAVIORS),
      })
      .strict(),
    subscriptionSync: subscriptionSyncSchema,
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.reconciliation.erpConcurrency >= config.netsuite.concurrencyLimit) {
      ctx.addIssue({
        code: 'custom',
        path: ['reconciliation', 'erpConcurrency'],
        message: `must leave the flows part of netsuite.concurrencyLimit (${config.netsuite.concurrencyLimit})`,
      });
    }
    for (const problem of quoteToCashProblems(config.quoteToCash, config.netsuite)) {
      ctx.addIssue({ code: 'custom', path: ['quoteToCash', ...problem.path], message: problem.message });
    }
    // What the functions will parse at cold start, with their own schemas (lambdas/shared/contracts).
    for (const problem of contractProblems(config)) {
      ctx.addIssue({
        code: 'custom',
        path: problem.path,
        message: `the function environment: ${problem.message}`,
      });
    }
  });

export type StageConfig = z.infer<typeof stageConfigSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError' as const;
}

/** Reads and validates the stage's configuration; the error lists every problem with its path. */
export const loadStageConfig = (stage: string, stages: unknown): StageConfig => {
  if (typeof stages !== 'object' || stages === null) {
    throw new ConfigError('cdk.json context "revbridge:stages" is missing or not an object');
  }
  const raw = (stages as Record<string, unknown>)[stage];
  if (raw === undefined) {
    throw new ConfigError(
      `no configuration for stage "${stage}" in cdk.json context "revbridge:stages" (have: ${Object.keys(stages).join(', ')})`,
    );
  }
  const result = stageConfigSchema.safeParse({ stage, ...(raw as object) });
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `  - ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new ConfigError(`invalid configuration for stage "${stage}":\n${problems.join('\n')}`);
  }
  return result.data;
};
