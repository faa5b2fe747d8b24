import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod/mini';
import { loadSecret } from '../../lambdas/shared/secrets';

jest.mock('@aws-lambda-powertools/parameters/secrets', () => ({ getSecret: jest.fn() }));
const secretValue = jest.mocked(getSecret);

const failureOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; code: string; message: string };
    return { name: e.name, code: e.code, message: e.message };
  }
  throw new Error('expected a rejection');
};

describe('secrets', () => {
  afterEach(() => secretValue.mockReset());

  it('parses a JSON secret with the schema, caching it for five minutes by default', async () => {
    secretValue.mockResolvedValue('{"apiKey":"k","accountId":"a"}');
    await expect(loadSecret('stripe', z.object({ apiKey: z.string() }))).resolves.toEqual({ apiKey: 'k' });
    expect(secretValue).toHaveBeenCalledWith('stripe', { maxAge: 300 });
  });

  it('passes a plain string secret to the schema as it is, with the cache age asked for', async () => {
    secretValue.mockResolvedValue('whsec_plain');
    await expect(loadSecret('hook', z.string(), 60)).resolves.toBe('whsec_plain');
    expect(secretValue).toHaveBeenCalledWith('hook', { maxAge: 60 });
  });

  it('is transient when Secrets Manager cannot be read', async () => {
    secretValue.mockRejectedValue(new Error('ThrottlingException'));
    expect(await failureOf(loadSecret('s', z.string()))).toEqual({
      name: 'TransientError',
      code: 'SecretUnavailable',
      message: 'could not read secret',
    });
  });

  it('is transient when the secret holds no string', async () => {
    secretValue.mockResolvedValue(undefined);
    expect((await failureOf(loadSecret('s', z.string()))).code).toBe('SecretUnavailable');
  });

  it('is transient, without the value, when the secret is broken JSON', async () => {
    secretValue.mockResolvedValue('{"apiKey": sk_live_oops');
    const failure = await failureOf(loadSecret('s', z.object({ apiKey: z.string() })));
    expect(failure).toEqual({
      name: 'TransientError',
      code: 'SecretMalformed',
      message: 'secret is not valid JSON',
    });
  });

  it('names the fields of a wrong shape, never their values', async () => {
    secretValue.mockResolvedValue('{"apiKey":12345}');
    const failure = await failureOf(loadSecret('s', z.object({ apiKey: z.string() })));
    expect(failure.code).toBe('SecretMalformed');
    expect(failure.message).toMatch(/^secret has the wrong shape: apiKey: /);
    expect(failure.message).not.toContain('12345');
  });
});
