/** Renders `/_local/status` as the plain tables `npm run local -- status` prints. */
import { table } from '../../ops/table';

type Row = Record<string, unknown>;

interface Status {
  api?: string;
  awsEndpoint?: string;
  startupMs?: number;
  twins?: Record<string, string>;
  queues?: Row[];
  functions?: Row[];
  executions?: { executions?: Row[] } | Row[];
  alarms?: Row[];
  metrics?: Row[];
  notEmulated?: Row[];
  exceptions?: Row[];
  trail?: { id: string; ids: Row[]; steps: Row[] };
  operationsError?: string;
}

export const renderStatus = (status: Status): string => {
  const out: string[] = [];
  out.push(`API ${status.api}   AWS endpoint ${status.awsEndpoint}   started in ${status.startupMs} ms`);
  out.push(
    table(
      'Vendor twins',
      Object.entries(status.twins ?? {}).map(([name, url]) => ({ name, url })),
      ['name', 'url'],
    ),
  );
  out.push(
    table('Queues', status.queues ?? [], [
      'name',
      'visible',
      'inflight',
      'delayed',
      'oldestMessageAgeSeconds',
      'isDeadLetterQueue',
    ]),
  );
  const deadLetters = (status.queues ?? []).flatMap((queue) =>
    ((queue.deadLetters ?? []) as Row[]).map((message) => ({ queue: queue.name, ...message })),
  );
  out.push(
    table('Dead-letter messages', deadLetters, [
      'queue',
      'messageId',
      'receiveCount',
      'reason',
      'bodyPreview',
    ]),
  );
  out.push(
    table('Functions', status.functions ?? [], [
      'name',
      'invocations',
      'errors',
      'timeouts',
      'coldStarts',
      'averageDurationMs',
    ]),
  );
  const executions = Array.isArray(status.executions)
    ? status.executions
    : (status.executions?.executions ?? []);
  out.push(table('Executions', executions, ['name', 'stateMachine', 'status', 'startDate', 'error']));
  out.push(table('Alarms', status.alarms ?? [], ['id', 'state', 'reason']));
  out.push(
    table(
      'Exceptions (npx revbridge exceptions show <id>)',
      (status.exceptions ?? []).map((item) => ({ ...item, reason: item.message })),
      ['exceptionId', 'status', 'flow', 'code', 'reason', 'correlationId', 'openedAt'],
    ),
  );
  if (status.operationsError) out.push(`Exceptions could not be read: ${status.operationsError}\n`);
  if (status.trail) {
    out.push(table(`Ids of ${status.trail.id}`, status.trail.ids, ['entity', 'system', 'id']));
    out.push(
      table(`Trail of ${status.trail.id}`, status.trail.steps, ['at', 'kind', 'system', 'id', 'detail']),
    );
  }
  out.push(
    table(
      'Metrics',
      (status.metrics ?? []).filter((metric) => metric.namespace !== 'AWS/SQS'),
      ['namespace', 'metricName', 'dimensions', 'sum', 'sampleCount'],
    ),
  );
  const notEmulated = new Map<string, { type: string; count: number; reason: unknown }>();
  for (const item of status.notEmulated ?? []) {
    const type = String(item.type);
    const entry = notEmulated.get(type) ?? { type, count: 0, reason: item.reason };
    entry.count += 1;
    notEmulated.set(type, entry);
  }
  out.push(
    table(
      'Not emulated (in the template, no local effect)',
      [...notEmulated.values()],
      ['type', 'count', 'reason'],
    ),
  );
  return out.join('\n');
};
