import { randomUUID } from 'node:crypto';
import { batchFailure, invalidParameter, noSuchQueue, sqsError } from './errors';
import {
  deduplicationOf,
  lockedGroups,
  rememberAttempt,
  rememberDeduplication,
  replayAttempt,
  SequenceNumbers,
} from './fifo';
import { md5Hex, sendDigests } from './md5';
import { type MessageMoveTask, MessageMoveTasks, taskHandleOf } from './message-move';
import {
  checkBatch,
  checkIntegerParameter,
  checkQueueName,
  checkReceiveOptions,
  checkSendBatchSize,
  checkSendInput,
  MAX_TIMER_MS,
  MAX_VISIBILITY_SECONDS,
  mergeTags,
  PURGE_COOLDOWN_MS,
} from './parameters';
import { countsOf, type Queue, type StoredMessage, stateOf, store, sweep, type Waiter } from './queue';
import {
  allAttributes,
  FIFO_DEFAULTS,
  fifoRequested,
  firstDifferentAttribute,
  isKnownAttribute,
  mergeAttributes,
  STANDARD_DEFAULTS,
} from './queue-attributes';
import { encodeReceiptHandle, handleExpired, messageByHandle } from './receipt-handle';
import { checkDeadLetterTarget, deadLetterCopy, redrivePolicyOf } from './redrive';
import type {
  BatchFailure,
  BatchResult,
  DeadLetterInfo,
  MessageView,
  QueueRef,
  ReceivedMessage,
  ReceiveOptions,
  SendMessageInput,
  SendMessageResult,
  SqsEngineOptions,
  SqsQueueMetrics,
  SqsSnapshot,
} from './types';
import { queueMetrics, queueSnapshot, toMessageView, toReceived } from './views';

export { type SqsErrorCode, sqsError } from './errors';
export { md5Hex, md5OfMessageAttributes } from './md5';
export type * from './types';

/**
 * An in-memory Amazon SQS: standard and FIFO queues, visibility timeouts, receive counts, redrive to
 * dead-letter queues, long polling and FIFO group locks, as the SQS API reference documents them
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/Welcome.html).
 *
 * Time comes from `now()` so tests can move it; waits (long polls, delays, visibility timeouts that
 * wake a long poll) use real timers. A test that moves an injected clock calls `tick()` afterwards so
 * waiting receives see what the jump made visible.
 *
 * This file holds the operations and long polling; the rules live beside it: `parameters.ts`
 * (limits and request checks), `queue-attributes.ts`, `redrive.ts`, `fifo.ts`, `md5.ts`,
 * `receipt-handle.ts`, `queue.ts` (stored state), `views.ts` (what is shown) and `errors.ts`.
 */
export class SqsEngine {
  readonly region: string;
  readonly accountId: string;
  readonly baseUrl: string;
  readonly now: () => number;
  private readonly queues = new Map<string, Queue>();
  private readonly sequenceNumbers = new SequenceNumbers();
  private readonly moveTasks = new MessageMoveTasks();
  private closed = false;

  constructor(options: SqsEngineOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.baseUrl = (options.baseUrl ?? 'http://127.0.0.1:4566').replace(/\/+$/, '');
    this.now = options.now ?? Date.now;
  }

  // ----- queues -------------------------------------------------------------------------------

  /** Returns the queue URL; idempotent when the given attributes equal the existing queue's. */
  createQueue(
    name: string,
    attributes: Readonly<Record<string, string>> = {},
    tags: Readonly<Record<string, string>> = {},
  ): string {
    const fifo = fifoRequested(attributes);
    checkQueueName(name, fifo);
    const existing = this.queues.get(name);
    if (existing) {
      const different = firstDifferentAttribute(existing, attributes);
      if (different !== undefined) {
        throw sqsError(
          'QueueNameExists',
          `A queue already exists with the same name and a different value for attribute ${different}`,
        );
      }
      return existing.url;
    }
    const now = this.now();
    const queue: Queue = {
      name,
      fifo,
      url: `${this.baseUrl}/${this.accountId}/${name}`,
      arn: `arn:aws:sqs:${this.region}:${this.accountId}:${name}`,
      createdAt: now,
      lastModifiedAt: now,
      attributes: new Map(Object.entries(fifo ? FIFO_DEFAULTS : STANDARD_DEFAULTS)),
      tags: new Map(),
      messages: new Map(),
      oldestRetentionFrom: Number.POSITIVE_INFINITY,
      dedup: new Map(),
      attempts: new Map(),
      waiters: [],
      counters: { sent: 0, received: 0, deleted: 0, emptyReceives: 0 },
    };
    this.applyAttributes(queue, attributes, true);
    this.applyTags(queue, tags);
    this.queues.set(name, queue);
    return queue.url;
  }

