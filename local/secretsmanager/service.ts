import { randomBytes, randomUUID } from 'node:crypto';
import { AwsServiceError, type JsonService } from '../aws/json-protocol';

/**
 * Secrets Manager (awsJson1_1) in memory, for handlers reading secrets with the SDK or Powertools
 * Parameters. Versions carry staging labels like the real service: a new value becomes AWSCURRENT
 * and the previous one AWSPREVIOUS.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/whats-in-a-secret.html
 */

export interface SeedSecret {
  readonly SecretString?: string;
  /** Raw bytes, or a base64 string. */
  readonly SecretBinary?: Uint8Array | string;
  readonly Description?: string;
  readonly Tags?: readonly { Key: string; Value: string }[];
}

export interface SecretsManagerServiceOptions {
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '000000000000' */
  readonly accountId?: string;
  /** Secrets to start with, by name: a string is the SecretString. */
  readonly secrets?: Readonly<Record<string, string | SeedSecret>>;
}

interface SecretVersion {
  readonly versionId: string;
  readonly secretString?: string;
  /** Base64, as the JSON protocol carries blobs. */
  readonly secretBinary?: string;
  readonly createdDate: Date;
  readonly stages: Set<string>;
}

interface Secret {
  readonly name: string;
  readonly arn: string;
  description?: string;
  tags: { Key: string; Value: string }[];
  readonly createdDate: Date;
  lastChangedDate: Date;
  lastAccessedDate?: Date;
  readonly versions: Map<string, SecretVersion>;
}

const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
/** https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html#SecretsManager-CreateSecret-request-Name */
const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

const epochSeconds = (date: Date): number => date.getTime() / 1000;

const notFound = (detail = 'secret') =>
  new AwsServiceError('ResourceNotFoundException', `Secrets Manager can't find the specified ${detail}.`);

const optionalString = (input: Record<string, unknown>, key: string): string | undefined => {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw new AwsServiceError('InvalidParameterException', `${key} must be a string`);
  return value;
};

const requiredString = (input: Record<string, unknown>, key: string): string => {
  const value = optionalString(input, key);
  if (value === undefined) throw new AwsServiceError('InvalidParameterException', `${key} is required`);
  return value;
};

const parseTags = (value: unknown): { Key: string; Value: string }[] => {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new AwsServiceError('InvalidParameterException', 'Tags must be a list');
  return value.map((tag: unknown) => {
    const record = typeof tag === 'object' && tag !== null ? (tag as Record<string, unknown>) : {};
    return { Key: String(record.Key ?? ''), Value: String(record.Value ?? '') };
  });
};

export class SecretsManagerService implements JsonService {
  readonly targetPrefix = 'secretsmanager';
  readonly errorNamespace = 'com.amazonaws.secretsmanager';
  private readonly region: string;
  private readonly accountId: string;
  private readonly secrets = new Map<string, Secret>();

  constructor(options: SecretsManagerServiceOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    if (options.secrets) this.seed(options.secrets);
  }

  /** Adds secrets, or gives existing ones a new current value. */
  seed(secrets: Readonly<Record<string, string | SeedSecret>>): void {
    for (const [name, seed] of Object.entries(secrets)) {
      const value: SeedSecret = typeof seed === 'string' ? { SecretString: seed } : seed;
      const binary =
        value.SecretBinary === undefined
          ? undefined
          : typeof value.SecretBinary === 'string'
            ? value.SecretBinary
            : Buffer.from(value.SecretBinary).toString('base64');
      const existing = this.secrets.get(name);
      if (existing) {
        this.addVersion(existing, randomUUID(), value.SecretString, binary, [CURRENT]);
        continue;
      }
      this.create(name, {
        ...(value.SecretString === undefined ? {} : { secretString: value.SecretString }),
        ...(binary === undefined ? {} : { secretBinary: binary }),
        ...(value.Description === undefined ? {} : { description: value.Description }),
        tags: [...(value.Tags ?? [])],
      });
    }
  }

