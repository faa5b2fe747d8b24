import { DescribeExecutionCommand, GetExecutionHistoryCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { HandledEvent } from '../lambdas/shared/event-consumer';
import { scanAll } from './tables';

/**
 * The trail of one id (a deal, an invoice, a customer): every event a flow handled for it, every id
 * written for it in another system, every exception about it, in time order. The bus archive cannot be
 * read back (only replayed), so the events come from the consumers' idempotency records, which keep
 * each handled event's envelope ids and outcome (`data.handled`, see lambdas/shared/event-consumer.ts)
 * for the 7 days of idempotency; links and exceptions are kept for good.
 */

export interface TrailStep {
  readonly at: string;
  readonly kind: 'event' | 'link' | 'exception' | 'execution';
  /** The flow (events, exceptions), the system the id is in (links) or the state machine. */
  readonly system: string;
  readonly id: string;
  readonly detail: string;
}

export interface Trail {
  readonly id: string;
  /** The lineage: the entity's id in each system, from the links table. */
  readonly ids: readonly { entity: string; system: string; id: string }[];
  readonly steps: readonly TrailStep[];
}

/** Records written before the data ids were kept have none. */
type HandledRecord = Omit<HandledEvent, 'ids'> & { readonly ids?: HandledEvent['ids'] };

const handledOf = (item: Record<string, unknown>): HandledRecord | undefined => {
  const data = item.data as { handled?: HandledRecord } | undefined;
  return data && typeof data === 'object' && data.handled?.eventId ? data.handled : undefined;
};

/** How far down the revenue chain a system is: CRM, then billing, then the ERP. */
const downstream = (system: string): number => (system === 'netsuite' ? 2 : system === 'stripe' ? 1 : 0);

const linkParts = (link: Record<string, unknown>) => {
  const [entity = '', system = '', ...rest] = String(link.pk).split('#');
  return { entity, system, id: rest.join('#'), target: String(link.target), targetId: String(link.targetId) };
};

const describeOutcome = (outcome: Record<string, unknown>): string =>
  Object.entries(outcome)
    .map(([key, value]) => `${key}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
    .join(' ');

/**
 * Follows the id through the links (both directions, a few hops: invoice → customer → deal), the
 * handled events (their correlation and event ids join the search, so an invoice's trail includes the
 * deal it came from) and the exceptions. Scans the tables: fine for the operator's occasional query.
 */
export const trailOf = async (
  documents: DynamoDBDocumentClient,
  tables: { links: string; exceptions: string; idempotency?: string | undefined },
  id: string,
): Promise<TrailStep[]> => (await fullTrail(documents, tables, id)).steps as TrailStep[];

/** Step Functions access for the sagas an event started (its outcome names the execution). */
export interface ExecutionSource {
  readonly sfn: SFNClient;
  readonly stateMachineArns: readonly string[];
}

interface ExecutionFound {
  readonly machine: string;
  readonly name: string;
  readonly status: string;
  readonly startDate: string;
  readonly error?: string | undefined;
  /** `{ erpCustomer: '123', subscription: 'sub_...' }`: each step result's `id`. */
  readonly ids: Record<string, string>;
}

/** The execution of one of the machines with this name, with the ids its steps produced. */
const findExecution = async (source: ExecutionSource, name: string): Promise<ExecutionFound | undefined> => {
  for (const machineArn of source.stateMachineArns) {
    const executionArn = `${machineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const execution = await source.sfn
      .send(new DescribeExecutionCommand({ executionArn }))
      .catch((error: unknown) => {
        if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return undefined;
        throw error;
      });
    if (!execution) continue;
    // The latest state's output holds every step's result (ResultPath `$.<step>`), each with its id.
    const { events = [] } = await source.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 50 }),
    );
    const exited = events.find((event) => event.stateExitedEventDetails?.output);
    const ids: Record<string, string> = {};
    try {
      const output = JSON.parse(exited?.stateExitedEventDetails?.output ?? '{}') as Record<string, unknown>;
      for (const [key, value] of Object.entries(output)) {
        const id = (value as { id?: unknown } | null)?.id;
        if (typeof id === 'string') ids[key] = id;
      }
    } catch {
      // An output that is not JSON names no ids.
    }
    return {
      machine: machineArn.slice(machineArn.lastIndexOf(':') + 1),
      name,
      status: String(execution.status),
      startDate: execution.startDate?.toISOString() ?? '',
      error: execution.error,
      ids,
    };
  }
  return undefined;
};

