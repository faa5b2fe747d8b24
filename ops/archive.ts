import {
  DescribeReplayCommand,
  type EventBridgeClient,
  StartReplayCommand,
} from '@aws-sdk/client-eventbridge';

/**
 * Archive replay: the bus's archive keeps every revbridge event; StartReplay sends a window of them to
 * the bus's rules again (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-replay-archived-event.html).
 * The replayed events keep their canonical ids, so a consumer that handled one already (idempotency,
 * 7 days) does nothing, and one whose message was lost handles it: replaying twice writes nothing twice.
 */

export interface ArchiveReplay {
  readonly replayName: string;
  readonly state: string;
  readonly reason?: string;
  readonly eventStartTime: Date;
  readonly eventEndTime: Date;
}

/** A replay name from the window and the moment (names are unique per account and region). */
export const replayNameFor = (from: Date, to: Date, now = new Date()): string => {
  const compact = (date: Date) => date.toISOString().replace(/[-:]/g, '').slice(0, 13);
  return `revbridge-${compact(from)}-${compact(to)}-${now.getTime().toString(36)}`;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a replay of [from, to] onto the bus and waits until EventBridge says it is done. */
export const replayArchive = async (
  events: EventBridgeClient,
  target: { archiveArn: string; busArn: string },
  window: { from: Date; to: Date },
  options: { pollMs?: number; timeoutMs?: number; now?: Date } = {},
): Promise<ArchiveReplay> => {
  if (!(window.from < window.to)) throw new Error('--from must be before --to');
  const replayName = replayNameFor(window.from, window.to, options.now);
  await events.send(
    new StartReplayCommand({
      ReplayName: replayName,
      EventSourceArn: target.archiveArn,
      EventStartTime: window.from,
      EventEndTime: window.to,
      Destination: { Arn: target.busArn },
      Description: 'revbridge replay (npx revbridge replay)',
    }),
  );
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  for (;;) {
    const replay = await events.send(new DescribeReplayCommand({ ReplayName: replayName }));
    const state = String(replay.State ?? 'STARTING');
    if (!['STARTING', 'RUNNING', 'CANCELLING'].includes(state) || Date.now() > deadline) {
      return {
        replayName,
        state,
        ...(replay.StateReason ? { reason: replay.StateReason } : {}),
        eventStartTime: window.from,
        eventEndTime: window.to,
      };
    }
    await sleep(options.pollMs ?? 5000);
  }
};
