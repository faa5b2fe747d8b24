import { type CanonicalEvent, followUpEvent } from '../../domain/events';
import type { EventPublisher } from './event-publisher';
import type { ExceptionRecord, ExceptionsRepository } from './exceptions-repository';

export interface ExceptionReporterDeps {
  readonly exceptions: ExceptionsRepository;
  readonly publisher: EventPublisher;
  readonly now?: () => Date;
}

/**
 * Opens the exception a person works from (kept with its event, for replay) and announces it on the
 * bus as `ops.exception.opened`. Both ids derive from the flow and the event, so a redelivered event
 * opens and announces nothing new.
 */
export const reportException = async (
  deps: ExceptionReporterDeps,
  flow: string,
  code: string,
  message: string,
  event: CanonicalEvent,
  /** What the exception is about, when not the event itself (see `ExceptionsRepository.open`). */
  key?: string,
): Promise<ExceptionRecord> => {
  const record = await deps.exceptions.open(flow, code, message, event, key);
  await deps.publisher.publish([
    followUpEvent(
      event,
      'ops.exception.opened',
      flow,
      { exceptionId: record.exceptionId, flow, code, message, eventId: event.id, eventType: event.type },
      deps.now?.(),
    ),
  ]);
  return record;
};
