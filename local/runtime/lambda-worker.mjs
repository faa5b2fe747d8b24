// One Lambda execution environment: a worker thread with its own process.env and module cache,
// running the bundled handler exactly as it deploys. Plain JavaScript so it needs no loader.
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { threadCpuMs } from './thread-cpu.mjs';

// Stack traces are mapped to the sources only when the function asks for it, as Node does in Lambda.
if (/--enable-source-maps\b/.test(process.env.NODE_OPTIONS ?? '')) process.setSourceMapsEnabled?.(true);

// Output is collected and handed over with each invocation's result, in one message, instead of
// one cross-thread message per line: on a two-core machine that traffic was a measurable share of
// the runtime's CPU. Lines keep their order; they arrive when the invocation ends.
let output = [];
for (const stream of [process.stdout, process.stderr]) {
  stream.write = (chunk, encoding, callback) => {
    output.push(
      typeof chunk === 'string'
        ? chunk
        : Buffer.from(chunk).toString(typeof encoding === 'string' ? encoding : 'utf8'),
    );
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') done();
    return true;
  };
}
const takeOutput = () => {
  const taken = output.join('');
  output = [];
  return taken;
};

const { file, exportName, functionName, functionArn, memoryMb, logGroupName, localSockets } = workerData;

// The local network, not the handler: a connection to a local endpoint that also listens on a Unix
// socket goes there instead of through loopback TCP, which costs this sandbox far more CPU. Handler
// code still addresses the endpoint by its URL (AWS_ENDPOINT_URL), as it would address AWS.
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);
const viaSocket = (options) => {
  if (!options || typeof options !== 'object' || options.path) return options;
  const socketPath = localSockets?.[String(options.port)];
  if (!socketPath || !LOCAL_HOSTS.has(options.host ?? 'localhost')) return options;
  const { host: _host, port: _port, ...rest } = options;
  return { ...rest, path: socketPath };
};
for (const name of ['connect', 'createConnection']) {
  const original = net[name];
  net[name] = (...args) =>
    typeof args[0] === 'object' ? original(viaSocket(args[0]), ...args.slice(1)) : original(...args);
}
const initStarted = performance.now();
const ready = import(pathToFileURL(file).href).then(
  (module) => {
    const handler = module[exportName];
    if (typeof handler !== 'function')
      throw new Error(`${file} does not export a function named ${exportName}`);
    return { handler, initMs: performance.now() - initStarted };
  },
  (error) => ({ initError: error }),
);

const describe = (error) => ({
  errorType: (error && typeof error === 'object' && 'name' in error && String(error.name)) || 'Error',
  errorMessage: error instanceof Error ? error.message : String(error),
  stack: error instanceof Error && error.stack ? error.stack.split('\n').slice(0, 12) : [],
});

parentPort.on('message', async (message) => {
  const loaded = await ready;
  if (loaded.initError) {
    parentPort.postMessage({
      id: message.id,
      ok: false,
      error: { ...describe(loaded.initError), errorType: 'Runtime.InitError' },
      output: takeOutput(),
    });
    return;
  }
  const deadline = Date.now() + message.timeoutMs;
  const context = {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: message.requestId,
    logGroupName,
    logStreamName: `local/${process.pid}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
  const started = performance.now();
  try {
    const result = await loaded.handler(message.event, context);
    parentPort.postMessage({
      id: message.id,
      ok: true,
      result,
      durationMs: performance.now() - started,
      initMs: loaded.initMs,
      // The thread's CPU so far, so the bench can tell the functions' CPU from the runtime's.
      cpuMs: threadCpuMs(),
      output: takeOutput(),
    });
  } catch (error) {
    parentPort.postMessage({
      id: message.id,
      ok: false,
      error: describe(error),
      durationMs: performance.now() - started,
      initMs: loaded.initMs,
      cpuMs: threadCpuMs(),
      output: takeOutput(),
    });
  }
});
