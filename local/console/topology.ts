import type { CfnResource } from '../runtime/template';

/**
 * The flows of the synthesized stack as the console draws them: webhook routes to their ingest
 * functions, bus rules to their queues or state machines, queues to their consumer functions, and
 * the vendors each function calls. Read from the resolved template, so the picture is what deploys.
 */
export interface Topology {
  readonly routes: readonly { method: string; path: string; functionName: string }[];
  readonly rules: readonly {
    name: string;
    sources: readonly string[];
    detailTypes: readonly string[];
    targets: readonly { kind: 'queue' | 'stateMachine' | 'function'; name: string }[];
  }[];
  readonly consumers: readonly { queueName: string; functionName: string }[];
  readonly stateMachines: readonly { name: string; functions: readonly string[] }[];
  /** Function name → the vendors whose APIs it calls. */
  readonly vendorsOf: Readonly<Record<string, readonly string[]>>;
}

/** Environment variables that mean "this function calls that vendor's API". */
const VENDOR_ENV: Readonly<Record<string, string>> = {
  NETSUITE_BASE_URL: 'NetSuite',
  STRIPE_API_BASE_URL: 'Stripe',
  SALESFORCE_INSTANCE_URL: 'Salesforce',
  HUBSPOT_BASE_URL: 'HubSpot',
};

const nameFromArn = (arn: unknown): string => {
  const text = String(arn ?? '');
  return text.split(':').pop() ?? text;
};

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);

export const buildTopology = (
  resources: readonly [string, CfnResource][],
  resolve: (value: unknown, where: string) => unknown,
  physicalName: (logicalId: string) => string,
  /** The HTTP API's routes, as local/runtime/api-server.ts reads them from the template. */
  apiRoutes: readonly { method: string; resource: string; functionName: string }[],
): Topology => {
  const ofType = (type: string) => resources.filter(([, resource]) => resource.Type === type);
  const props = (id: string, resource: CfnResource) =>
    (resolve(resource.Properties ?? {}, `${id}.Properties`) ?? {}) as Record<string, unknown>;
  const routes = apiRoutes.map((route) => ({
    method: route.method,
    path: route.resource,
    functionName: route.functionName,
  }));

  const rules = ofType('AWS::Events::Rule').map(([id, resource]) => {
    const p = props(id, resource);
    const pattern = (p.EventPattern ?? {}) as Record<string, unknown>;
    const targets = ((p.Targets ?? []) as { Arn?: unknown }[]).map((target) => {
      const arn = String(target.Arn ?? '');
      const kind = arn.includes(':sqs:') ? 'queue' : arn.includes(':states:') ? 'stateMachine' : 'function';
      return { kind, name: nameFromArn(arn) } as const;
    });
    return {
      name: physicalName(id),
      sources: list(pattern.source),
      detailTypes: list(pattern['detail-type']),
      targets,
    };
  });

  const consumers = ofType('AWS::Lambda::EventSourceMapping').map(([id, resource]) => {
    const p = props(id, resource);
    return { queueName: nameFromArn(p.EventSourceArn), functionName: nameFromArn(p.FunctionName) };
  });

  const stateMachines = ofType('AWS::StepFunctions::StateMachine').map(([id, resource]) => {
    const p = props(id, resource);
    const substitutions = Object.values((p.DefinitionSubstitutions ?? {}) as Record<string, unknown>);
    return {
      name: physicalName(id),
      functions: substitutions
        .map(String)
        .filter((arn) => arn.includes(':function:'))
        .map(nameFromArn),
    };
  });

  const vendorsOf: Record<string, string[]> = {};
  for (const [id, resource] of ofType('AWS::Lambda::Function')) {
    const variables = ((resource.Properties?.Environment as { Variables?: Record<string, unknown> })
      ?.Variables ?? {}) as Record<string, unknown>;
    vendorsOf[physicalName(id)] = Object.keys(variables).flatMap((key) => VENDOR_ENV[key] ?? []);
  }
  return { routes, rules, consumers, stateMachines, vendorsOf };
};
