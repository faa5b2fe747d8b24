import type { IncomingMessage, ServerResponse } from 'node:http';
import { type BillingMeter, putEventsEntrySize } from './billing-meter';
import { type AwsFaults, putEventsWithFailures } from './faults';

/**
 * The AWS JSON protocol (awsJson1_0 / awsJson1_1) as the SDK v3 clients speak it: a POST to `/`
 * with `X-Amz-Target: <prefix>.<Operation>` and a JSON body. Every local AWS emulator plugs into
 * this one listener, so `AWS_ENDPOINT_URL_<SERVICE>` can point every client at one port.
 */

/** An error as the service reports it; the SDK turns `__type` into the exception class. */
export class AwsServiceError extends Error {
  override readonly name = 'AwsServiceError' as const;
  constructor(
    /** Short code, e.g. `QueueDoesNotExist`, `ResourceNotFoundException`. */
    readonly code: string,
    message: string,
    /** HTTP status. @default 400 */
    readonly status = 400,
    /** SQS also sends the legacy query error code in `x-amzn-query-error`. */
    readonly queryErrorCode?: string,
  ) {
    super(message);
  }
}

export interface JsonService {
  /** `X-Amz-Target` prefix, e.g. `AmazonSQS`, `AWSEvents`, `AWSStepFunctions`, `secretsmanager`. */
  readonly targetPrefix: string;
  /** Namespace put in front of error codes in `__type`, e.g. `com.amazonaws.sqs`. */
  readonly errorNamespace: string;
  /** Runs one operation; throws `AwsServiceError` for a service error. */
  handle(operation: string, input: Record<string, unknown>): Promise<unknown>;
}

/** Largest request body accepted; SQS and EventBridge cap payloads at 256 KiB (1 MiB for SQS now). */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export const readBody = (req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new AwsServiceError('RequestEntityTooLarge', `request body over ${limit} bytes`, 413));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

const send = (res: ServerResponse, status: number, contentType: string, body: unknown, headers = {}) => {
  const text = JSON.stringify(body ?? {});
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': crypto.randomUUID(),
    ...headers,
  });
  res.end(text);
};

/**
 * Returns a request listener for the given services, or `undefined` from `dispatch` when the request
 * is not an AWS JSON-protocol call (so the caller can route it elsewhere).
 */
export const jsonProtocolListener = (
  services: readonly JsonService[],
  faults?: AwsFaults,
  meter?: BillingMeter,
) => {
  const byPrefix = new Map(services.map((service) => [service.targetPrefix, service]));
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const dot = target.lastIndexOf('.');
    const service = byPrefix.get(target.slice(0, dot));
    const contentType = String(req.headers['content-type'] ?? 'application/x-amz-json-1.0');
    if (!service || dot < 0) {
      send(res, 400, contentType, {
        __type: 'UnknownOperationException',
        message: `unknown target ${target}`,
      });
      return;
    }
    const operation = target.slice(dot + 1);
    try {
      const raw = await readBody(req);
      const input = raw.length === 0 ? {} : (JSON.parse(raw.toString('utf8')) as Record<string, unknown>);
      if (meter) countBilled(meter, service.targetPrefix, operation, input, raw.length);
      const fault = faults?.callFault(service.targetPrefix, operation);
      if (fault) throw fault;
      const output =
        faults && service.targetPrefix === 'AWSEvents' && operation === 'PutEvents'
          ? await putEventsWithFailures(
              input,
              faults.failedEntries(Array.isArray(input.Entries) ? input.Entries.length : 0),
              (entries) => service.handle(operation, entries),
            )
          : await service.handle(operation, input);
      send(res, 200, contentType, output);
    } catch (error) {
      if (error instanceof AwsServiceError) {
        const headers: Record<string, string> = error.queryErrorCode
          ? { 'x-amzn-query-error': `${error.queryErrorCode};${error.status >= 500 ? 'Receiver' : 'Sender'}` }
          : {};
        send(
          res,
          error.status,
          contentType,
          { __type: `${service.errorNamespace}#${error.code}`, message: error.message },
          headers,
        );
        return;
      }
      if (error instanceof SyntaxError) {
        send(res, 400, contentType, { __type: 'SerializationException', message: 'body is not valid JSON' });
        return;
      }
      send(res, 500, contentType, {
        __type: 'InternalFailure',
        message: error instanceof Error ? error.message : 'internal error',
      });
    }
  };
};

/**
 * What AWS bills for one call, as the pricing pages count it: every SQS action is a request per 64 KB
 * of payload, a PutEvents entry is an event per 64 KB, every Secrets Manager call is billed; Step
 * Functions bills transitions (counted by its engine), not API calls.
 */
const countBilled = (
  meter: BillingMeter,
  prefix: string,
  operation: string,
  input: Record<string, unknown>,
  bytes: number,
): void => {
  if (prefix === 'AmazonSQS') meter.sqsRequest(operation, bytes, 'SDK');
  else if (prefix === 'secretsmanager') meter.add('secretsmanager.calls', 1, operation);
  else if (prefix === 'AWSEvents' && operation === 'PutEvents' && Array.isArray(input.Entries))
    meter.putEvents(
      input.Entries.map((entry) => putEventsEntrySize(entry as Record<string, unknown>)),
      'SDK',
    );
};
