// dynalite (DynamoDB on LevelDB) in its own thread: its request handling and socket writes would
// otherwise share the runtime's main thread with every other emulator. Plain JavaScript, no loader.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';
import { threadCpuMs } from './thread-cpu.mjs';

// Billed request units, as DynamoDB on-demand counts them: dynalite computes an item's capacity units
// (writes per 1 KB of the larger of the old and new item, reads per 4 KB, halved when eventually
// consistent) only when a caller asks for ReturnConsumedCapacity; counting here sees every request
// without changing what the caller gets. A write whose condition failed is billed too.
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
const db = createRequire(import.meta.url)('dynalite/db');
const billed = new Map();
const bill = (table, kind, units) => {
  const key = `${table}\u0000${kind}`;
  billed.set(key, (billed.get(key) ?? 0) + units);
};
const addConsumedCapacity = db.addConsumedCapacity;
db.addConsumedCapacity = (data, isRead, newItem, oldItem) => {
  let units = db.capacityUnits(newItem, isRead, data.ConsistentRead);
  if (oldItem != null) units = Math.max(units, db.capacityUnits(oldItem, isRead, data.ConsistentRead));
  bill(data.TableName, isRead ? 'read' : 'write', units);
  return addConsumedCapacity(data, isRead, newItem, oldItem);
};
const checkConditional = db.checkConditional;
db.checkConditional = (data, existingItem) => {
  const invalid = checkConditional(data, existingItem);
  if (invalid != null && data.TableName)
    bill(data.TableName, 'write', db.capacityUnits(data.Item ?? existingItem, false));
  return invalid;
};
const takeBilled = () => {
  const out = [...billed].map(([key, units]) => {
    const [table, kind] = key.split('\u0000');
    return { table, kind, units };
  });
  billed.clear();
  return out;
};

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.keepAliveTimeout = 60_000;

// Seeded throttling (local/aws/faults.ts `dynamodb`): a data-plane call answered with DynamoDB's
// ProvisionedThroughputExceededException, which the SDK retries with backoff and then surfaces.
const DATA_PLANE = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
]);
let faults = workerData.faults ?? {};
let state = (faults.seed ?? 1) >>> 0;
/** mulberry32, the same generator as local/twins/common/random.ts. */
const next = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const throttled = (req) => {
  const rate = faults.errorRate ?? 0;
  if (rate <= 0) return undefined;
  const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
  const eligible = faults.operations ? faults.operations.includes(operation) : DATA_PLANE.has(operation);
  if (!eligible || next() >= rate) return undefined;
  return operation;
};
const dynamo = server.listeners('request')[0];
server.removeAllListeners('request');
server.on('request', (req, res) => {
  const operation = throttled(req);
  if (!operation) return dynamo(req, res);
  parentPort.postMessage({ injected: `dynamodb.${operation}` });
  req.resume();
  req.on('end', () => {
    const body = JSON.stringify({
      __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
      message:
        'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
    });
    res.writeHead(400, {
      'content-type': 'application/x-amz-json-1.0',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
});

// Also on a Unix socket, which the functions' connections prefer (see lambda-worker.mjs).
const onSocket = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
onSocket.removeAllListeners('request');
onSocket.on('request', (req, res) => server.emit('request', req, res));
server.listen(workerData.port, '127.0.0.1', () => {
  onSocket.listen(workerData.socketPath, () => parentPort.postMessage({ port: server.address().port }));
});
parentPort.on('message', (message) => {
  if (message === 'close') {
    server.closeAllConnections?.();
    onSocket.closeAllConnections?.();
    onSocket.close();
    server.close(() => process.exit(0));
  } else if (message === 'billing') {
    parentPort.postMessage({ billing: takeBilled(), cpuMs: threadCpuMs() });
  } else if (message?.faults) {
    faults = message.faults;
    state = (faults.seed ?? 1) >>> 0;
  }
});
