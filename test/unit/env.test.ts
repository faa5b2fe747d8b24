import * as z from 'zod/mini';
import {
  commaSeparated,
  jsonFromString,
  nonEmpty,
  parseEnv,
  positiveIntFromString,
} from '../../lambdas/shared/env';

const schema = z.object({
  TABLE_NAME: nonEmpty(),
  BATCH_SIZE: positiveIntFromString(),
  WON_STAGES: z._default(commaSeparated(), ['Closed Won']),
  MAPPING: z.optional(z.pipe(jsonFromString(), z.object({ subsidiary: z.string() }))),
});

describe('environment parsing at cold start', () => {
  it('turns the strings of process.env into typed values', () => {
    expect(
      parseEnv(schema, {
        TABLE_NAME: 'links',
        BATCH_SIZE: '25',
        WON_STAGES: ' Closed Won, ,Contract Signed ',
        MAPPING: '{"subsidiary":"2"}',
      }),
    ).toEqual({
      TABLE_NAME: 'links',
      BATCH_SIZE: 25,
      WON_STAGES: ['Closed Won', 'Contract Signed'],
      MAPPING: { subsidiary: '2' },
    });
  });

  it('uses the default list when the variable is absent', () => {
    expect(parseEnv(schema, { TABLE_NAME: 't', BATCH_SIZE: '1' }).WON_STAGES).toEqual(['Closed Won']);
  });

  it('lists every problem by variable name in one error', () => {
    expect(() => parseEnv(schema, { TABLE_NAME: '', BATCH_SIZE: '-1', WON_STAGES: ' , ' })).toThrow(
      /^invalid environment: TABLE_NAME: .+; BATCH_SIZE: must be a positive integer; WON_STAGES: must list at least one value$/,
    );
  });

  it('reports a variable that is not JSON without repeating its value', () => {
    let message = '';
    try {
      parseEnv(schema, { TABLE_NAME: 't', BATCH_SIZE: '1', MAPPING: '{secret-ish' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('invalid environment: MAPPING: must be JSON');
  });

  it('rejects a JSON variable of the wrong shape by field', () => {
    expect(() => parseEnv(schema, { TABLE_NAME: 't', BATCH_SIZE: '1', MAPPING: '{"subsidiary":2}' })).toThrow(
      /^invalid environment: MAPPING\.subsidiary: /,
    );
  });

  it('reads process.env when no environment is given', () => {
    process.env.REVBRIDGE_ENV_TEST = 'from-process';
    try {
      expect(parseEnv(z.object({ REVBRIDGE_ENV_TEST: nonEmpty() }))).toEqual({
        REVBRIDGE_ENV_TEST: 'from-process',
      });
    } finally {
      delete process.env.REVBRIDGE_ENV_TEST;
    }
  });
});
