import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  fromProxyResult,
  internalServerError,
  missingAuthenticationToken,
  RouteMatcher,
  toProxyEvent,
} from '../apigateway';
import type { PhysicalResource } from './intrinsics';
import type { LambdaHost } from './lambda-host';
import type { CfnTemplate } from './template';

/** API Gateway's own payload limit for REST APIs. https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

interface Route {
  readonly method: string;
  /** `/webhooks/stripe`, with `{param}` and `{proxy+}` segments as declared. */
  readonly resource: string;
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

/** The Lambda function an AWS_PROXY integration URI points at (`...functions/<arn>/invocations`). */
const integrationFunction = (uri: unknown): string | undefined => {
  const parts = (uri as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join']?.[1] ?? [];
  for (const part of parts) {
    const id = ref(part);
    if (id && !id.startsWith('AWS::')) return id;
  }
  return undefined;
};

/** Routes from the template's REST API resources and methods; requests become proxy events. */
export class ApiServer {
  private readonly routes: Route[] = [];
  private readonly matcher: RouteMatcher<Route>;
  private readonly stage: string;
  private readonly binaryMediaTypes: string[];

  constructor(
    template: CfnTemplate,
    physical: ReadonlyMap<string, PhysicalResource>,
    private readonly lambda: LambdaHost,
    private readonly status: (url: URL) => unknown,
    /** Further `/_local/...` pages (the console); answers `false` for a path it does not serve. */
    private readonly local?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>,
  ) {
    const resources = template.Resources;
    const api = Object.entries(resources).find(
      ([, resource]) => resource.Type === 'AWS::ApiGateway::RestApi',
    );
    this.binaryMediaTypes = ((api?.[1].Properties?.BinaryMediaTypes ?? []) as string[]).map(String);
    const stage = Object.values(resources).find((resource) => resource.Type === 'AWS::ApiGateway::Stage');
    this.stage = String(stage?.Properties?.StageName ?? 'local');
    const pathOf = (resourceId: string | undefined): string => {
      if (!resourceId) return '';
      const resource = resources[resourceId];
      if (resource?.Type !== 'AWS::ApiGateway::Resource') return '';
      return `${pathOf(ref(resource.Properties?.ParentId))}/${String(resource.Properties?.PathPart)}`;
    };
    for (const [id, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::ApiGateway::Method') continue;
      const props = resource.Properties ?? {};
      const integration = props.Integration as { Type?: string; Uri?: unknown } | undefined;
      const functionLogicalId = integrationFunction(integration?.Uri);
      if (integration?.Type !== 'AWS_PROXY' || !functionLogicalId) {
        throw new Error(`method ${id}: only Lambda proxy integrations are emulated locally`);
      }
      this.routes.push({
        method: String(props.HttpMethod),
        resource: pathOf(ref(props.ResourceId)) || '/',
        functionName: physical.get(functionLogicalId)?.ref ?? functionLogicalId,
      });
    }
    this.matcher = new RouteMatcher(this.routes);
  }

  describeRoutes(): string[] {
    return this.routes.map((route) => `${route.method} ${route.resource}`);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/_local/status' && req.method === 'GET') {
      const body = JSON.stringify(await this.status(url), null, 2);
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      return;
    }
    if (url.pathname.startsWith('/_local/') && this.local && (await this.local(req, res, url))) return;
    // Accept both `/webhooks/stripe` and the deployed form `/<stage>/webhooks/stripe`.
    const stagePrefix = `/${this.stage}/`;
    const path = url.pathname.startsWith(stagePrefix)
      ? url.pathname.slice(stagePrefix.length - 1)
      : url.pathname;
    const match = this.matcher.match(req.method ?? 'GET', path);
    if (!match) {
      const missing = missingAuthenticationToken();
      res.writeHead(missing.statusCode, missing.headers).end(missing.body);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_PAYLOAD_BYTES) {
        res
          .writeHead(413, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: 'Request Too Long' }));
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const requestId = randomUUID();
    const event = toProxyEvent(
      {
        method: req.method ?? 'GET',
        path,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        rawBody: Buffer.concat(chunks),
        query: url.searchParams,
      },
      { resource: match.route.resource, pathParameters: match.pathParameters, stage: this.stage, requestId },
      { binaryMediaTypes: this.binaryMediaTypes },
    );
    const outcome = await this.lambda.invoke(match.route.functionName, event);
    // A function error is a 502 to the caller, as API Gateway answers it; the vendor retries.
    const response = outcome.ok
      ? fromProxyResult(outcome.result, { binaryMediaTypes: this.binaryMediaTypes, requestId })
      : internalServerError(`${outcome.error.errorType}: ${outcome.error.errorMessage}`);
    res.writeHead(response.statusCode, response.headers);
    res.end(response.body);
  }
}
