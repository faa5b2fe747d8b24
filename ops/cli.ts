import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_PORTS, portFromEnv } from '../local/config';
import {
  fullTrail,
  listDeadLetterQueues,
  listExceptions,
  type RedriveResult,
  redriveDeadLetterQueue,
  replayArchive,
  replayException,
  resolveException,
  showException,
  startReconciliation,
} from './queries';
import { findResources, type OperatorClients, type OperatorResources, operatorClients } from './resources';
import { table } from './table';

const USAGE = `revbridge: the on-call engineer's commands, for a deployed stage or the local runtime

  npx revbridge exceptions list [--status OPEN|REPLAYED|RESOLVED] [--flow <flow>]
  npx revbridge exceptions show <exception id> [--data]
  npx revbridge exceptions replay <exception id> | --all [--flow <flow>]
  npx revbridge exceptions resolve <exception id> [--note <text>] [--by <name>]
  npx revbridge dlq list
  npx revbridge dlq redrive <consumer> | --all
  npx revbridge trail <deal, invoice or customer id>
  npx revbridge reconcile [--from <time>] [--to <time>]     (default: the last two days)
  npx revbridge replay --from <time> --to <time>            (the bus archive)

Where:  --stage <name>     the stack revbridge-<name>, default credential chain (default dev)
        --stack <name>     a stack by name
        --local            the local runtime (http://127.0.0.1:$REVBRIDGE_AWS_PORT, default 4566)
        --endpoint <url>   any endpoint (also AWS_ENDPOINT_URL); --region <region>
        --json             machine-readable output
Times are ISO 8601 (2026-12-03T10:00Z) or relative (2d, 6h, 30m ago).`;

export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Poll interval of the commands that wait (redrive, replay, reconcile). @default their own */
  readonly pollMs?: number;
}

class UsageError extends Error {
  override readonly name = 'UsageError' as const;
}

/** `2026-12-03T10:00Z`, or `2d`, `6h`, `30m` before `now`. */
export const parseTime = (value: string, now = new Date()): Date => {
  const relative = /^(\d+)([dhm])$/.exec(value.trim());
  if (relative) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[relative[2] as 'd' | 'h' | 'm'];
    return new Date(now.getTime() - Number(relative[1]) * unit);
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new UsageError(`"${value}" is not a time (ISO 8601, or 2d, 6h, 30m)`);
  return date;
};

