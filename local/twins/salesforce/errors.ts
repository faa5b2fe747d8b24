/**
 * An error as the Salesforce REST API reports it: an HTTP status and a JSON array of
 * `{ message, errorCode, fields? }`. https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
 */
export class SalesforceApiError extends Error {
  override readonly name = 'SalesforceApiError';

  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fields?: readonly string[],
  ) {
    super(message);
  }

  toBody(): Array<{ message: string; errorCode: string; fields?: string[] }> {
    return [
      {
        message: this.message,
        errorCode: this.errorCode,
        ...(this.fields === undefined ? {} : { fields: [...this.fields] }),
      },
    ];
  }
}

export const notFound = (): SalesforceApiError =>
  new SalesforceApiError(404, 'NOT_FOUND', 'The requested resource does not exist');

export const invalidField = (message: string, fields?: readonly string[]): SalesforceApiError =>
  new SalesforceApiError(400, 'INVALID_FIELD', message, fields);

export const jsonParserError = (message: string): SalesforceApiError =>
  new SalesforceApiError(400, 'JSON_PARSER_ERROR', message);

export const malformedQuery = (message: string): SalesforceApiError =>
  new SalesforceApiError(400, 'MALFORMED_QUERY', message);

/** Several records share the external id: the API answers 300 with where they are. */
export class MultipleMatchesError extends SalesforceApiError {
  constructor(
    readonly sobject: string,
    readonly ids: readonly string[],
  ) {
    super(300, 'MULTIPLE_CHOICES', `${ids.length} records match`);
  }
}
