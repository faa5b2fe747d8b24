import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { jsonProtocolListener } from '../../local/aws/json-protocol';
import { SecretsManagerService } from '../../local/secretsmanager';

const STRIPE_SECRET = JSON.stringify({ apiKey: 'sk_test_local', webhookSecrets: ['whsec_local'] });

describe('Secrets Manager emulator', () => {
  let service: SecretsManagerService;
  let server: Server;
  let client: SecretsManagerClient;
  let endpoint: string;

  beforeAll(async () => {
    service = new SecretsManagerService({
      secrets: {
        'revbridge/stripe': STRIPE_SECRET,
        'revbridge/netsuite': {
          SecretString: '{"token":"t"}',
          Description: 'NetSuite TBA',
          Tags: [{ Key: 'vendor', Value: 'netsuite' }],
        },
        'revbridge/signing-key': { SecretBinary: Buffer.from([0, 1, 2, 255]) },
      },
    });
    server = createServer(jsonProtocolListener([service]));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = new SecretsManagerClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });

  afterAll(async () => {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('returns a seeded secret by name, by ARN and by partial ARN', async () => {
    const byName = await client.send(new GetSecretValueCommand({ SecretId: 'revbridge/stripe' }));
    expect(byName).toMatchObject({
      Name: 'revbridge/stripe',
      SecretString: STRIPE_SECRET,
      VersionStages: ['AWSCURRENT'],
    });
    expect(byName.ARN).toMatch(
      /^arn:aws:secretsmanager:us-east-1:000000000000:secret:revbridge\/stripe-[A-Za-z0-9]{6}$/,
    );
    expect(byName.ARN).toBe(service.arnOf('revbridge/stripe'));
    expect(byName.VersionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(byName.CreatedDate).toBeInstanceOf(Date);

    const byArn = await client.send(new GetSecretValueCommand({ SecretId: byName.ARN }));
    expect(byArn.SecretString).toBe(STRIPE_SECRET);
    const byPartialArn = await client.send(new GetSecretValueCommand({ SecretId: byName.ARN?.slice(0, -7) }));
    expect(byPartialArn.VersionId).toBe(byName.VersionId);
  });

  it('returns binary secrets as bytes', async () => {
    const { SecretBinary, SecretString } = await client.send(
      new GetSecretValueCommand({ SecretId: 'revbridge/signing-key' }),
    );
    expect(SecretString).toBeUndefined();
    expect([...(SecretBinary ?? [])]).toEqual([0, 1, 2, 255]);
  });

  it('answers ResourceNotFoundException for an unknown secret or version', async () => {
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: 'revbridge/nope' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
    });
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: 'revbridge/stripe', VersionStage: 'AWSPENDING' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(
      client.send(new DescribeSecretCommand({ SecretId: 'revbridge/nope' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('creates a secret, rotates it with PutSecretValue and keeps the previous version as AWSPREVIOUS', async () => {
    const created = await client.send(
      new CreateSecretCommand({ Name: 'revbridge/hubspot', SecretString: 'v1' }),
    );
    await expect(
      client.send(new CreateSecretCommand({ Name: 'revbridge/hubspot', SecretString: 'again' })),
    ).rejects.toMatchObject({ name: 'ResourceExistsException' });

    const put = await client.send(
      new PutSecretValueCommand({
        SecretId: 'revbridge/hubspot',
        SecretString: 'v2',
        ClientRequestToken: 'token-v2-000000000000000000000000',
      }),
    );
    expect(put.VersionStages).toEqual(['AWSCURRENT']);
    const repeated = await client.send(
      new PutSecretValueCommand({
        SecretId: 'revbridge/hubspot',
        SecretString: 'v2',
        ClientRequestToken: 'token-v2-000000000000000000000000',
      }),
    );
    expect(repeated.VersionId).toBe(put.VersionId);

    const current = await client.send(new GetSecretValueCommand({ SecretId: created.ARN }));
    expect(current.SecretString).toBe('v2');
    const previous = await client.send(
      new GetSecretValueCommand({ SecretId: 'revbridge/hubspot', VersionStage: 'AWSPREVIOUS' }),
    );
    expect(previous).toMatchObject({ SecretString: 'v1', VersionId: created.VersionId });

    const described = await client.send(new DescribeSecretCommand({ SecretId: 'revbridge/hubspot' }));
    expect(described.VersionIdsToStages).toEqual({
      [created.VersionId ?? '']: ['AWSPREVIOUS'],
      [put.VersionId ?? '']: ['AWSCURRENT'],
    });
    expect(described.LastAccessedDate).toBeInstanceOf(Date);
  });

  it('lists secrets with a name prefix filter, without their values', async () => {
    const { SecretList } = await client.send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['revbridge/net'] }] }),
    );
    expect(SecretList).toHaveLength(1);
    expect(SecretList?.[0]).toMatchObject({
      Name: 'revbridge/netsuite',
      Description: 'NetSuite TBA',
      Tags: [{ Key: 'vendor', Value: 'netsuite' }],
    });
    expect(SecretList?.[0]).not.toHaveProperty('SecretString');
    const all = await client.send(new ListSecretsCommand({ MaxResults: 2 }));
    expect(all.SecretList).toHaveLength(2);
    // The token continues the list where the first page stopped: both pages together are every secret, once.
    const rest = await client.send(new ListSecretsCommand({ NextToken: all.NextToken }));
    const every = await client.send(new ListSecretsCommand({}));
    expect([...(all.SecretList ?? []), ...(rest.SecretList ?? [])].map((s) => s.Name)).toEqual(
      (every.SecretList ?? []).map((s) => s.Name),
    );
  });

  it('serves Powertools Parameters getSecret through AWS_ENDPOINT_URL_SECRETS_MANAGER', async () => {
    const overrides = {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };
    const saved = Object.fromEntries(Object.keys(overrides).map((key) => [key, process.env[key]]));
    Object.assign(process.env, overrides);
    try {
      expect(await getSecret('revbridge/stripe', { transform: 'json', forceFetch: true })).toEqual({
        apiKey: 'sk_test_local',
        webhookSecrets: ['whsec_local'],
      });
      await expect(getSecret('revbridge/missing', { forceFetch: true })).rejects.toThrow();
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});
