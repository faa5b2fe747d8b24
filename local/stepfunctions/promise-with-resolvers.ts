/**
 * `aws-local-stepfunctions` v3 calls `Promise.withResolvers()` (ES2024, Node 22+) in every Task
 * state. Node 20 lacks it, so it is installed here, only when missing, before the library runs.
 * https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Promise/withResolvers
 */

interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

function withResolvers<T>(this: PromiseConstructor): Resolvers<T> {
  let resolve: Resolvers<T>['resolve'] = () => undefined;
  let reject: Resolvers<T>['reject'] = () => undefined;
  // `this` is the constructor it was called on, as the specification asks (subclasses keep their type).
  const promise = new this<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Installs the polyfill when the runtime has no `Promise.withResolvers`; returns whether it did. */
export const installPromiseWithResolvers = (): boolean => {
  if (typeof Reflect.get(Promise, 'withResolvers') === 'function') return false;
  Object.defineProperty(Promise, 'withResolvers', {
    value: withResolvers,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  return true;
};

installPromiseWithResolvers();
