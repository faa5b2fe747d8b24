import * as z from 'zod/mini';
import { describeIssues } from '../domain/events';

/**
 * Parses `process.env` once, at cold start, with the function's own schema. A missing or malformed
 * variable fails the init with every problem listed, instead of a `undefined` deep inside a request.
 */
export const parseEnv = <S extends z.ZodMiniType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> => {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new Error(`invalid environment: ${describeIssues(result.error.issues)}`);
  }
  return result.data;
};

export const nonEmpty = () => z.string().check(z.minLength(1));

export const positiveIntFromString = () =>
  z.pipe(
    z.string().check(z.regex(/^\d+$/, 'must be a positive integer')),
    z.transform((value: string) => Number.parseInt(value, 10)),
  );

/**
 * A comma-separated list (`Closed Won, Contract Signed`), trimmed, empty entries dropped; at least
 * one entry. Use with `z._default(commaSeparated(), [...])` for an optional variable.
 */
export const commaSeparated = () =>
  z
    .pipe(
      z.string(),
      z.transform((value: string) =>
        value
          .split(',')
          .map((entry) => entry.trim())
          .filter((entry) => entry.length > 0),
      ),
    )
    .check(z.minLength(1, 'must list at least one value'));

/** An environment variable holding JSON (a mapping the stack serialized); the schema after it checks the shape. */
export const jsonFromString = () =>
  z.pipe(
    z.string(),
    z.transform((value: string, ctx) => {
      try {
        return JSON.parse(value) as unknown;
      } catch {
        // The value itself is not repeated: it may be long, and the message reaches a log.
        ctx.issues.push({ code: 'custom', message: 'must be JSON', input: '' });
        return z.NEVER;
      }
    }),
  );
