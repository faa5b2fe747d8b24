import Stripe from 'stripe';

/** Stripe's own default; a signature older than this is treated as a replay. https://docs.stripe.com/webhooks#replay-attacks */
export const STRIPE_TOLERANCE_SECONDS = 300;

export type VerifyResult = { ok: true; payload: unknown } | { ok: false; reason: string };

/**
 * Verifies a `Stripe-Signature` header against the exact bytes Stripe sent, with the official
 * package: it accepts any of several `v1` signatures (Stripe sends one per active secret while a
 * secret is being rolled) and enforces the timestamp tolerance. Several of our own secrets may be
 * configured at once too (during our side of a rotation); any one verifying is enough.
 *
 * The reasons are meant for the sender: they say what is wrong without saying what would be right.
 */
export const verifyStripeSignature = (
  rawBody: Buffer,
  header: string | undefined,
  secrets: readonly string[],
  nowSeconds?: number,
): VerifyResult => {
  if (!header) return { ok: false, reason: 'missing Stripe-Signature header' };
  let lastReason = 'signature does not match';
  for (const secret of secrets) {
    try {
      // constructEvent also JSON-parses the body after verifying it.
      const payload = Stripe.webhooks.constructEvent(
        rawBody,
        header,
        secret,
        STRIPE_TOLERANCE_SECONDS,
        undefined,
        // stripe-node takes the receive time in milliseconds (it divides by 1000).
        nowSeconds === undefined ? undefined : nowSeconds * 1000,
      );
      return { ok: true, payload };
    } catch (error) {
      lastReason = reasonFor(error);
      if (lastReason !== 'signature does not match') break;
    }
  }
  return { ok: false, reason: lastReason };
};

const reasonFor = (error: unknown): string => {
  const message = error instanceof Error ? error.message : '';
  if (/timestamp outside the tolerance zone/i.test(message))
    return 'signature timestamp outside the tolerance window';
  if (/unable to extract timestamp and signatures/i.test(message)) return 'malformed Stripe-Signature header';
  if (/no signatures found matching/i.test(message)) return 'signature does not match';
  if (error instanceof SyntaxError) return 'body is not valid JSON';
  return 'signature does not match';
};
