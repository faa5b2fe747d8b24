import * as z from 'zod/mini';
import { nonEmpty } from '../env';

/**
 * The shape of a secret in Secrets Manager, written once for every secret the functions read: either
 * the value itself (`"sk_..."`) or a JSON object holding it under one key (`{"apiKey":"sk_..."}`).
 * With `rotating`, the object holds a list under that key (`{"webhookSecrets":["new","old"]}`) while
 * a secret is being rolled, and the schema always gives a list (a bare value is a list of one).
 * Only field names reach an error message, never values (lambdas/shared/secrets.ts `loadSecret`).
 */
export function secretShape(key: string, value?: z.ZodMiniType<string>): z.ZodMiniType<string>;
export function secretShape(
  key: string,
  value: z.ZodMiniType<string>,
  options: { readonly rotating: true },
): z.ZodMiniType<string[]>;
export function secretShape(
  key: string,
  value: z.ZodMiniType<string> = nonEmpty(),
  options: { readonly rotating?: boolean } = {},
): z.ZodMiniType<string> | z.ZodMiniType<string[]> {
  if (!options.rotating) {
    return z.union([
      value,
      z.pipe(
        z.object({ [key]: value }),
        z.transform((held: Record<string, string>) => held[key] as string),
      ),
    ]);
  }
  return z.union([
    z.pipe(
      value,
      z.transform((single: string) => [single]),
    ),
    z.pipe(
      z.object({ [key]: z.array(value).check(z.minLength(1)) }),
      z.transform((held: Record<string, string[]>) => held[key] as string[]),
    ),
  ]);
}
