export {
  type HeaderValues,
  isBinaryMediaType,
  type ProxyEventOptions,
  type ProxyRequest,
  type ProxyRoute,
  toProxyEvent,
} from './proxy-event';
export {
  fromProxyResult,
  type GatewayHttpResponse,
  internalServerError,
  missingAuthenticationToken,
  type ProxyResultOptions,
} from './proxy-result';
export { type RouteDefinition, type RouteMatch, RouteMatcher } from './route-matcher';
