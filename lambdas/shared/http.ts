import { createHash, timingSafeEqual } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/** Header names are matched case-insensitively: an HTTP API lower-cases them, a REST API keeps the sender's. */
export const header = (event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined => {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
};

/**
 * The exact bytes the vendor sent. The webhook HTTP API passes a text body (JSON, XML) as UTF-8 text
 * and base64-encodes any other, so decoding by `isBase64Encoded` gives back the signed bytes.
 */
export const rawBody = (event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): Buffer =>
  event.body === null || event.body === undefined
    ? Buffer.alloc(0)
    : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');

export const json = (statusCode: number, body: Record<string, unknown>): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/** An XML reply (SOAP listeners such as Salesforce outbound messaging answer `text/xml`). */
export const xml = (statusCode: number, body: string): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'content-type': 'text/xml; charset=utf-8', 'cache-control': 'no-store' },
  body,
});

/**
 * Compares a value a sender presented (a signature, a shared token) with the expected one in
 * constant time. Both sides are hashed first so `timingSafeEqual` always gets equal-length buffers
 * and the time taken says nothing about the expected value, not even its length.
 */
export const constantTimeEqual = (presented: string, expected: string): boolean =>
  timingSafeEqual(
    createHash('sha256').update(presented, 'utf8').digest(),
    createHash('sha256').update(expected, 'utf8').digest(),
  );
