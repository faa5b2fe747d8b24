import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  fromProxyResult,
  internalServerError,
  notFound,
  RouteMatcher,
  requestEntityTooLarge,
  toProxyEvent,
} from '../apigateway';
import type { BillingMeter } from '../aws/billing-meter';
import type { PhysicalResource } from './intrinsics';
import type { LambdaHost } from './lambda-host';
import type { CfnResource, CfnTemplate } from './template';

/** An HTTP API's payload quota. https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
const BILLED_REQUEST_BYTES = 512 * 1024;

interface Route {
  /** `POST`, or `ANY`. */
  readonly method: string;
  /** `/webhooks/stripe`, with `{param}` and `{proxy+}` segments as declared. */
  readonly resource: string;
  /** The route key as the template gives it (`POST /webhooks/stripe`), for the billing lines. */
  readonly routeKey: string;
  readonly functionName: string;
}

const ref = (value: unknown): string | undefined => {
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record.Ref === 'string') return record.Ref;
    const getAtt = record['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  }
  return undefined;
};

/** The resource a value names: `{Ref}`, `{Fn::GetAtt}`, or the first resource inside an `Fn::Join`. */
const referenced = (value: unknown): string | undefined => {
  const direct = ref(value);
  if (direct) return direct;
  const parts = (value as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join']?.[1] ?? [];
  for (const part of parts) {
    const id = ref(part);
    if (id && !id.startsWith('AWS::')) return id;
  }
  return undefined;
};

export interface HttpApiRoutes {
  readonly routes: Route[];
  /** The `$default` route, taken when no other route matches. */
  readonly fallback: Route | undefined;
  /** `$default`, or a named stage whose name prefixes every path. */
  readonly stage: string;
}

/**
 * The HTTP API's routes from the template (`AWS::ApiGatewayV2::Route`s and the Lambda proxy
 * integrations they target). Only what the stack uses is emulated, and anything else is an error
 * naming the resource: a Lambda proxy integration with payload format 1.0, one API, one stage.
 */
export const httpApiRoutes = (
  template: CfnTemplate,
  physical: ReadonlyMap<string, PhysicalResource>,
): HttpApiRoutes => {
  const entries = Object.entries(template.Resources);
  const ofType = (type: string) => entries.filter(([, resource]) => resource.Type === type);
  const apis = ofType('AWS::ApiGatewayV2::Api');
  if (apis.length > 1) throw new Error(`${apis.length} HTTP APIs: the local runtime serves one`);
  for (const [id, api] of apis) {
    if (api.Properties?.ProtocolType !== 'HTTP')
      throw new Error(`API ${id}: only HTTP APIs are emulated locally`);
  }
  const stages = ofType('AWS::ApiGatewayV2::Stage');
  if (stages.length > 1) throw new Error(`${stages.length} stages: the local runtime serves one`);
  const stage = String(stages[0]?.[1].Properties?.StageName ?? '$default');

  const integrationFunction = (id: string, target: unknown): string => {
    const integrationId = referenced(target);
    const integration: CfnResource | undefined = integrationId
      ? template.Resources[integrationId]
      : undefined;
    const props = integration?.Properties ?? {};
    const functionLogicalId = referenced(props.IntegrationUri);
    if (
      integration?.Type !== 'AWS::ApiGatewayV2::Integration' ||
      props.IntegrationType !== 'AWS_PROXY' ||
      !functionLogicalId ||
      template.Resources[functionLogicalId]?.Type !== 'AWS::Lambda::Function'
    ) {
      throw new Error(`route ${id}: only Lambda proxy integrations are emulated locally`);
    }
    if (String(props.PayloadFormatVersion) !== '1.0') {
      throw new Error(
        `route ${id}: integration ${integrationId} has payload format ${String(props.PayloadFormatVersion)}; only 1.0 is emulated locally`,
      );
    }
    return physical.get(functionLogicalId)?.ref ?? functionLogicalId;
  };

  const routes: Route[] = [];
  let fallback: Route | undefined;
  for (const [id, resource] of ofType('AWS::ApiGatewayV2::Route')) {
    const routeKey = String(resource.Properties?.RouteKey);
    const functionName = integrationFunction(id, resource.Properties?.Target);
    if (routeKey === '$default') {
      fallback = { method: 'ANY', resource: '$default', routeKey, functionName };
      continue;
    }
    const [method, resourcePath] = routeKey.split(' ');
    if (!method || !resourcePath?.startsWith('/'))
      throw new Error(`route ${id}: unreadable route key ${routeKey}`);
    routes.push({ method, resource: resourcePath, routeKey, functionName });
  }
  return { routes, fallback, stage };
};

/** Serves the template's HTTP API routes; requests become payload format 1.0 proxy events. */
export class ApiServer {
  private readonly routes: Route[];
  private readonly fallback: Route | undefined;
  private readonly matcher: RouteMatcher<Route>;
  private readonly stage: string;

  constructor(
    template: CfnTemplate,
    physical: ReadonlyMap<string, PhysicalResource>,
    private readonly lambda: LambdaHost,
    private readonly status: (url: URL) => unknown,
    /** Further `/_local/...` pages (the console); answers `false` for a path it does not serve. */
    private readonly local?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>,
    /** Counts each request a route served (the gateway bills it; unmatched ones too, locally not counted). */
    private readonly meter?: BillingMeter,
  ) {
    const api = httpApiRoutes(template, physical);
    this.routes = api.routes;
    this.fallback = api.fallback;
    this.stage = api.stage;
    this.matcher = new RouteMatcher(this.routes);
  }

  describeRoutes(): string[] {
    return [...this.routes, ...(this.fallback ? [this.fallback] : [])].map((route) => route.routeKey);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/_local/status' && req.method === 'GET') {
      const body = JSON.stringify(await this.status(url), null, 2);
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      return;
    }
    if (url.pathname.startsWith('/_local/') && this.local && (await this.local(req, res, url))) return;
    // On `$default` the path is the route's; a named stage prefixes it, and the event's `path` keeps
    // the prefix, as an HTTP API sends it. Locally the unprefixed form is accepted too.
    const stagePrefix = `/${this.stage}/`;
    const named = this.stage !== '$default';
    const routePath =
      named && url.pathname.startsWith(stagePrefix)
        ? url.pathname.slice(stagePrefix.length - 1)
        : url.pathname;
    const matched = this.matcher.match(req.method ?? 'GET', routePath);
    const route = matched?.route ?? this.fallback;
    if (!route) {
      const missing = notFound();
      res.writeHead(missing.statusCode, missing.headers).end(missing.body);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_PAYLOAD_BYTES) {
        const tooLarge = requestEntityTooLarge();
        res.writeHead(tooLarge.statusCode, tooLarge.headers).end(tooLarge.body);
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const requestId = `${randomBytes(12).toString('base64url')}=`;
    // An HTTP API bills a request per 512 KB of it. https://aws.amazon.com/api-gateway/pricing/
    this.meter?.add(
      'apigateway.requests',
      Math.max(1, Math.ceil(size / BILLED_REQUEST_BYTES)),
      route.routeKey,
    );
    // No gateway segment on an HTTP API: the trace is the one the function's active tracing starts.
    this.meter?.add('xray.traces', 1, route.routeKey);
    const event = toProxyEvent(
      {
        method: req.method ?? 'GET',
        path: named ? `/${this.stage}${routePath}` : routePath,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        rawBody: Buffer.concat(chunks),
        query: url.searchParams,
      },
      {
        resource: route.resource,
        pathParameters: matched?.pathParameters ?? null,
        stage: this.stage,
        requestId,
      },
    );
    const outcome = await this.lambda.invoke(route.functionName, event);
    // A function error is a 500 to the caller, as an HTTP API answers it; the vendor retries.
    const response = outcome.ok
      ? fromProxyResult(outcome.result, { requestId })
      : internalServerError(`${outcome.error.errorType}: ${outcome.error.errorMessage}`, requestId);
    res.writeHead(response.statusCode, response.headers);
    res.end(response.body);
  }
}
