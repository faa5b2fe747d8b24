import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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
  readonly kind: 'event' | 'link' | 'exception';
  /** The flow (events, exceptions) or the system the id is in (links). */
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

interface HandledRecord {
  readonly flow: string;
  readonly eventId: string;
  readonly type: string;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly occurredAt: string;
  readonly ids?: Record<string, string>;
  readonly handledAt: string;
  readonly outcome: Record<string, unknown>;
}

const handledOf = (item: Record<string, unknown>): HandledRecord | undefined => {
  const data = item.data as { handled?: HandledRecord } | undefined;
  return data && typeof data === 'object' && data.handled?.eventId ? data.handled : undefined;
};

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

export const fullTrail = async (
  documents: DynamoDBDocumentClient,
  tables: { links: string; exceptions: string; idempotency?: string | undefined },
  id: string,
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
      for (const link of links.map(linkParts)) {
        if (known.has(link.id)) known.add(link.targetId);
        if (known.has(link.targetId)) known.add(link.id);
      }
    }
  };
  followLinks();
  // An event names the ids in its data (its customer, its deal): it belongs to the trail of each of
  // those, but what it adds (the customer of an invoice) does not pull in that customer's other events.
  const root = new Set(known);
  const concerns = (record: HandledRecord) =>
    known.has(record.eventId) ||
    known.has(record.correlationId) ||
    Object.values(record.outcome).some((value) => typeof value === 'string' && known.has(value)) ||
    Object.values(record.ids ?? {}).some((value) => root.has(value));
  for (let round = 0; round < 2; round += 1) {
    for (const record of handled.filter(concerns)) {
      known.add(record.eventId);
      known.add(record.correlationId);
      for (const value of Object.values(record.ids ?? {})) known.add(value);
    }
    followLinks();
  }

  const steps: TrailStep[] = [];
  const ids = new Map<string, { entity: string; system: string; id: string }>();
  // Each link is written in both directions: one step per pair.
  const pairs = new Set<string>();
  for (const item of links) {
    const link = linkParts(item);
    if (!known.has(link.id)) continue;
    ids.set(`${link.entity}#${link.system}#${link.id}`, {
      entity: link.entity,
      system: link.system,
      id: link.id,
    });
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
  return {
    id,
    ids: [...ids.values()].sort((a, b) => `${a.entity}${a.system}`.localeCompare(`${b.entity}${b.system}`)),
    steps: steps.sort((a, b) => a.at.localeCompare(b.at)),
  };
};
