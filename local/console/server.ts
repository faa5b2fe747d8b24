import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { listExceptions, redriveDeadLetterQueue, replayException, trailOf } from '../../ops/queries';
import type { LocalRuntime } from '../runtime/runtime';
import { messageSummary, stateGraph, stateOutcomes } from './model';
import type { Topology } from './topology';

/**
 * The local console: one static page (no build step) that polls the JSON below. Served by the
 * runtime's API listener, which binds to loopback only.
 */
const PAGE = path.join(__dirname, 'page.html');

type Source = Pick<LocalRuntime, 'status' | 'sqs' | 'stepFunctions' | 'awsUrl' | 'dynamoUrl' | 'tables'> & {
  readonly topology: Topology;
};

const readJsonBody = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16 * 1024) throw new Error('request body over 16 KiB');
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
};

/** SDK clients on the runtime's own endpoints: the console runs the operator's queries as-is. */
const clientsFor = (source: Source) => {
  const common = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({ ...common, endpoint: source.dynamoUrl }),
  );
  return {
    documents,
    events: new EventBridgeClient({ ...common, endpoint: source.awsUrl }),
    sqs: new SQSClient({ ...common, endpoint: source.awsUrl }),
  };
};

const tableNamed = (source: Source, part: string): string => {
  const found = source.tables.find((name) => name.includes(part));
  if (!found) throw new Error(`no ${part} table in the template`);
  return found;
};

const sendJson = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
};

/** The console's view of the whole runtime, refreshed by the page about once a second. */
export const consoleState = (source: Source) => {
  const status = source.status();
  const queues = status.queues.map((queue) => ({
    name: queue.name,
    arn: queue.arn,
    visible: queue.visible,
    inflight: queue.inflight,
    delayed: queue.delayed,
    oldestMessageAgeSeconds: queue.oldestMessageAgeSeconds,
    isDeadLetterQueue: queue.isDeadLetterQueue,
    messages: queue.isDeadLetterQueue
      ? source.sqs.peekMessages(queue.arn).map((message) => ({
          messageId: message.messageId,
          receiveCount: message.receiveCount,
          sentAt: new Date(message.sentTimestamp).toISOString(),
          reason: message.deadLetterInfo?.reason ?? null,
          ...messageSummary(message.body),
        }))
      : [],
  }));
  const functions = new Map(
    (status.functions as { name: string; invocations: number; errors: number }[]).map((fn) => [fn.name, fn]),
  );
  const queueOf = new Map(queues.map((queue) => [queue.name, queue]));
  const fn = (name: string) => ({
    name,
    invocations: functions.get(name)?.invocations ?? 0,
    errors: functions.get(name)?.errors ?? 0,
    vendors: source.topology.vendorsOf[name] ?? [],
  });
  const { topology } = source;
  const lanes = topology.rules.map((rule) => ({
    rule: rule.name,
    detailTypes: rule.detailTypes,
    sources: rule.sources,
    targets: rule.targets.map((target) => {
      if (target.kind === 'queue') {
        const queue = queueOf.get(target.name);
        const consumer = topology.consumers.find((c) => c.queueName === target.name);
        const dlq = queues.find(
          (q) =>
            q.isDeadLetterQueue &&
            status.queues.some((s) => s.name === target.name && s.redriveTarget?.name === q.name),
        );
        return {
          kind: 'queue' as const,
          queue: queue
            ? { name: queue.name, visible: queue.visible, inflight: queue.inflight, delayed: queue.delayed }
            : null,
          dlq: dlq ? { name: dlq.name, messages: dlq.visible + dlq.inflight } : null,
          function: consumer ? fn(consumer.functionName) : null,
        };
      }
      const machine = topology.stateMachines.find((m) => m.name === target.name);
      return { kind: target.kind, name: target.name, functions: (machine?.functions ?? []).map(fn) };
    }),
  }));
  return {
    generatedAt: new Date().toISOString(),
    webhooks: topology.routes.map((route) => ({ ...route, function: fn(route.functionName) })),
    bus: {
      put: status.events.events.put,
      rejected: status.events.events.rejected,
      archived: status.events.events.archived,
    },
    lanes,
    queues,
    executions: status.executions.executions
      .slice()
      .sort((a, b) => b.startDate.localeCompare(a.startDate))
      .slice(0, 50),
    alarms: status.alarms,
    faults: status.faults,
  };
};