  getQueueUrl(name: string, ownerAccountId?: string): string {
    if (ownerAccountId !== undefined && ownerAccountId !== this.accountId) throw noSuchQueue();
    return this.queueOf(name).url;
  }

  /** Queue URLs sorted by name; `nextToken` only when `maxResults` cut the list short (API_ListQueues). */
  listQueues(
    options: {
      prefix?: string | undefined;
      maxResults?: number | undefined;
      nextToken?: string | undefined;
    } = {},
  ): { queueUrls: string[]; nextToken?: string } {
    const { prefix = '', maxResults, nextToken } = options;
    checkIntegerParameter('MaxResults', maxResults, 1, 1000, 'Must be between 1 and 1000');
    let after = '';
    if (nextToken !== undefined) {
      after = Buffer.from(nextToken, 'base64url').toString('utf8');
    }
    const names = [...this.queues.keys()].filter((name) => name.startsWith(prefix) && name > after).sort();
    const limit = maxResults ?? 1000;
    const page = names.slice(0, limit);
    const last = page.at(-1);
    const result: { queueUrls: string[]; nextToken?: string } = {
      queueUrls: page.map((name) => this.queueOf(name).url),
    };
    if (maxResults !== undefined && names.length > limit && last !== undefined) {
      result.nextToken = Buffer.from(last, 'utf8').toString('base64url');
    }
    return result;
  }

  /** Names not given return nothing, as SQS does; `All` returns every attribute the queue has. */
  getQueueAttributes(ref: QueueRef, names: readonly string[] = []): Record<string, string> {
    const queue = this.resolve(ref);
    this.sweep(queue);
    const all = allAttributes(queue, countsOf(queue, this.now()));
    if (names.includes('All')) return all;
    const result: Record<string, string> = {};
    for (const name of names) {
      if (!isKnownAttribute(queue, name))
        throw sqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
      const value = all[name];
      if (value !== undefined) result[name] = value;
    }
    return result;
  }

  setQueueAttributes(ref: QueueRef, attributes: Readonly<Record<string, string>>): void {
    const queue = this.resolve(ref);
    this.applyAttributes(queue, attributes, false);
    queue.lastModifiedAt = this.now();
    // A shorter delay or retention changes what a waiting receive can get.
    this.serve(queue);
  }

  purgeQueue(ref: QueueRef): void {
    const queue = this.resolve(ref);
    const now = this.now();
    if (queue.lastPurgeAt !== undefined && now - queue.lastPurgeAt < PURGE_COOLDOWN_MS) {
      throw sqsError(
        'PurgeQueueInProgress',
        `Only one PurgeQueue operation on ${queue.name} is allowed every 60 seconds.`,
      );
    }
    queue.lastPurgeAt = now;
    queue.messages.clear();
    queue.attempts.clear();
  }

  deleteQueue(ref: QueueRef): void {
    const queue = this.resolve(ref);
    this.queues.delete(queue.name);
    this.releaseWaiters(queue);
  }

  tagQueue(ref: QueueRef, tags: Readonly<Record<string, string>>): void {
    this.applyTags(this.resolve(ref), tags);
  }

  untagQueue(ref: QueueRef, keys: readonly string[]): void {
    const queue = this.resolve(ref);
    for (const key of keys) queue.tags.delete(key);
  }

  listQueueTags(ref: QueueRef): Record<string, string> {
    return Object.fromEntries(this.resolve(ref).tags);
  }

  /** URLs of the queues whose RedrivePolicy targets this queue (API_ListDeadLetterSourceQueues). */
  listDeadLetterSourceQueues(ref: QueueRef): string[] {
    const target = this.resolve(ref);
    return [...this.queues.values()]
      .filter((queue) => redrivePolicyOf(queue)?.deadLetterTargetArn === target.arn)
      .map((queue) => queue.url);
  }

