/**
 * Why a saga failed, in words safe to show the CRM owner: the step and the error code, never the
 * vendor's message (it can quote what was sent). Validation failures are the exception: their message
 * is the list of problems, which the saga's own code wrote and which names fields, not values.
 */

/** A Catch's `ResultPath` value: the error name and, for a function error, its JSON cause. */
export interface Caught {
  readonly Error: string;
  readonly Cause?: string | null | undefined;
}

export const describeSagaFailure = (
  failure: Readonly<Record<string, Caught>> | undefined,
  /** The saga's forward state names → what each does, in words. */
  forwardStates: Readonly<Record<string, string>>,
  /** The reason shown for a validation failure without a message. */
  invalid: string,
): { code: string; reason: string } => {
  const [state, caught] = Object.entries(failure ?? {})[0] ?? [];
  if (!state || !caught) return { code: 'Unknown', reason: 'the saga failed for an unknown reason' };
  const step = forwardStates[state] ?? state;
  const { code, message } = readCause(caught);
  if (code === 'ValidationFailed') return { code, reason: message || invalid };
  switch (caught.Error) {
    case 'PermanentError':
      return { code, reason: `${step} was rejected (${code})` };
    case 'TransientError':
      return { code, reason: `${step} kept failing (${code}); gave up after retrying` };
    case 'States.Timeout':
      return { code: 'Timeout', reason: `${step} timed out` };
    default:
      return { code: caught.Error, reason: `${step} failed (${caught.Error})` };
  }
};

/**
 * A function's error reaches the Catch as `Cause` = the Lambda runtime's JSON (`errorMessage`); the
 * step handler writes its messages as `[code] text`, so the code survives that trip.
 */
const readCause = (caught: Caught): { code: string; message: string } => {
  let text = caught.Cause ?? '';
  try {
    const parsed = JSON.parse(text) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') text = parsed.errorMessage;
  } catch {
    // A service error's Cause is plain text.
  }
  const match = /^\[([^\]]+)\]\s*(.*)$/s.exec(text);
  return match
    ? { code: match[1] ?? caught.Error, message: match[2] ?? '' }
    : { code: caught.Error, message: '' };
};
