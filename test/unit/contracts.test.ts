import { envSchema as postInvoiceEnv } from '../../lambdas/post-invoice/schema';
import { ENV } from '../../lambdas/shared/contracts/env';
import { secretShape } from '../../lambdas/shared/contracts/secrets';
import { nonEmpty, parseEnv } from '../../lambdas/shared/env';
import { contractProblems, netsuiteMappings } from '../../lib/vendor-environment';
import { devConfig } from '../support/synth';

describe('the contract between the stack and the handlers', () => {
  it('finds nothing to report in the dev stage: every mapping the stack hands over parses at cold start', () => {
    expect(contractProblems(devConfig())).toEqual([]);
  });

  it('names the variable and field a handler would refuse', () => {
    const config = devConfig();
    const broken = { ...config, netsuite: { ...config.netsuite, taxItemId: '' } };
    const problems = contractProblems(broken);
    expect(problems.map((problem) => problem.path.join('.'))).toEqual([
      'NETSUITE_MAPPING.taxItemId',
      'NETSUITE_MAPPING.taxItemId',
    ]);
  });

  it('lets a handler parse the NetSuite mapping exactly as the stack serializes it', () => {
    const mapping = netsuiteMappings(devConfig()).document;
    const env = parseEnv(postInvoiceEnv, {
      [ENV.EVENT_BUS_NAME]: 'bus',
      [ENV.IDEMPOTENCY_TABLE_NAME]: 'idempotency',
      [ENV.QUEUE_URL]: 'https://sqs.local/queue',
      [ENV.LINKS_TABLE_NAME]: 'links',
      [ENV.EXCEPTIONS_TABLE_NAME]: 'exceptions',
      [ENV.NETSUITE_BASE_URL]: 'https://1234567.suitetalk.api.netsuite.com',
      [ENV.NETSUITE_SECRET_ID]: 'netsuite',
      [ENV.NETSUITE_TIMEOUT_MS]: '10000',
      [ENV.CONCURRENCY_LEASES_TABLE_NAME]: 'leases',
      [ENV.NETSUITE_CONCURRENCY_LIMIT]: '10',
      [ENV.NETSUITE_MAPPING]: JSON.stringify(mapping),
    });
    expect(env.NETSUITE_MAPPING).toEqual(mapping);
  });
});

describe('a secret shape', () => {
  it('reads a bare value or the value under its key', () => {
    const schema = secretShape('apiKey');
    expect(schema.parse('sk_test_1')).toBe('sk_test_1');
    expect(schema.parse({ apiKey: 'sk_test_1' })).toBe('sk_test_1');
    expect(schema.safeParse({ key: 'sk_test_1' }).success).toBe(false);
    expect(schema.safeParse('').success).toBe(false);
  });

  it('gives a rotating secret as a list, a bare value as a list of one', () => {
    const schema = secretShape('secrets', nonEmpty(), { rotating: true });
    expect(schema.parse('new')).toEqual(['new']);
    expect(schema.parse({ secrets: ['new', 'old'] })).toEqual(['new', 'old']);
    expect(schema.safeParse({ secrets: [] }).success).toBe(false);
  });
});