  /** Name, URL and ARN of a queue given by URL, ARN or name. */
  describeQueue(ref: QueueRef): { name: string; url: string; arn: string; fifo: boolean } {
    const { name, url, arn, fifo } = this.resolve(ref);
    return { name, url, arn, fifo };
  }

  // ----- dead-letter queue redrive (message move tasks) ----------------------------------------

  /**
   * Moves the available messages of a dead-letter queue to `destinationArn`, or each back to the
   * queue it was dead-lettered from, as new messages (receive count 0). SQS runs the move in the
   * background at up to `maxNumberOfMessagesPerSecond`; locally it is done when this returns.
   */
  startMessageMoveTask(
    sourceArn: string,
    destinationArn?: string,
    maxNumberOfMessagesPerSecond?: number,
  ): string {
    const source = this.findByArn(sourceArn);
    if (!source)
      throw sqsError(
        'QueueDoesNotExist',
        `The resource that you specified for the SourceArn parameter doesn't exist.`,
      );
    if (!this.redriveTargetArns().has(source.arn)) {
      throw sqsError('InvalidParameterValue', 'Source queue must be configured as a Dead Letter Queue.');
    }
    if (this.moveTasks.running(source.arn)) {
      throw sqsError(
        'UnsupportedOperation',
        'There is already a task running. Only one active task is allowed for a source queue arn at a given time.',
      );
    }
    const destination = destinationArn === undefined ? undefined : this.findByArn(destinationArn);
    if (destinationArn !== undefined && !destination) {
      throw sqsError(
        'QueueDoesNotExist',
        `The resource that you specified for the DestinationArn parameter doesn't exist.`,
      );
    }
    this.sweep(source);
    const now = this.now();
    const available = [...source.messages.values()].filter((message) => stateOf(message, now) === 'visible');
    const task: MessageMoveTask = {
      taskHandle: taskHandleOf(source.arn, randomUUID()),
      sourceArn: source.arn,
      destinationArn,
      maxNumberOfMessagesPerSecond,
      status: 'RUNNING',
      approximateNumberOfMessagesMoved: 0,
      approximateNumberOfMessagesToMove: available.length,
      startedTimestamp: now,
    };
    this.moveTasks.add(task);
    const touched = new Set<Queue>();
    for (const message of available) {
      const target =
        destination ??
        (message.deadLetterSourceArn ? this.findByArn(message.deadLetterSourceArn) : undefined);
      if (!target) {
        task.failureReason = `message ${message.messageId} has no source queue to go back to`;
        continue;
      }
      source.messages.delete(message.messageId);
      this.enqueue(target, {
        body: message.body,
        messageAttributes: message.messageAttributes,
        ...(message.messageGroupId === undefined ? {} : { messageGroupId: message.messageGroupId }),
        ...(target.fifo ? { messageDeduplicationId: randomUUID() } : {}),
      });
      task.approximateNumberOfMessagesMoved += 1;
      touched.add(target);
    }
    task.status = task.failureReason ? 'FAILED' : 'COMPLETED';
    for (const queue of touched) this.serve(queue);
    return task.taskHandle;
  }

  /** The latest tasks of a dead-letter queue, newest first. */
  listMessageMoveTasks(sourceArn: string, maxResults?: number): MessageMoveTask[] {
    if (!this.findByArn(sourceArn))
      throw sqsError(
        'QueueDoesNotExist',
        `The resource that you specified for the SourceArn parameter doesn't exist.`,
      );
    return this.moveTasks.list(sourceArn, maxResults);
  }

  /** Cancels a running task; locally every task has finished, so this is the error SQS gives then. */
  cancelMessageMoveTask(taskHandle: string): number {
    const task = this.moveTasks.byHandle(taskHandle);
    if (!task) throw sqsError('InvalidParameterValue', 'The task handle is not valid.');
    if (task.status !== 'RUNNING')
      throw sqsError('UnsupportedOperation', `The task is ${task.status}, not RUNNING.`);
    task.status = 'CANCELLED';
    return task.approximateNumberOfMessagesMoved;
  }

  // ----- messages -----------------------------------------------------------------------------

  sendMessage(ref: QueueRef, input: SendMessageInput): SendMessageResult {
    const queue = this.resolve(ref);
    this.sweep(queue);
    const result = this.enqueue(queue, input);
    this.serve(queue);
    return result;
  }

