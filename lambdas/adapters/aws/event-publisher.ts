import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { busSource } from '../../domain/events';
import type { EventPublisher } from '../../domain/ports';
import { TransientError } from '../../shared/errors';

/** PutEvents takes at most 10 entries per call. https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html */
const MAX_ENTRIES_PER_CALL = 10;

export type { EventPublisher } from '../../domain/ports';

/**
 * Publishes canonical events on the bus. Any failed entry fails the whole call as transient: the
 * caller answers 5xx (or fails the record) and the vendor or the queue retries, and the consumers'
 * idempotency makes the entries that did get through harmless the second time.
 */
export const eventBridgePublisher = (client: EventBridgeClient, busName: string): EventPublisher => ({
  async publish(events) {
    for (let start = 0; start < events.length; start += MAX_ENTRIES_PER_CALL) {
      const chunk = events.slice(start, start + MAX_ENTRIES_PER_CALL);
      let failed: number;
      try {
        const output = await client.send(
          new PutEventsCommand({
            Entries: chunk.map((event) => ({
              EventBusName: busName,
              Source: busSource(event.source.vendor),
              DetailType: event.type,
              Detail: JSON.stringify(event),
              Time: new Date(event.occurredAt),
              Resources: [],
            })),
          }),
        );
        failed = output.FailedEntryCount ?? 0;
      } catch (error) {
        throw new TransientError('PutEvents failed', { code: 'PublishFailed' }, { cause: error });
      }
      if (failed > 0) {
        throw new TransientError(`PutEvents rejected ${failed} of ${chunk.length} entries`, {
          code: 'PublishFailed',
        });
      }
    }
  },
});
