// dynalite (DynamoDB on LevelDB) in its own thread: its request handling and socket writes would
// otherwise share the runtime's main thread with every other emulator. Plain JavaScript, no loader.
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.keepAliveTimeout = 60_000;
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
  }
});