  sendMessageBatch(
    ref: QueueRef,
    entries: readonly (SendMessageInput & { readonly id: string })[],
  ): BatchResult<SendMessageResult> {
    const queue = this.resolve(ref);
    checkBatch(entries);
    checkSendBatchSize(entries);
    return this.eachEntry(queue, entries, (entry) => this.enqueue(queue, entry));
  }

  /**
   * Returns visible messages, moving to the DLQ those received more than maxReceiveCount times.
   * With a wait time it resolves as soon as a message becomes available (sent, delay over,
   * visibility timeout over, FIFO group unlocked) or with no messages when the wait ends
   * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html).
   */
  async receiveMessage(ref: QueueRef, options: ReceiveOptions = {}): Promise<ReceivedMessage[]> {
    const queue = this.resolve(ref);
    checkReceiveOptions(options);
    this.sweep(queue);
    const immediate = this.collect(queue, options);
    const wait = options.waitTimeSeconds ?? Number(queue.attributes.get('ReceiveMessageWaitTimeSeconds'));
    if (immediate.length > 0 || wait <= 0 || this.closed || options.signal?.aborted) {
      if (immediate.length === 0) queue.counters.emptyReceives += 1;
      return immediate;
    }
    return new Promise<ReceivedMessage[]>((resolve) => {
      const waiter: Waiter = { options, resolve };
      const finish = () => {
        this.dropWaiter(queue, waiter);
        queue.counters.emptyReceives += 1;
        resolve([]);
      };
      waiter.timer = setTimeout(finish, wait * 1000);
      if (options.signal) {
        waiter.onAbort = finish;
        options.signal.addEventListener('abort', finish, { once: true });
      }
      queue.waiters.push(waiter);
      this.scheduleWake(queue);
    });
  }

  /**
   * Deletes the message. A handle from an earlier receive of a message still in a standard queue
   * deletes it (SQS documents this "might" happen; in practice it does); on a FIFO queue a handle
   * whose visibility timeout is over has expired. A message already gone is not an error
   * (API_DeleteMessage).
   */
  deleteMessage(ref: QueueRef, receiptHandle: string): void {
    const queue = this.resolve(ref);
    this.sweep(queue);
    this.deleteOne(queue, receiptHandle);
    this.serve(queue);
  }

  deleteMessageBatch(
    ref: QueueRef,
    entries: readonly { readonly id: string; readonly receiptHandle: string }[],
  ): BatchResult<object> {
    const queue = this.resolve(ref);
    checkBatch(entries);
    return this.eachEntry(queue, entries, (entry) => {
      this.deleteOne(queue, entry.receiptHandle);
      return {};
    });
  }

  /**
   * Restarts the visibility timeout of an in-flight message from now. It never changes the receive
   * count; 0 makes the message visible at once (API_ChangeMessageVisibility).
   */
  changeMessageVisibility(ref: QueueRef, receiptHandle: string, visibilityTimeout: number): void {
    const queue = this.resolve(ref);
    this.sweep(queue);
    this.changeVisibilityOne(queue, receiptHandle, visibilityTimeout);
    this.serve(queue);
  }

  changeMessageVisibilityBatch(
    ref: QueueRef,
    entries: readonly {
      readonly id: string;
      readonly receiptHandle: string;
      readonly visibilityTimeout: number;
    }[],
  ): BatchResult<object> {
    const queue = this.resolve(ref);
    checkBatch(entries);
    return this.eachEntry(queue, entries, (entry) => {
      this.changeVisibilityOne(queue, entry.receiptHandle, entry.visibilityTimeout);
      return {};
    });
  }

  // ----- runtime views ------------------------------------------------------------------------

  /** Every stored message without receiving it, in delivery order. */
  peekMessages(ref: QueueRef): MessageView[] {
    const queue = this.resolve(ref);
    this.sweep(queue);
    const now = this.now();
    return [...queue.messages.values()].map((message) => toMessageView(message, now));
  }

  /** Why each message in this (dead-letter) queue was moved there, keyed by message id. */
  deadLetterInfo(ref: QueueRef): Record<string, DeadLetterInfo> {
    const queue = this.resolve(ref);
    this.sweep(queue);
    const result: Record<string, DeadLetterInfo> = {};
    for (const message of queue.messages.values()) {
      if (message.deadLetterInfo) result[message.messageId] = message.deadLetterInfo;
    }
    return result;
  }

