/**
 * DLQ redrive as SQS offers it: StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_StartMessageMoveTask.html).
 * Locally a task moves every available message at once, so it is COMPLETED when it is listed; the
 * task records and their handles live here, the moving itself in the engine.
 */

export type MessageMoveStatus = 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED';

export interface MessageMoveTask {
  readonly taskHandle: string;
  readonly sourceArn: string;
  /** Absent: each message goes back to the queue it was dead-lettered from. */
  readonly destinationArn?: string | undefined;
  readonly maxNumberOfMessagesPerSecond?: number | undefined;
  status: MessageMoveStatus;
  approximateNumberOfMessagesMoved: number;
  readonly approximateNumberOfMessagesToMove: number;
  failureReason?: string | undefined;
  readonly startedTimestamp: number;
}

/** A task handle as SQS makes one: an opaque base64 token naming the task and its source. */
export const taskHandleOf = (sourceArn: string, taskId: string): string =>
  Buffer.from(JSON.stringify({ taskId, sourceArn })).toString('base64');

export const sourceOfHandle = (handle: string): string | undefined => {
  try {
    const parsed = JSON.parse(Buffer.from(handle, 'base64').toString('utf8')) as { sourceArn?: unknown };
    return typeof parsed.sourceArn === 'string' ? parsed.sourceArn : undefined;
  } catch {
    return undefined;
  }
};

/** The tasks of each source queue, newest first (ListMessageMoveTasks returns the 10 latest at most). */
export class MessageMoveTasks {
  private readonly bySource = new Map<string, MessageMoveTask[]>();

  running(sourceArn: string): MessageMoveTask | undefined {
    return this.bySource.get(sourceArn)?.find((task) => task.status === 'RUNNING');
  }

  add(task: MessageMoveTask): void {
    const tasks = this.bySource.get(task.sourceArn) ?? [];
    tasks.unshift(task);
    this.bySource.set(task.sourceArn, tasks.slice(0, 10));
  }

  list(sourceArn: string, maxResults = 1): MessageMoveTask[] {
    return (this.bySource.get(sourceArn) ?? []).slice(0, maxResults);
  }

  byHandle(handle: string): MessageMoveTask | undefined {
    const source = sourceOfHandle(handle);
    return source ? this.bySource.get(source)?.find((task) => task.taskHandle === handle) : undefined;
  }
}
