/**
 * An error as HubSpot's CRM APIs report it: `{ status: 'error', message, correlationId, category, ... }`.
 * https://developers.hubspot.com/docs/api/error-handling
 */
export class HubSpotApiError extends Error {
  override readonly name = 'HubSpotApiError';

  constructor(
    readonly status: number,
    readonly category: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  toBody(correlationId: string): Record<string, unknown> {
    return { status: 'error', message: this.message, correlationId, category: this.category, ...this.extra };
  }
}

/** One entry of a VALIDATION_ERROR's property list, as HubSpot embeds it (JSON) in the message. */
export interface PropertyValidationError {
  isValid: false;
  message: string;
  error: string;
  name: string;
  localizedErrorMessage: string;
}

export function propertyError(name: string, error: string, message: string): PropertyValidationError {
  return { isValid: false, message, error, name, localizedErrorMessage: message };
}

export function validationError(errors: PropertyValidationError[]): HubSpotApiError {
  return new HubSpotApiError(
    400,
    'VALIDATION_ERROR',
    `Property values were not valid: ${JSON.stringify(errors)}`,
  );
}

export function objectNotFound(id: string): HubSpotApiError {
  return new HubSpotApiError(404, 'OBJECT_NOT_FOUND', 'Object not found.  objectId are usually numeric.', {
    context: { id: [id] },
  });
}

export function badRequest(message: string): HubSpotApiError {
  return new HubSpotApiError(400, 'VALIDATION_ERROR', message);
}