  /** The AWS/SQS metrics that alarms read. */
  metrics(queueName: string): SqsQueueMetrics {
    const queue = this.resolve(queueName);
    this.sweep(queue);
    return queueMetrics(queue, this.now());
  }

  /**
   * Whether a queue that is not a dead-letter queue holds a message, visible, in flight or delayed.
   * Cheap enough to poll while waiting for the runtime to settle, unlike a snapshot.
   */
  hasMessagesOutsideDeadLetterQueues(): boolean {
    const targets = this.redriveTargetArns();
    for (const queue of this.queues.values()) {
      if (targets.has(queue.arn)) continue;
      this.sweep(queue);
      for (const message of queue.messages.values()) if (!message.deadLetterInfo) return true;
    }
    return false;
  }

  /** Plain JSON for the runtime's status page. */
  snapshot(): SqsSnapshot {
    const now = this.now();
    const targets = this.redriveTargetArns();
    const queues = [...this.queues.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((queue) => {
        this.sweep(queue);
        return queueSnapshot(queue, targets.has(queue.arn), this.now());
      });
    return { generatedAt: new Date(now).toISOString(), queues };
  }

  /** Re-evaluates time-dependent state now; call after moving an injected clock. */
  tick(): void {
    for (const queue of this.queues.values()) {
      this.sweep(queue);
      this.serve(queue);
    }
  }

  /** Clears timers and ends pending long polls with no messages. */
  close(): void {
    this.closed = true;
    for (const queue of this.queues.values()) this.releaseWaiters(queue);
  }

  // ----- internals: resolution and attributes --------------------------------------------------

  private queueOf(name: string): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw noSuchQueue();
    return queue;
  }

  private resolve(ref: QueueRef): Queue {
    if (ref.startsWith('arn:')) {
      const [, , service, region, account, name] = ref.split(':');
      if (service !== 'sqs' || region !== this.region || account !== this.accountId || !name)
        throw noSuchQueue();
      return this.queueOf(name);
    }
    if (ref.includes('/')) {
      let path: string;
      try {
        path = new URL(ref).pathname;
      } catch {
        throw noSuchQueue();
      }
      const [account, name, ...rest] = path.split('/').filter((part) => part !== '');
      if (account !== this.accountId || !name || rest.length > 0) throw noSuchQueue();
      return this.queueOf(name);
    }
    return this.queueOf(ref);
  }

  private findByArn(arn: string): Queue | undefined {
    const [, , , region, account, name] = arn.split(':');
    return region === this.region && account === this.accountId && name ? this.queues.get(name) : undefined;
  }

  /** ARNs of the queues some RedrivePolicy targets. */
  private redriveTargetArns(): Set<string> {
    const targets = new Set<string>();
    for (const queue of this.queues.values()) {
      const policy = redrivePolicyOf(queue);
      if (policy) targets.add(policy.deadLetterTargetArn);
    }
    return targets;
  }

  private sweep(queue: Queue): void {
    sweep(queue, this.now());
  }

  private applyAttributes(
    queue: Queue,
    attributes: Readonly<Record<string, string>>,
    creating: boolean,
  ): void {
    const { merged, redrivePolicy } = mergeAttributes(queue, attributes, creating);
    if (redrivePolicy)
      checkDeadLetterTarget(queue, this.findByArn(redrivePolicy.deadLetterTargetArn), redrivePolicy);
    queue.attributes.clear();
    for (const [name, value] of merged) queue.attributes.set(name, value);
  }

  private applyTags(queue: Queue, tags: Readonly<Record<string, string>>): void {
    const merged = mergeTags(queue.tags, tags);
    queue.tags.clear();
    for (const [key, value] of merged) queue.tags.set(key, value);
  }

  /** Runs one batch entry after another, each failure reported beside the successes, then serves waiters. */
  private eachEntry<E extends { readonly id: string }, R extends object>(
    queue: Queue,
    entries: readonly E[],
    run: (entry: E) => R,
  ): BatchResult<R> {
    this.sweep(queue);
    const successful: (R & { id: string })[] = [];
    const failed: BatchFailure[] = [];
    for (const entry of entries) {
      try {
        successful.push({ id: entry.id, ...run(entry) });
      } catch (error) {
        failed.push(batchFailure(entry.id, error));
      }
    }
    this.serve(queue);
    return { successful, failed };
  }

  // ----- internals: sending -------------------------------------------------------------------

