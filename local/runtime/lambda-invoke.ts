import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../aws/json-protocol';
import type { LambdaHost } from './lambda-host';

/**
 * Lambda's Invoke (REST-JSON, `POST /2015-03-31/functions/<name>/invocations`, RequestResponse) on
 * the runtime's AWS endpoint, so an SDK client (the operator CLI's `reconcile`, when the flow is a
 * function) invokes a template's function as it would on AWS:
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 */
const PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

export const isLambdaInvoke = (req: IncomingMessage): boolean =>
  req.method === 'POST' && PATH.test(new URL(req.url ?? '/', 'http://localhost').pathname);

export const lambdaInvokeListener =
  (host: () => LambdaHost) =>
  async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const name = decodeURIComponent(
      PATH.exec(new URL(req.url ?? '/', 'http://localhost').pathname)?.[1] ?? '',
    );
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(body ?? null);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
        'x-amzn-requestid': crypto.randomUUID(),
        ...headers,
      });
      res.end(text);
    };
    try {
      const raw = (await readBody(req, 6 * 1024 * 1024)).toString('utf8');
      const outcome = await host().invoke(name, raw ? JSON.parse(raw) : {});
      if (outcome.ok) send(200, outcome.result, { 'x-amz-executed-version': '$LATEST' });
      else
        send(
          200,
          { errorType: outcome.error.errorType, errorMessage: outcome.error.errorMessage },
          { 'x-amz-function-error': 'Unhandled' },
        );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message.includes('is not in the template'))
        send(
          404,
          { Type: 'User', message: `Function not found: ${name}` },
          {
            'x-amzn-errortype': 'ResourceNotFoundException',
          },
        );
      else send(400, { Type: 'User', message }, { 'x-amzn-errortype': 'InvalidRequestContentException' });
    }
  };