const OPTIONS = {
  stage: { type: 'string' },
  stack: { type: 'string' },
  local: { type: 'boolean' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  status: { type: 'string' },
  flow: { type: 'string' },
  data: { type: 'boolean' },
  all: { type: 'boolean' },
  note: { type: 'string' },
  by: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** The endpoint and stack to use, from the flags and the environment. */
const targetOf = (values: Values, env: NodeJS.ProcessEnv) => {
  const endpoint = values.local
    ? `http://127.0.0.1:${portFromEnv('REVBRIDGE_AWS_PORT', DEFAULT_PORTS.aws, env)}`
    : (values.endpoint ?? env.AWS_ENDPOINT_URL);
  const loopback = endpoint !== undefined && /^https?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(endpoint);
  // The local runtime runs one stack: without a stage or stack name, it is the one it answers with.
  const stackName =
    values.stack ?? (values.stage || !loopback ? `revbridge-${values.stage ?? 'dev'}` : undefined);
  return {
    endpoint,
    stackName,
    region: values.region,
    // Only the local runtime gets placeholder credentials; anything else uses the default chain.
    localCredentials: loopback && !env.AWS_ACCESS_KEY_ID,
  };
};

interface Context {
  readonly clients: OperatorClients;
  readonly resources: OperatorResources;
  readonly values: Values;
  readonly args: readonly string[];
  readonly io: CliIo;
}

const print = (context: Context, json: unknown, text: () => string) =>
  context.io.out(context.values.json ? `${JSON.stringify(json, null, 2)}\n` : text());

const requireArg = (context: Context, index: number, what: string): string => {
  const value = context.args[index];
  if (!value) throw new UsageError(`give the ${what}`);
  return value;
};

const exceptions = async (context: Context): Promise<void> => {
  const { clients, resources, values } = context;
  const verb = context.args[1];
  const tableName = resources.exceptionsTable;
  switch (verb) {
    case 'list': {
      const items = await listExceptions(clients.documents, tableName, {
        ...(values.status ? { status: values.status } : {}),
        ...(values.flow ? { flow: values.flow } : {}),
      });
      print(context, items, () =>
        table(`Exceptions (${items.length})`, items, [
          'exceptionId',
          'status',
          'flow',
          'code',
          'message',
          'correlationId',
          'openedAt',
          'replays',
        ]),
      );
      return;
    }
    case 'show': {
      const detail = await showException(
        clients.documents,
        tableName,
        requireArg(context, 2, 'exception id'),
        {
          withData: values.data === true,
        },
      );
      print(context, detail, () => {
        const { event, data, ...fields } = detail;
        const lines = Object.entries(fields).map(([key, value]) => `  ${key.padEnd(14)} ${String(value)}`);
        const envelope = Object.entries(event).map(
          ([key, value]) =>
            `  ${key.padEnd(14)} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`,
        );
        return [
          `Exception ${detail.exceptionId}`,
          ...lines,
          'Event',
          ...envelope,
          ...(data === undefined
            ? ['  (data hidden: --data shows it)']
            : [`  data           ${JSON.stringify(data)}`]),
          `Replay it once the data is fixed: npx revbridge exceptions replay ${detail.exceptionId}`,
          '',
        ].join('\n');
      });
      return;
    }
    case 'replay': {
      const ids = values.all
        ? (
            await listExceptions(clients.documents, tableName, {
              status: 'OPEN',
              ...(values.flow ? { flow: values.flow } : {}),
            })
          ).map((item) => item.exceptionId)
        : [requireArg(context, 2, 'exception id (or --all)')];
      const replayed: { exceptionId: string; replayId: string; attempt: number }[] = [];
      for (const exceptionId of ids) {
        const result = await replayException(
          { documents: clients.documents, events: clients.events },
          { exceptions: tableName, busName: resources.busName },
          exceptionId,
        );
        replayed.push({ exceptionId, ...result });
      }
      print(context, replayed, () =>
        replayed.length === 0
          ? 'no open exceptions to replay\n'
          : `${replayed.map((r) => `${r.exceptionId}: event sent again as ${r.replayId} (attempt ${r.attempt})`).join('\n')}\nFollow it: npx revbridge trail <its correlation id>\n`,
      );
      return;
    }
    case 'resolve': {
      const exceptionId = requireArg(context, 2, 'exception id');
      const result = await resolveException(clients.documents, tableName, exceptionId, {
        by: values.by ?? context.io.env.USER ?? userInfo().username,
        note: values.note,
      });
      print(context, { exceptionId, ...result }, () => `${exceptionId}: resolved at ${result.resolvedAt}\n`);
      return;
    }
    default:
      throw new UsageError('exceptions list | show <id> | replay <id> | resolve <id>');
  }
};

const dlq = async (context: Context): Promise<void> => {
  const { clients, resources, values } = context;
  const states = await listDeadLetterQueues(clients.sqs, resources.deadLetterQueues);
  switch (context.args[1]) {
    case 'list':
      print(context, states, () =>
        table('Dead-letter queues', states, ['name', 'messages', 'inFlight', 'dlqUrl']),
      );
      return;
    case 'redrive': {
      const wanted = values.all
        ? undefined
        : requireArg(context, 2, 'consumer name (see dlq list), or --all');
      const chosen = states.filter((state) => (wanted ? state.name === wanted : state.messages > 0));
      if (wanted && chosen.length === 0) throw new UsageError(`no dead-letter queue ${wanted}: see dlq list`);
      const results: ({ name: string } & RedriveResult)[] = [];
      for (const queue of chosen) {
        const result = await redriveDeadLetterQueue({ sqs: clients.sqs, events: clients.events }, queue, {
          busName: resources.busName,
          ...(context.io.pollMs === undefined ? {} : { pollMs: context.io.pollMs }),
        });
        results.push({ name: queue.name, ...result });
      }
      print(context, results, () =>
        results.length === 0
          ? 'no dead-letter queue has messages\n'
          : `${results
              .map(
                (r) =>
                  `${r.name}: ${r.moved} moved back (${r.how === 'message-move-task' ? 'SQS message move task' : 'put back on the bus'}, ${r.status}${r.failureReason ? `: ${r.failureReason}` : ''})`,
              )
              .join('\n')}\n`,
      );
      return;
    }
    default:
      throw new UsageError('dlq list | redrive <consumer>');
  }
};

const trail = async (context: Context): Promise<void> => {
  const { clients, resources } = context;
  const result = await fullTrail(
    clients.documents,
    {
      links: resources.linksTable,
      exceptions: resources.exceptionsTable,
      idempotency: resources.idempotencyTable,
    },
    requireArg(context, 1, 'id to trace (deal, invoice or customer)'),
    { sfn: clients.sfn, stateMachineArns: resources.stateMachines.map((machine) => machine.arn) },
  );
  print(context, result, () =>
    [
      table(`Ids of ${result.id}`, result.ids, ['entity', 'system', 'id']),
      table(`Trail of ${result.id}`, result.steps, ['at', 'kind', 'system', 'id', 'detail']),
    ].join('\n'),
  );
};

const windowOf = (values: Values, defaults: { from?: string; to?: string }) => {
  const from = values.from ?? defaults.from;
  const to = values.to ?? defaults.to;
  if (!from || !to) throw new UsageError('give --from and --to');
  return { from: parseTime(from), to: parseTime(to) };
};

const reconcile = async (context: Context): Promise<void> => {
  const { clients, resources, values } = context;
  if (!resources.reconcile)
    throw new Error(
      `stack ${resources.stackName} has no reconciliation flow in its outputs (OpsReconcileStateMachineArn or OpsReconcileFunctionName)`,
    );
  const window = windowOf(values, { from: '2d', to: new Date().toISOString() });
  const run = await startReconciliation(clients, resources.reconcile, window, {
    ...(context.io.pollMs === undefined ? {} : { pollMs: context.io.pollMs }),
  });
  print(
    context,
    run,
    () =>
      `reconciliation ${window.from.toISOString()} → ${window.to.toISOString()}: ${run.status}${run.output === undefined ? '' : `\n${JSON.stringify(run.output, null, 2)}`}\nDifferences are exceptions: npx revbridge exceptions list --status OPEN\n`,
  );
};

const replay = async (context: Context): Promise<void> => {
  const { clients, resources, values } = context;
  if (!resources.archiveArn) throw new Error(`stack ${resources.stackName} outputs no event archive`);
  const window = windowOf(values, {});
  const result = await replayArchive(
    clients.events,
    { archiveArn: resources.archiveArn, busArn: resources.busArn },
    window,
    context.io.pollMs === undefined ? {} : { pollMs: context.io.pollMs },
  );
  print(
    context,
    result,
    () =>
      `replay ${result.replayName} of ${window.from.toISOString()} → ${window.to.toISOString()}: ${result.state}${result.reason ? ` (${result.reason})` : ''}\nEvents keep their ids: what was handled already is skipped by the consumers' idempotency.\n`,
  );
};

const COMMANDS: Record<string, (context: Context) => Promise<void>> = {
  exceptions,
  dlq,
  trail,
  reconcile,
  replay,
};

/** Runs one command; resolves to the exit code (0 done, 1 failed, 2 bad usage). */
export const main = async (argv: readonly string[], io: CliIo): Promise<number> => {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    io.err(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || !command) {
    io.out(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) {
    io.err(`unknown command "${command}"\n\n${USAGE}\n`);
    return 2;
  }
  const target = targetOf(values, io.env);
  const clients = operatorClients(target);
  try {
    const resources = await findResources(clients.cloudformation, target.stackName);
    await run({ clients, resources, values, args: positionals, io });
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.err(`revbridge ${command}: ${message}\n`);
    if (error instanceof UsageError) {
      io.err(`\n${USAGE}\n`);
      return 2;
    }
    return 1;
  } finally {
    clients.destroy();
  }
};