  private enqueue(queue: Queue, input: SendMessageInput): SendMessageResult {
    const now = this.now();
    const { body, delaySeconds, messageGroupId } = input;
    const messageAttributes = input.messageAttributes ?? {};
    const systemAttributes = input.messageSystemAttributes ?? {};
    checkSendInput(input, queue.fifo, Number(queue.attributes.get('MaximumMessageSize')));
    const dedup = deduplicationOf(queue, input, now);
    if (dedup.duplicate) {
      // A duplicate inside the 5-minute interval is accepted but not delivered again.
      return {
        messageId: dedup.duplicate.messageId,
        ...sendDigests(body, messageAttributes, systemAttributes),
        sequenceNumber: dedup.duplicate.sequenceNumber,
      };
    }
    const delay = delaySeconds ?? Number(queue.attributes.get('DelaySeconds'));
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5Hex(body),
      messageAttributes,
      systemAttributes,
      senderId: this.accountId,
      sentTimestamp: now,
      messageGroupId,
      messageDeduplicationId: dedup.id,
      sequenceNumber: queue.fifo ? this.sequenceNumbers.next(this.now()) : undefined,
      enqueuedAt: now,
      retentionFrom: now,
      visibleAt: now + delay * 1000,
      receiveCount: 0,
    };
    store(queue, message);
    if (dedup.key !== undefined) rememberDeduplication(queue, dedup.key, message, now);
    return {
      messageId: message.messageId,
      ...sendDigests(body, messageAttributes, systemAttributes),
      sequenceNumber: message.sequenceNumber,
    };
  }

  // ----- internals: receiving -----------------------------------------------------------------

  /** Takes up to MaxNumberOfMessages available messages, redriving those past maxReceiveCount. */
  private collect(queue: Queue, options: ReceiveOptions): ReceivedMessage[] {
    const now = this.now();
    const max = options.maxNumberOfMessages ?? 1;
    const visibilityMs =
      (options.visibilityTimeout ?? Number(queue.attributes.get('VisibilityTimeout'))) * 1000;
    const attemptId = queue.fifo ? options.receiveRequestAttemptId : undefined;

    if (attemptId !== undefined) {
      const replay = replayAttempt(queue, attemptId, visibilityMs, this.now());
      if (replay) return replay.map((message) => toReceived(queue, message, options, this.now()));
    }

    const policy = redrivePolicyOf(queue);
    const deadLetterQueue = policy ? this.findByArn(policy.deadLetterTargetArn) : undefined;
    const taken: StoredMessage[] = [];
    // FIFO: a group with a message in flight is locked, and a group whose head is not yet available
    // blocks the messages behind it (FIFO-queues-understanding-logic.html).
    const locked = lockedGroups(queue, now);
    const blockedGroups = new Set<string>();
    // Deleting the entry being visited (a move to the DLQ) is safe while iterating a Map.
    for (const message of queue.messages.values()) {
      if (taken.length >= max) break;
      const group = message.messageGroupId;
      if (queue.fifo && group !== undefined && (locked.has(group) || blockedGroups.has(group))) continue;
      if (stateOf(message, now) !== 'visible') {
        if (queue.fifo && group !== undefined) blockedGroups.add(group);
        continue;
      }
      // maxReceiveCount N allows N receives; the attempt that would be receive N+1 moves the
      // message to the DLQ instead (sqs-dead-letter-queues.html).
      if (policy && deadLetterQueue && message.receiveCount >= policy.maxReceiveCount) {
        this.moveToDeadLetterQueue(queue, message, deadLetterQueue, policy.maxReceiveCount);
        continue;
      }
      message.receiveCount += 1;
      message.firstReceivedAt ??= now;
      message.receivedAt = now;
      message.visibleAt = now + visibilityMs;
      message.receiptHandle = encodeReceiptHandle(queue.name, message.messageId);
      taken.push(message);
    }
    queue.counters.received += taken.length;
    if (attemptId !== undefined && taken.length > 0) rememberAttempt(queue, attemptId, taken, now);
    return taken.map((message) => toReceived(queue, message, options, this.now()));
  }

  private moveToDeadLetterQueue(
    source: Queue,
    message: StoredMessage,
    target: Queue,
    maxReceiveCount: number,
  ): void {
    const now = this.now();
    source.messages.delete(message.messageId);
    const sequenceNumber = target.fifo ? this.sequenceNumbers.next(this.now()) : undefined;
    store(target, deadLetterCopy(source, message, target, maxReceiveCount, now, sequenceNumber));
    // Serve the DLQ's own waiters after this receive finishes.
    queueMicrotask(() => this.serve(target));
  }

  // ----- internals: deleting and visibility ---------------------------------------------------

  private deleteOne(queue: Queue, receiptHandle: string): void {
    const message = messageByHandle(queue, receiptHandle);
    if (!message) return;
    if (queue.fifo) {
      const current = message.receiptHandle === receiptHandle && stateOf(message, this.now()) === 'inflight';
      if (!current) throw handleExpired(receiptHandle);
    }
    queue.messages.delete(message.messageId);
    queue.counters.deleted += 1;
  }

  private changeVisibilityOne(queue: Queue, receiptHandle: string, visibilityTimeout: number): void {
    checkIntegerParameter(
      'VisibilityTimeout',
      visibilityTimeout,
      0,
      MAX_VISIBILITY_SECONDS,
      'Must be >= 0 and <= 43200.',
    );
    const message = messageByHandle(queue, receiptHandle);
    if (!message) {
      throw invalidParameter(
        'ReceiptHandle',
        receiptHandle,
        'Message does not exist or is not available for visibility timeout change.',
      );
    }
    const now = this.now();
    if (stateOf(message, now) !== 'inflight') {
      throw sqsError('MessageNotInflight', 'The message referred to is not in flight.');
    }
    if (message.receiptHandle !== receiptHandle) throw handleExpired(receiptHandle);
    // A message stays in flight 12 hours at most from its receive (sqs-visibility-timeout.html).
    if (now + visibilityTimeout * 1000 - (message.receivedAt ?? now) > MAX_VISIBILITY_SECONDS * 1000) {
      throw invalidParameter(
        'VisibilityTimeout',
        visibilityTimeout,
        `Total VisibilityTimeout for the message is beyond the limit [${MAX_VISIBILITY_SECONDS} seconds].`,
      );
    }
    message.visibleAt = now + visibilityTimeout * 1000;
  }

  // ----- internals: long polling --------------------------------------------------------------

  /** Hands newly available messages to waiting receives, oldest waiter first. */
  private serve(queue: Queue): void {
    if (queue.waiters.length === 0 || this.queues.get(queue.name) !== queue) return;
    this.sweep(queue);
    for (const waiter of [...queue.waiters]) {
      const messages = this.collect(queue, waiter.options);
      if (messages.length === 0) continue;
      this.dropWaiter(queue, waiter);
      waiter.resolve(messages);
    }
    this.scheduleWake(queue);
  }

  /** One timer per queue, set for the moment the next delayed or in-flight message turns visible. */
  private scheduleWake(queue: Queue): void {
    if (queue.wakeTimer) clearTimeout(queue.wakeTimer);
    queue.wakeTimer = undefined;
    if (queue.waiters.length === 0 || this.closed) return;
    const now = this.now();
    let next: number | undefined;
    for (const message of queue.messages.values()) {
      if (message.visibleAt > now && (next === undefined || message.visibleAt < next))
        next = message.visibleAt;
    }
    if (next === undefined) return;
    queue.wakeTimer = setTimeout(
      () => {
        queue.wakeTimer = undefined;
        this.serve(queue);
      },
      Math.min(MAX_TIMER_MS, Math.max(0, next - now)),
    );
    queue.wakeTimer.unref();
  }

  private dropWaiter(queue: Queue, waiter: Waiter): void {
    const index = queue.waiters.indexOf(waiter);
    if (index >= 0) queue.waiters.splice(index, 1);
    if (waiter.timer) clearTimeout(waiter.timer);
    if (waiter.onAbort) waiter.options.signal?.removeEventListener('abort', waiter.onAbort);
    if (queue.waiters.length === 0 && queue.wakeTimer) {
      clearTimeout(queue.wakeTimer);
      queue.wakeTimer = undefined;
    }
  }

  private releaseWaiters(queue: Queue): void {
    for (const waiter of [...queue.waiters]) {
      this.dropWaiter(queue, waiter);
      waiter.resolve([]);
    }
    if (queue.wakeTimer) clearTimeout(queue.wakeTimer);
    queue.wakeTimer = undefined;
  }
}
