import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultConfigError, type FaultInjector, parseFaultConfig } from './faults';

export interface TwinRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Lower-case names; repeated headers are joined with ", ". */
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
  /** The full URL as the client addressed it (from the Host header), which signature checks need. */
  url: string;
}

export interface TwinResponse {
  status: number;
  headers?: Record<string, string>;
  /** JSON-serialised unless a string or a Buffer. */
  body?: unknown;
}

export interface TwinServerOptions {
  /** Shown in errors and the health endpoint. */
  name: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  faults: FaultInjector;
  handler: (req: TwinRequest) => Promise<TwinResponse>;
  /** The vendor's own body for injected 5xx/429/4xx (and for handler crashes). */
  vendorError?: (status: number, retryAfterSeconds?: number) => TwinResponse;
  /** @default 1 MiB */
  maxBodyBytes?: number;
  /**
   * The twin's own control endpoints under `/_twin/` (path without the prefix), tried after the shared
   * ones; undefined: none matched. Like those, they never see faults.
   */
  controls?: (path: string, req: TwinRequest) => TwinResponse | undefined;
}

export interface TwinServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export const CONTROL_PREFIX = '/_twin/';
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

/**
 * Starts a vendor twin: injects the configured faults before the vendor handler and serves the control
 * endpoints every twin shares (`GET|PUT /_twin/faults`, `GET /_twin/health`) and its own (`controls`),
 * which never see faults.
 */
export async function startTwinServer(options: TwinServerOptions): Promise<TwinServer> {
  const host = options.host ?? '127.0.0.1';
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const wait = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (ms <= 0) return resolve();
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const defaultError = (status: number, retryAfterSeconds?: number): TwinResponse => ({
    status,
    body: {
      error: status === 429 ? 'Too Many Requests' : status < 500 ? 'Bad Request' : 'Service Unavailable',
      twin: options.name,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    },
  });
  const vendorError = options.vendorError ?? defaultError;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let twinReq: TwinRequest;
    try {
      twinReq = await toTwinRequest(req, maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        return write(res, { status: 413, body: { error: error.message } }, true);
      }
      throw error;
    }

    if (twinReq.path.startsWith(CONTROL_PREFIX)) {
      return write(res, control(twinReq, options));
    }

    const rejected = options.faults.nextRejection(twinReq.method, twinReq.path);
    if (rejected !== undefined) return write(res, vendorError(rejected));

    const fault = options.faults.nextRequestFault();
    await wait(fault.latencyMs);
    if (closed) return;
    switch (fault.kind) {
      case 'throttle': {
        const retryAfter = fault.retryAfterSeconds ?? 1;
        const response = vendorError(429, retryAfter);
        return write(res, {
          ...response,
          headers: { ...response.headers, 'Retry-After': String(retryAfter) },
        });
      }
      case 'error':
        return write(res, vendorError(503));
      case 'timeout':
        // A client sees a request that never answers and then a reset connection, like a gateway timeout
        // upstream of the vendor: its own timeout must fire and the retry must be safe.
        await wait(options.faults.timeoutMs);
        req.socket.destroy();
        return;
      case 'none':
        break;
    }

    let response: TwinResponse;
    try {
      response = await options.handler(twinReq);
    } catch (error) {
      console.error(`[twin ${options.name}] handler failed for ${twinReq.method} ${twinReq.path}:`, error);
      response = vendorError(500);
    }
    write(res, response);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error(`[twin ${options.name}] request failed:`, error);
      if (!res.headersSent) write(res, vendorError(500));
      else res.destroy();
    });
  });
  // Twins sit behind clients that keep connections alive; Node's default 5 s would only add flakiness.
  server.keepAliveTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
    },
  };
}

function control(req: TwinRequest, options: TwinServerOptions): TwinResponse {
  const path = req.path.slice(CONTROL_PREFIX.length);
  if (path === 'health' && req.method === 'GET') {
    return { status: 200, body: { status: 'ok', twin: options.name } };
  }
  if (path === 'faults' && req.method === 'GET') {
    return { status: 200, body: options.faults.config };
  }
  if (path === 'faults' && req.method === 'PUT') {
    try {
      const text = req.rawBody.toString('utf8');
      const parsed: unknown = text.trim() === '' ? {} : JSON.parse(text);
      options.faults.set(parseFaultConfig(parsed, 'PUT /_twin/faults body'));
    } catch (error) {
      const message =
        error instanceof FaultConfigError ? error.message : `PUT /_twin/faults body is not valid JSON`;
      return { status: 400, body: { error: message } };
    }
    return { status: 200, body: options.faults.config };
  }
  const own = options.controls?.(path, req);
  if (own) return own;
  return { status: 404, body: { error: `no control endpoint ${req.method} ${req.path}` } };
}

async function toTwinRequest(req: IncomingMessage, maxBodyBytes: number): Promise<TwinRequest> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBodyBytes) {
      throw new BodyTooLargeError(`request body over ${maxBodyBytes} bytes`);
    }
    chunks.push(buffer);
  }
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const url = `http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`;
  const parsed = new URL(url);
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path: parsed.pathname,
    query: parsed.searchParams,
    headers,
    rawBody: Buffer.concat(chunks),
    url,
  };
}

function write(res: ServerResponse, response: TwinResponse, closeConnection = false): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string> = { ...response.headers };
  const hasContentType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
  let payload: Buffer | undefined;
  const noBody = response.status === 204 || response.status === 304 || response.body === undefined;
  if (!noBody) {
    if (Buffer.isBuffer(response.body)) {
      payload = response.body;
      if (!hasContentType) headers['Content-Type'] = 'application/octet-stream';
    } else if (typeof response.body === 'string') {
      payload = Buffer.from(response.body, 'utf8');
      if (!hasContentType) headers['Content-Type'] = 'text/plain; charset=utf-8';
    } else {
      payload = Buffer.from(JSON.stringify(response.body), 'utf8');
      if (!hasContentType) headers['Content-Type'] = 'application/json';
    }
    headers['Content-Length'] = String(payload.length);
  }
  if (closeConnection) headers.Connection = 'close';
  res.writeHead(response.status, headers);
  res.end(payload);
}