export const fullTrail = async (
  documents: DynamoDBDocumentClient,
  tables: { links: string; exceptions: string; idempotency?: string | undefined },
  id: string,
  executionSource?: ExecutionSource,
): Promise<Trail> => {
  const [links, exceptions, records] = await Promise.all([
    scanAll(documents, tables.links),
    scanAll(documents, tables.exceptions),
    tables.idempotency ? scanAll(documents, tables.idempotency) : Promise.resolve([]),
  ]);
  const handled = records.map(handledOf).filter((record): record is HandledRecord => record !== undefined);
  const known = new Set([id]);
  const followLinks = () => {
    for (let hop = 0; hop < 3; hop += 1) {
      for (const item of links) {
        const link = linkParts(item);
        if (known.has(link.id) || known.has(String(item.recordedBy))) {
          known.add(link.id);
          known.add(link.targetId);
        }
        if (known.has(link.targetId)) known.add(link.id);
      }
    }
  };
  followLinks();
  // The entity's own ids (its links, the ids its saga produced). An event naming one of them in its
  // data (an invoice of the deal's subscription) belongs to the trail; what such an event adds (the
  // invoice's customer) does not pull in that customer's other events.
  const root = new Set(known);
  const concerns = (record: HandledRecord) =>
    known.has(record.eventId) ||
    known.has(record.correlationId) ||
    Object.values(record.outcome).some((value) => typeof value === 'string' && known.has(value)) ||
    Object.values(record.ids ?? {}).some((value) => root.has(value));
  const executions = new Map<string, ExecutionFound>();
  for (let round = 0; round < 3; round += 1) {
    for (const record of handled.filter(concerns)) {
      known.add(record.eventId);
      known.add(record.correlationId);
      for (const value of Object.values(record.ids ?? {})) known.add(value);
      const name = record.outcome.executionName;
      if (executionSource && typeof name === 'string' && !executions.has(name)) {
        const execution = await findExecution(executionSource, name);
        if (execution) {
          executions.set(name, execution);
          for (const value of Object.values(execution.ids)) {
            root.add(value);
            known.add(value);
          }
        }
      }
    }
    followLinks();
  }

  const steps: TrailStep[] = [];
  const ids = new Map<string, { entity: string; system: string; id: string }>();
  // Each link is written in both directions: one step per pair, told the way the chain runs (CRM →
  // billing → ERP). Which of the two items a scan returns first depends on their keys' hashes, so the
  // first one seen would name the ERP in one run and billing in another.
  const pairs = new Set<string>();
  for (const item of links) {
    const link = linkParts(item);
    if (!known.has(link.id)) continue;
    ids.set(`${link.entity}#${link.system}#${link.id}`, {
      entity: link.entity,
      system: link.system,
      id: link.id,
    });
    // A link written one way only (an invoice's, to the ERP) still names the id it points to.
    ids.set(`${link.entity}#${link.target}#${link.targetId}`, {
      entity: link.entity,
      system: link.target,
      id: link.targetId,
    });
    if (downstream(link.target) < downstream(link.system)) {
      const reverse = links.find((other) => {
        const back = linkParts(other);
        return (
          back.entity === link.entity &&
          back.system === link.target &&
          back.id === link.targetId &&
          back.target === link.system &&
          back.targetId === link.id
        );
      });
      // The chain's direction is in the table too: that item makes the step.
      if (reverse) continue;
    }
    const pair = [`${link.system}#${link.id}`, `${link.target}#${link.targetId}`].sort().join('|');
    if (pairs.has(pair)) continue;
    pairs.add(pair);
    steps.push({
      at: String(item.recordedAt ?? ''),
      kind: 'link',
      system: link.target,
      id: link.targetId,
      detail: `${link.entity} ${link.system} ${link.id} → ${link.target} ${link.targetId} (by ${String(item.recordedBy ?? '?')})`,
    });
  }
  for (const execution of executions.values()) {
    steps.push({
      at: execution.startDate,
      kind: 'execution',
      system: execution.machine,
      id: execution.name,
      detail: `${execution.status}${execution.error ? ` (${execution.error})` : ''} ${describeOutcome(execution.ids)}`,
    });
  }
  for (const record of handled.filter(concerns)) {
    steps.push({
      at: record.handledAt,
      kind: 'event',
      system: record.flow,
      id: record.eventId,
      detail: `${record.type} (correlation ${record.correlationId}, occurred ${record.occurredAt}) ${describeOutcome(record.outcome)}`,
    });
  }
  for (const item of exceptions) {
    if (!known.has(String(item.correlationId)) && !known.has(String(item.eventId))) continue;
    steps.push({
      at: String(item.openedAt ?? ''),
      kind: 'exception',
      system: String(item.flow ?? ''),
      id: String(item.pk),
      detail: `${String(item.code)}: ${String(item.message)} (${String(item.status)}${item.replays ? `, replayed ${String(item.replays)}×` : ''})`,
    });
  }
  const lineage = [
    ...ids.values(),
    ...[...executions.values()].flatMap((execution) =>
      Object.entries(execution.ids).map(([entity, value]) => ({
        entity,
        system: execution.machine,
        id: value,
      })),
    ),
  ];
  return {
    id,
    ids: lineage.sort((a, b) => `${a.entity}${a.system}`.localeCompare(`${b.entity}${b.system}`)),
    steps: steps.sort((a, b) => a.at.localeCompare(b.at)),
  };
};
