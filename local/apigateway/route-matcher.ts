/**
 * Chooses an HTTP API's route for a request (route keys `POST /webhooks/{vendor}`, `ANY /{proxy+}`),
 * the most specific first, as API Gateway does: literal path parts win over `{param}`, which wins over
 * a greedy `{proxy+}`; a method wins over `ANY`. The `$default` route, when there is one, is the
 * caller's fallback. https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html#http-api-develop-routes.evaluation
 */

export interface RouteDefinition {
  /** HTTP method or `ANY`. */
  readonly method: string;
  /** The route key's path, e.g. `/webhooks/{vendor}`, `/{proxy+}`, `/`. */
  readonly resource: string;
}

export interface RouteMatch<T extends RouteDefinition> {
  readonly route: T;
  /** As API Gateway passes them: not URL-decoded; `{proxy+}` holds the rest of the path. */
  readonly pathParameters: Record<string, string> | null;
}

type Part =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'greedy'; readonly name: string };

const RANK: Record<Part['kind'], number> = { literal: 0, param: 1, greedy: 2 };

const segments = (path: string): string[] => path.split('/').filter((segment) => segment.length > 0);

const parseResource = (resource: string): Part[] =>
  segments(resource).map((segment, index, all): Part => {
    const greedy = /^\{(.+)\+\}$/.exec(segment);
    if (greedy?.[1]) {
      if (index !== all.length - 1)
        throw new Error(`${resource}: a greedy {${greedy[1]}+} must be the last part`);
      return { kind: 'greedy', name: greedy[1] };
    }
    const param = /^\{(.+)\}$/.exec(segment);
    if (param?.[1]) return { kind: 'param', name: param[1] };
    return { kind: 'literal', value: segment };
  });

const matchParts = (parts: readonly Part[], path: readonly string[]): Record<string, string> | undefined => {
  const parameters: Record<string, string> = {};
  for (const [index, part] of parts.entries()) {
    if (part.kind === 'greedy') {
      // A greedy variable needs at least one path segment.
      const rest = path.slice(index);
      if (rest.length === 0) return undefined;
      parameters[part.name] = rest.join('/');
      return parameters;
    }
    const segment = path[index];
    if (segment === undefined) return undefined;
    if (part.kind === 'literal' && part.value !== segment) return undefined;
    if (part.kind === 'param') parameters[part.name] = segment;
  }
  return parts.length === path.length ? parameters : undefined;
};

/** Negative when `a` is more specific than `b`, comparing part by part. */
const compareSpecificity = (a: readonly Part[], b: readonly Part[]): number => {
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const left = a[i];
    const right = b[i];
    if (!left || !right) return left ? -1 : right ? 1 : 0;
    const difference = RANK[left.kind] - RANK[right.kind];
    if (difference !== 0) return difference;
  }
  return 0;
};

export class RouteMatcher<T extends RouteDefinition> {
  private readonly routes: { route: T; parts: Part[] }[];

  constructor(routes: readonly T[]) {
    this.routes = routes
      .map((route) => ({ route, parts: parseResource(route.resource) }))
      .sort((a, b) => compareSpecificity(a.parts, b.parts));
  }

  /** The best route for the request, or `undefined` (an HTTP API then answers 404 Not Found). */
  match(method: string, path: string): RouteMatch<T> | undefined {
    const wanted = method.toUpperCase();
    const pathSegments = segments(path);
    let fallback: RouteMatch<T> | undefined;
    let fallbackParts: Part[] | undefined;
    for (const { route, parts } of this.routes) {
      if (fallbackParts && compareSpecificity(fallbackParts, parts) < 0) break;
      const routeMethod = route.method.toUpperCase();
      if (routeMethod !== wanted && routeMethod !== 'ANY') continue;
      const parameters = matchParts(parts, pathSegments);
      if (!parameters) continue;
      const match = { route, pathParameters: Object.keys(parameters).length > 0 ? parameters : null };
      if (routeMethod === wanted) return match;
      if (!fallback) {
        fallback = match;
        fallbackParts = parts;
      }
    }
    return fallback;
  }
}