  /** The full ARN of a secret, e.g. to put in a function's environment. */
  arnOf(name: string): string | undefined {
    return this.secrets.get(name)?.arn;
  }

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'GetSecretValue':
        return this.getSecretValue(input);
      case 'DescribeSecret':
        return this.describe(this.find(requiredString(input, 'SecretId')));
      case 'CreateSecret':
        return this.createSecret(input);
      case 'PutSecretValue':
        return this.putSecretValue(input);
      case 'ListSecrets':
        return this.listSecrets(input);
      default:
        throw new AwsServiceError(
          'UnknownOperationException',
          `operation ${operation} is not emulated locally`,
        );
    }
  }

  /**
   * A secret is found by name, full ARN, or partial ARN (without the random suffix).
   * https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#ARN_secretnamehyphen
   */
  private find(secretId: string): Secret {
    const byName = this.secrets.get(secretId);
    if (byName) return byName;
    for (const secret of this.secrets.values()) {
      if (secret.arn === secretId || secret.arn.slice(0, -7) === secretId) return secret;
    }
    throw notFound();
  }

  private create(
    name: string,
    value: {
      secretString?: string;
      secretBinary?: string;
      description?: string;
      tags: { Key: string; Value: string }[];
    },
    versionId: string = randomUUID(),
  ): { secret: Secret; versionId?: string } {
    const bytes = randomBytes(6);
    const suffix = [...bytes].map((byte) => SUFFIX_ALPHABET[byte % SUFFIX_ALPHABET.length]).join('');
    const now = new Date();
    const secret: Secret = {
      name,
      arn: `arn:aws:secretsmanager:${this.region}:${this.accountId}:secret:${name}-${suffix}`,
      ...(value.description === undefined ? {} : { description: value.description }),
      tags: value.tags,
      createdDate: now,
      lastChangedDate: now,
      versions: new Map(),
    };
    this.secrets.set(name, secret);
    if (value.secretString === undefined && value.secretBinary === undefined) return { secret };
    this.addVersion(secret, versionId, value.secretString, value.secretBinary, [CURRENT]);
    return { secret, versionId };
  }

  /** Labels move to the new version; the version losing AWSCURRENT becomes AWSPREVIOUS. */
  private addVersion(
    secret: Secret,
    versionId: string,
    secretString: string | undefined,
    secretBinary: string | undefined,
    stages: readonly string[],
  ): SecretVersion {
    const labels = new Set(stages);
    for (const version of secret.versions.values()) {
      if (labels.has(CURRENT) && version.stages.has(CURRENT)) {
        for (const other of secret.versions.values()) other.stages.delete(PREVIOUS);
        version.stages.add(PREVIOUS);
      }
      for (const label of labels) version.stages.delete(label);
    }
    const version: SecretVersion = {
      versionId,
      ...(secretString === undefined ? {} : { secretString }),
      ...(secretBinary === undefined ? {} : { secretBinary }),
      createdDate: new Date(),
      stages: labels,
    };
    secret.versions.set(versionId, version);
    secret.lastChangedDate = version.createdDate;
    return version;
  }

  private getSecretValue(input: Record<string, unknown>) {
    const secret = this.find(requiredString(input, 'SecretId'));
    const versionId = optionalString(input, 'VersionId');
    const stage = optionalString(input, 'VersionStage') ?? (versionId === undefined ? CURRENT : undefined);
    const version =
      versionId === undefined
        ? [...secret.versions.values()].find(
            (candidate) => stage !== undefined && candidate.stages.has(stage),
          )
        : secret.versions.get(versionId);
    if (!version || (stage !== undefined && !version.stages.has(stage))) {
      throw notFound(
        versionId === undefined
          ? `secret value for staging label: ${stage}`
          : `secret value for VersionId: ${versionId}`,
      );
    }
    secret.lastAccessedDate = new Date();
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      ...(version.secretString === undefined ? {} : { SecretString: version.secretString }),
      ...(version.secretBinary === undefined ? {} : { SecretBinary: version.secretBinary }),
      VersionStages: [...version.stages],
      CreatedDate: epochSeconds(version.createdDate),
    };
  }

  private describe(secret: Secret) {
    const versionIdsToStages = Object.fromEntries(
      [...secret.versions.values()]
        .filter((version) => version.stages.size > 0)
        .map((version) => [version.versionId, [...version.stages]]),
    );
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(secret.description === undefined ? {} : { Description: secret.description }),
      RotationEnabled: false,
      LastChangedDate: epochSeconds(secret.lastChangedDate),
      ...(secret.lastAccessedDate ? { LastAccessedDate: epochSeconds(secret.lastAccessedDate) } : {}),
      Tags: secret.tags,
      VersionIdsToStages: versionIdsToStages,
      CreatedDate: epochSeconds(secret.createdDate),
    };
  }

  private secretValueInput(input: Record<string, unknown>): { secretString?: string; secretBinary?: string } {
    const secretString = optionalString(input, 'SecretString');
    const secretBinary = optionalString(input, 'SecretBinary');
    if (secretString !== undefined && secretBinary !== undefined) {
      throw new AwsServiceError(
        'InvalidParameterException',
        'You can specify SecretString or SecretBinary, not both',
      );
    }
    return {
      ...(secretString === undefined ? {} : { secretString }),
      ...(secretBinary === undefined ? {} : { secretBinary }),
    };
  }

  private createSecret(input: Record<string, unknown>) {
    const name = requiredString(input, 'Name');
    if (!NAME.test(name)) throw new AwsServiceError('InvalidParameterException', `Invalid name: ${name}`);
    const value = this.secretValueInput(input);
    if (this.secrets.has(name)) {
      throw new AwsServiceError(
        'ResourceExistsException',
        `The operation failed because the secret ${name} already exists.`,
      );
    }
    const description = optionalString(input, 'Description');
    const { secret, versionId } = this.create(
      name,
      { ...value, ...(description === undefined ? {} : { description }), tags: parseTags(input.Tags) },
      optionalString(input, 'ClientRequestToken'),
    );
    return { ARN: secret.arn, Name: secret.name, ...(versionId ? { VersionId: versionId } : {}) };
  }

  private putSecretValue(input: Record<string, unknown>) {
    const secret = this.find(requiredString(input, 'SecretId'));
    const value = this.secretValueInput(input);
    if (value.secretString === undefined && value.secretBinary === undefined) {
      throw new AwsServiceError(
        'InvalidRequestException',
        'You must provide either SecretString or SecretBinary.',
      );
    }
    const versionId = optionalString(input, 'ClientRequestToken') ?? randomUUID();
    const existing = secret.versions.get(versionId);
    if (existing) {
      // The token makes the call idempotent; a different value under the same version is refused.
      // https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html
      if (existing.secretString !== value.secretString || existing.secretBinary !== value.secretBinary) {
        throw new AwsServiceError(
          'ResourceExistsException',
          `A version with VersionId ${versionId} already exists with a different value.`,
        );
      }
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: versionId,
        VersionStages: [...existing.stages],
      };
    }
    const stages = Array.isArray(input.VersionStages)
      ? input.VersionStages.filter((stage): stage is string => typeof stage === 'string')
      : [CURRENT];
    const version = this.addVersion(secret, versionId, value.secretString, value.secretBinary, stages);
    return { ARN: secret.arn, Name: secret.name, VersionId: versionId, VersionStages: [...version.stages] };
  }

  private listSecrets(input: Record<string, unknown>) {
    const filters = Array.isArray(input.Filters) ? input.Filters : [];
    const matches = (secret: Secret): boolean =>
      filters.every((filter: unknown) => {
        const record =
          typeof filter === 'object' && filter !== null ? (filter as Record<string, unknown>) : {};
        const values = Array.isArray(record.Values) ? record.Values.map(String) : [];
        // Filters match prefixes. https://docs.aws.amazon.com/secretsmanager/latest/userguide/manage_search-secret.html
        const fields: Record<string, string[]> = {
          name: [secret.name],
          description: secret.description === undefined ? [] : [secret.description],
          'tag-key': secret.tags.map((tag) => tag.Key),
          'tag-value': secret.tags.map((tag) => tag.Value),
        };
        fields.all = Object.values(fields).flat();
        const candidates = fields[String(record.Key)] ?? [];
        return values.some((prefix) => candidates.some((candidate) => candidate.startsWith(prefix)));
      });
    const all = [...this.secrets.values()].filter(matches).sort((a, b) => (a.name < b.name ? -1 : 1));
    const size =
      typeof input.MaxResults === 'number' && input.MaxResults > 0 ? Math.min(input.MaxResults, 100) : 100;
    const token = optionalString(input, 'NextToken');
    const start = token === undefined ? 0 : Number(Buffer.from(token, 'base64').toString('utf8'));
    if (!Number.isInteger(start) || start < 0)
      throw new AwsServiceError('InvalidNextTokenException', 'Invalid token');
    const end = start + size;
    return {
      SecretList: all.slice(start, end).map((secret) => {
        const { VersionIdsToStages, ...rest } = this.describe(secret);
        return { ...rest, SecretVersionsToStages: VersionIdsToStages };
      }),
      ...(end < all.length ? { NextToken: Buffer.from(String(end)).toString('base64') } : {}),
    };
  }
}
