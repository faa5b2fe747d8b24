import { createHash } from 'node:crypto';
import { type CanonicalEvent, followUpEvent } from './events';
import type { EventPublisher, ExceptionRecord, ExceptionsRepository } from './ports';

/** An exception's id derives from the flow and what it is about, so a redelivered event opens nothing new. */
export const exceptionId = (flow: string, eventId: string): string =>
  `exc_${createHash('sha256').update(`${flow}\u0000${eventId}`).digest('hex').slice(0, 24)}`;

export interface ExceptionReporterDeps {
  readonly exceptions: ExceptionsRepository;
  readonly publisher: EventPublisher;
  readonly now?: () => Date;
}

/**
 * Exception reporting is orchestration over two ports (the exceptions store and the bus), not an
 * adapter: any flow, whatever stores its exceptions, reports one this way.
 *
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
