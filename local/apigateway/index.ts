export {
  type HeaderValues,
  type HttpApiProxyEvent,
  isTextMediaType,
  type ProxyEventOptions,
  type ProxyRequest,
  type ProxyRoute,
  toProxyEvent,
} from './proxy-event';
export {
  fromProxyResult,
  type GatewayHttpResponse,
  internalServerError,
  notFound,
  type ProxyResultOptions,
  requestEntityTooLarge,
} from './proxy-result';
export { type RouteDefinition, type RouteMatch, RouteMatcher } from './route-matcher';
