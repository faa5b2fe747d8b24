import { z } from 'zod';

/**
 * A stage's configuration, from `cdk.json` context (`revbridge:stages.<stage>`), validated at synth:
 * `cdk synth` fails with every problem listed rather than deploying half a configuration.
 */

const id = z.string().min(1);

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
    }),
    netsuite: z.object({
      /** REST base URL, e.g. https://1234567.suitetalk.api.netsuite.com */
      baseUrl: z.url().refine((url) => url.startsWith('https://'), 'must be an https URL'),
      /** Concurrent requests the account allows (NetSuite: 5 to 15 depending on licence). */
      concurrencyLimit: z.number().int().min(2).max(100),
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
    }),
    hubspot: z.object({
      /** Deal stage values that mean won. */
      wonStages: z.array(z.string().min(1)).min(1),
      /**
       * The public base URL HubSpot calls (it signs it), when not the API's own execute-api URL,
       * e.g. behind a custom domain. @default https://<api-id>.execute-api.<region>.amazonaws.com/<stage>
       */
      webhookBaseUrl: z.url().optional(),
    }),
    /** Vendor event time to ERP write, p99, above which the latency alarm fires. */
    syncLatencyObjectiveSeconds: z.number().int().min(1),
  })
  .strict();

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
