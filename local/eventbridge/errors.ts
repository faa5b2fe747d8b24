/** The local EventBridge's errors: the AWS error codes it throws, and how a delivery failure is named. */
import { AwsServiceError } from '../aws/json-protocol';
import { type CompiledPattern, InvalidEventPatternError, parseEventPattern } from './pattern';

export const validation = (message: string) => new AwsServiceError('ValidationException', message);
export const notFound = (message: string) => new AwsServiceError('ResourceNotFoundException', message);
export const alreadyExists = (message: string) =>
  new AwsServiceError('ResourceAlreadyExistsException', message);

export const errorCode = (error: unknown): string => {
  if (typeof error === 'object' && error !== null) {
    const { code, name } = error as { code?: unknown; name?: unknown };
    if (typeof code === 'string') return code;
    if (typeof name === 'string') return name;
  }
  return 'Error';
};
export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** Compiles an event pattern, reporting a bad one as EventBridge does (InvalidEventPatternException). */
export const compile = (eventPattern: string): CompiledPattern => {
  try {
    return parseEventPattern(eventPattern);
  } catch (error) {
    if (error instanceof InvalidEventPatternError) {
      throw new AwsServiceError('InvalidEventPatternException', error.message);
    }
    throw error;
  }
};
