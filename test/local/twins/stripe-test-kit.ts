import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Stripe from 'stripe';
import { VENDOR_FIXTURES } from '../../support/fixtures';

/** Shared by the Stripe twin's tests: a webhook receiver, an SDK client, and the shape walker. */

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  /** The status the receiver answered. */
  status: number;
}

export interface Receiver {
  url: string;
  received: ReceivedWebhook[];
  /** Decides the status for each request; the default accepts everything. */
  respond: (body: string, index: number) => number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: ReceivedWebhook[] = [];
  const receiver: Receiver = {
    url: '',
    received,
    respond: () => 200,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const status = receiver.respond(body, received.length);
      received.push({ headers: req.headers, body, status });
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`;
  const close = receiver.close;
  receiver.close = () => {
    server.closeAllConnections();
    return close();
  };
  return receiver;
}

export const API_KEY = 'sk_test_revbridge_local';

export function stripeClient(port: number, apiKey = API_KEY): Stripe {
  return new Stripe(apiKey, { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0 });
}

/** A raw call, for what the SDK hides: exact bodies and headers. */
export async function raw(
  baseUrl: string,
  method: string,
  path: string,
  options: { form?: string; headers?: Record<string, string>; apiKey?: string | null } = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { ...options.headers };
  const key = options.apiKey === undefined ? API_KEY : options.apiKey;
  if (key !== null) headers.Authorization = `Bearer ${key}`;
  if (options.form !== undefined) headers['Content-Type'] = 'application/x-www-form-urlencoded';
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(options.form === undefined ? {} : { body: options.form }),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

export type Fixture = Record<string, unknown>;

/** Stripe's own sample objects (github.com/stripe/openapi fixtures3.json), kept in the project. */
export function loadFixtures(): Record<string, Fixture> {
  const path = join(VENDOR_FIXTURES, 'stripe', 'fixtures3.json');
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { resources: Record<string, Fixture> };
  return parsed.resources;
}

/**
 * Stripe's fixtures fill nullable fields with sample values; the live API returns `null` when the
 * feature is unused. Each entry names a field where the twin returns `null` against a non-null
 * fixture value, with the stripe-node 23 type that declares it nullable (checked by the contract test).
 */
export interface NullAllowance {
  /** `<object type>.<path>`, arrays as `[]`: `invoice.parent.quote_details`. */
  path: string;
  /** `<Interface>.<Nested>.<field>` in stripe-node's resource declarations. */
  sdk: string;
}

export interface ShapeProblem {
  path: string;
  problem: string;
}

const typeOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;

/**
 * Walks a fixture and a twin object together: every fixture key must be on the twin object with the
 * same JSON type; `null` in the fixture accepts anything; `null` on the twin is accepted only where an
 * allowance says Stripe declares the field nullable. Nested Stripe objects (`object: 'price'` inside a
 * subscription item) are checked against the fixture of their own type by `lookup`, so paths restart
 * at that type.
 */
export function compareShape(
  fixture: unknown,
  actual: unknown,
  path: string,
  context: {
    allowances: ReadonlyMap<string, NullAllowance>;
    used: Set<string>;
    problems: ShapeProblem[];
    /** The fixture for a nested Stripe object type, when it has one. */
    lookup: (objectType: string) => Fixture | undefined;
  },
): void {
  if (fixture === null) return;
  if (actual === null) {
    if (context.allowances.has(path)) context.used.add(path);
    else context.problems.push({ path, problem: `null on the twin, ${typeOf(fixture)} in the fixture` });
    return;
  }
  if (typeOf(fixture) !== typeOf(actual)) {
    context.problems.push({
      path,
      problem: `${typeOf(actual)} on the twin, ${typeOf(fixture)} in the fixture`,
    });
    return;
  }
  if (Array.isArray(fixture) && Array.isArray(actual)) {
    const sample = fixture[0];
    if (sample === undefined) return;
    for (const item of actual) compareShape(sample, item, `${path}[]`, context);
    return;
  }
  if (typeOf(fixture) !== 'object') return;
  const fixtureObject = fixture as Record<string, unknown>;
  const actualObject = actual as Record<string, unknown>;
  const ownType =
    typeof actualObject.object === 'string' && path.includes('.') ? actualObject.object : undefined;
  const own = ownType === undefined ? undefined : context.lookup(ownType);
  const reference = own ?? fixtureObject;
  const base = own === undefined ? path : (ownType ?? path);
  for (const [key, value] of Object.entries(reference)) {
    if (!(key in actualObject)) {
      context.problems.push({ path: `${base}.${key}`, problem: 'missing on the twin' });
      continue;
    }
    compareShape(value, actualObject[key], `${base}.${key}`, context);
  }
}

/**
 * Field declarations of stripe-node's resource types, keyed `Invoice.Parent.quote_details`, read from
 * the installed package's .d.ts files (generated code with one declaration per line).
 */
export function sdkFieldTypes(): Map<string, string> {
  const root = join(require.resolve('stripe'), '../resources');
  const fields = new Map<string, string>();
  const visit = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const file = join(dir, name);
      if (statSync(file).isDirectory()) visit(file);
      else if (name.endsWith('.d.ts')) readDeclarations(readFileSync(file, 'utf8'), fields);
    }
  };
  visit(root);
  return fields;
}

function readDeclarations(text: string, fields: Map<string, string>): void {
  const stack: string[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line.startsWith('*') || line.startsWith('/')) continue;
    const block = /^(?:export )?(?:declare )?(?:interface|namespace) (\w+)[^{]*\{$/.exec(line);
    if (block) {
      stack.push(block[1] ?? '');
      continue;
    }
    if (line.startsWith('}')) {
      stack.pop();
      continue;
    }
    const field = /^(\w+)\??: (.*?);?$/.exec(line);
    if (field && stack.length > 0 && stack.at(-1) !== '') {
      fields.set(`${stack.join('.')}.${field[1]}`, field[2] ?? '');
    }
    if (line.endsWith('{')) stack.push('');
  }
}