/** One execution's state graph with how each state went (the failed state is what to look at). */
export const executionView = (source: Source, executionArn: string) => {
  const execution = source.stepFunctions.describeExecution(executionArn);
  const machine = source.stepFunctions.describeStateMachine(execution.stateMachineArn);
  return {
    name: execution.name,
    status: execution.status,
    error: execution.error ?? null,
    cause: execution.cause ?? null,
    graph: stateGraph(machine.definition),
    outcomes: stateOutcomes(source.stepFunctions.getExecutionHistory(executionArn)),
  };
};

/** Handles `/_local/console...`; answers `false` for any other path. */
export const consoleRoutes = (source: Source) => {
  const page = readFileSync(PAGE);
  let clients: ReturnType<typeof clientsFor> | undefined;
  const sdk = () => {
    clients ??= clientsFor(source);
    return clients;
  };
  const busName = () => {
    const bus = source.status().events.buses.find((b) => b.name !== 'default');
    if (!bus) throw new Error('no event bus in the template');
    return bus.name;
  };
  const post = async (req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> => {
    const body = await readJsonBody(req);
    if (pathname === '/_local/console/replay') {
      const exceptionId = String(body.exceptionId ?? '');
      const result = await replayException(
        sdk(),
        { exceptions: tableNamed(source, 'Exceptions'), busName: busName() },
        exceptionId,
      );
      sendJson(res, 200, { outcome: `sent as ${result.replayId}`, ...result });
      return;
    }
    if (pathname === '/_local/console/redrive') {
      const dlq = source.status().queues.find((q) => q.arn === body.queueArn && q.isDeadLetterQueue);
      const sourceQueue = source.status().queues.find((q) => q.redriveTarget?.arn === dlq?.arn);
      if (!dlq || !sourceQueue)
        throw new Error(`no dead-letter queue ${String(body.queueArn)} with a source`);
      const result = await redriveDeadLetterQueue(sdk(), {
        name: sourceQueue.name,
        dlqUrl: dlq.url,
        dlqArn: dlq.arn,
        queueUrl: sourceQueue.url,
        queueArn: sourceQueue.arn,
      });
      sendJson(res, 200, { moved: result.moved });
      return;
    }
    sendJson(res, 404, { message: `no console action ${pathname}` });
  };
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (!url.pathname.startsWith('/_local/console')) return false;
    if (req.method === 'POST') {
      try {
        await post(req, res, url.pathname);
      } catch (error) {
        sendJson(res, 400, { message: error instanceof Error ? error.message : 'request failed' });
      }
      return true;
    }
    if (req.method !== 'GET') {
      sendJson(res, 405, { message: 'the console answers GET and POST' });
      return true;
    }
    switch (url.pathname) {
      case '/_local/console':
      case '/_local/console/':
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
          // The page loads nothing from elsewhere; the policy says so to the browser too.
          'content-security-policy':
            "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'",
        });
        res.end(page);
        return true;
      case '/_local/console/state':
        sendJson(res, 200, consoleState(source));
        return true;
      case '/_local/console/execution': {
        const arn = url.searchParams.get('arn');
        try {
          sendJson(res, 200, executionView(source, arn ?? ''));
        } catch (error) {
          sendJson(res, 404, { message: error instanceof Error ? error.message : 'no such execution' });
        }
        return true;
      }
      case '/_local/console/exceptions':
        sendJson(res, 200, {
          exceptions: await listExceptions(sdk().documents, tableNamed(source, 'Exceptions')),
        });
        return true;
      case '/_local/console/trail': {
        const id = (url.searchParams.get('id') ?? '').trim();
        if (!id) {
          sendJson(res, 400, { message: 'give the id to trace as ?id=' });
          return true;
        }
        const steps = await trailOf(
          sdk().documents,
          {
            links: tableNamed(source, 'Links'),
            exceptions: tableNamed(source, 'Exceptions'),
            idempotency: tableNamed(source, 'Idempotency'),
          },
          id,
        );
        sendJson(res, 200, { id, steps });
        return true;
      }
      default:
        sendJson(res, 404, { message: `no console resource ${url.pathname}` });
        return true;
    }
  };
};
