import type { ReceivedMessage, SqsEngine } from '../sqs/engine';
import type { InvokeResult, LambdaHost } from './lambda-host';

export interface SqsMappingSpec {
  readonly functionName: string;
  readonly queueArn: string;
  readonly batchSize: number;
  /** Concurrent batches in flight (the mapping's MaximumConcurrency). */
  readonly maxConcurrency: number;
  readonly reportBatchItemFailures: boolean;
  readonly maxBatchingWindowSeconds: number;
  readonly region: string;
}

export interface PollerEvents {
  readonly onBatch?: (spec: SqsMappingSpec, size: number, outcome: InvokeResult, failed: number) => void;
}

/** How long one poll waits for messages; short so a stopping runtime is not held up. */
const POLL_WAIT_SECONDS = 1;

const toRecord = (message: ReceivedMessage, spec: SqsMappingSpec) => ({
  messageId: message.messageId,
  receiptHandle: message.receiptHandle,
  body: message.body,
  attributes: message.attributes,
  messageAttributes: Object.fromEntries(
    Object.entries(message.messageAttributes).map(([name, value]) => [
      name,
      {
        dataType: value.dataType,
        stringValue: value.stringValue,
        binaryValue: value.binaryValue ? Buffer.from(value.binaryValue).toString('base64') : undefined,
        stringListValues: value.stringListValues ?? [],
        binaryListValues: (value.binaryListValues ?? []).map((item) => Buffer.from(item).toString('base64')),
      },
    ]),
  ),
  md5OfBody: message.md5OfBody,
  eventSource: 'aws:sqs',
  eventSourceARN: spec.queueArn,
  awsRegion: spec.region,
});

/**
 * Polls a queue for a function the way Lambda's SQS event source mapping does: up to
 * `maxConcurrency` batches at once, each of up to `batchSize` messages; on success the messages are
 * deleted except those the function reported in `batchItemFailures`; on a function error none are,
 * so they reappear after the visibility timeout and count towards the redrive policy.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 */
export class SqsPoller {
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private batches = 0;
  private messages = 0;
  private failedMessages = 0;
  /** Set while the mapping is disabled (UpdateEventSourceMapping `Enabled: false`): resolves on enable. */
  private disabled: { promise: Promise<void>; resolve: () => void } | undefined;
  /** Ends the long polls in progress when the mapping is disabled. */
  private receiving = new AbortController();

  constructor(
    private readonly spec: SqsMappingSpec,
    private readonly sqs: SqsEngine,
    private readonly lambda: LambdaHost,
    private readonly events: PollerEvents = {},
  ) {}

  start(): void {
    for (let i = 0; i < this.spec.maxConcurrency; i += 1) this.loops.push(this.loop());
  }

  /**
   * Enables or disables the mapping, as `UpdateEventSourceMapping` does: disabled, it starts no new
   * receive (batches in flight finish), so the queue builds a backlog.
   */
  setEnabled(enabled: boolean): void {
    if (!enabled) {
      if (!this.disabled) {
        let resolve: () => void = () => {};
        const promise = new Promise<void>((done) => {
          resolve = done;
        });
        this.disabled = { promise, resolve };
        this.receiving.abort();
        this.receiving = new AbortController();
      }
      return;
    }
    this.disabled?.resolve();
    this.disabled = undefined;
  }

  get enabled(): boolean {
    return this.disabled === undefined;
  }

  async stop(): Promise<void> {
    this.disabled?.resolve();
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  snapshot() {
    return {
      function: this.spec.functionName,
      queue: this.spec.queueArn.split(':').pop(),
      batchSize: this.spec.batchSize,
      maxConcurrency: this.spec.maxConcurrency,
      enabled: this.enabled,
      batches: this.batches,
      messages: this.messages,
      failedMessages: this.failedMessages,
    };
  }

  private async loop(): Promise<void> {
    const { signal } = this.abort;
    while (!signal.aborted) {
      if (this.disabled) {
        await this.disabled.promise;
        continue;
      }
      let received: ReceivedMessage[];
      try {
        received = await this.sqs.receiveMessage(this.spec.queueArn, {
          maxNumberOfMessages: this.spec.batchSize,
          waitTimeSeconds: POLL_WAIT_SECONDS,
          attributeNames: ['All'],
          messageAttributeNames: ['All'],
          signal: AbortSignal.any([signal, this.receiving.signal]),
        });
      } catch {
        if (signal.aborted) return;
        continue;
      }
      if (received.length === 0 || signal.aborted) continue;
      if (this.spec.maxBatchingWindowSeconds > 0) await this.gather(received, signal);
      if (signal.aborted) return;
      await this.deliver(received);
    }
  }

  /**
   * MaximumBatchingWindowInSeconds: with a window, Lambda goes on reading after the first messages
   * until the batch is full or the window is over, then invokes once. Without one it invokes with what
   * the first receive returned.
   * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html#sqs-polling-behavior
   */
  private async gather(batch: ReceivedMessage[], signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.spec.maxBatchingWindowSeconds * 1000;
    for (;;) {
      const left = deadline - Date.now();
      if (batch.length >= this.spec.batchSize || left <= 0 || signal.aborted) return;
      const more = await this.sqs
        .receiveMessage(this.spec.queueArn, {
          maxNumberOfMessages: this.spec.batchSize - batch.length,
          waitTimeSeconds: Math.min(20, Math.ceil(left / 1000)),
          attributeNames: ['All'],
          messageAttributeNames: ['All'],
          signal: AbortSignal.any([signal, AbortSignal.timeout(left)]),
        })
        .catch((): ReceivedMessage[] => []);
      batch.push(...more);
    }
  }

  private async deliver(received: ReceivedMessage[]): Promise<void> {
    const outcome = await this.lambda
      .invoke(this.spec.functionName, { Records: received.map((message) => toRecord(message, this.spec)) })
      .catch(
        (error: unknown): InvokeResult => ({
          ok: false,
          error: { errorType: 'Runtime.Error', errorMessage: String(error), stack: [] },
          durationMs: 0,
        }),
      );
    this.batches += 1;
    this.messages += received.length;
    let failedIds = new Set(received.map((message) => message.messageId));
    if (outcome.ok) failedIds = this.reportedFailures(outcome.result, received);
    for (const message of received) {
      if (failedIds.has(message.messageId)) continue;
      try {
        this.sqs.deleteMessage(this.spec.queueArn, message.receiptHandle);
      } catch {
        // The message was already redelivered to someone else; SQS would say the same.
      }
    }
    this.failedMessages += failedIds.size;
    this.events.onBatch?.(this.spec, received.length, outcome, failedIds.size);
  }

  /** Lambda treats a malformed response, or an identifier it did not send, as a failure of the whole batch. */
  private reportedFailures(result: unknown, received: ReceivedMessage[]): Set<string> {
    if (!this.spec.reportBatchItemFailures) return new Set();
    if (result === null || result === undefined) return new Set();
    const failures = (result as { batchItemFailures?: unknown }).batchItemFailures;
    if (failures === undefined || failures === null) return new Set();
    const all = new Set(received.map((message) => message.messageId));
    if (!Array.isArray(failures)) return all;
    const ids = new Set<string>();
    for (const failure of failures) {
      const id = (failure as { itemIdentifier?: unknown })?.itemIdentifier;
      if (typeof id !== 'string' || !all.has(id)) return all;
      ids.add(id);
    }
    return ids;
  }
}
