/**
 * The workflow rule's outbound message on Closed Won: queued when an opportunity becomes Closed Won, sent and
 * retried until the listener acknowledges it.
 */
import { type DeliveryAttempt, type FaultInjector, WebhookSender } from '../common';
import {
  buildOutboundMessage,
  defaultOutboundFields,
  isOutboundMessageAck,
  type OutboundNotification,
} from './outbound-message';
import { RecordIdMinter } from './record-ids';
import { SALESFORCE_API_VERSION } from './render';
import { CLOSED_WON_STAGE, findField } from './schema';
import type { OrgStore, RecordChange } from './store';

/**
 * Salesforce retries an unacknowledged outbound message with growing intervals for up to 24 hours; the
 * local default keeps the shape (growing waits, many tries) but finishes in about half a minute.
 */
const DEFAULT_OUTBOUND_RETRY_MS = [100, 200, 400, 800, 1600, 3200, 6400, 12_800];

export interface OutboundMessageOptions {
  /** The listener's endpoint (the webhook API's `/webhooks/salesforce` locally). */
  url: string;
  /** Fields of the Opportunity the message carries. @default every field, Id first then alphabetical */
  fields?: readonly string[];
  /** Send the session id so the listener can call back with it. @default true */
  sendSessionId?: boolean;
  /** Waits between attempts. @default a short local schedule (see `DEFAULT_OUTBOUND_RETRY_MS`) */
  retryDelaysMs?: number[];
  /** Per attempt. @default 10_000 */
  timeoutMs?: number;
}

export interface QueuedOutboundMessage {
  notificationId: string;
  opportunityId: string;
  /** The exact body sent (BOM included). */
  body: string;
  queuedAt: string;
}

export interface OutboundQueueOptions {
  store: OrgStore;
  faults: FaultInjector;
  organizationId: string;
  sessionId: string;
  /** The definition; none sends nothing. */
  outbound: OutboundMessageOptions | undefined;
}

export class OutboundQueue {
  /** The org's instance URL, known once the server listens; the message's SOAP URLs start with it. */
  instanceUrl = '';
  /** Messages queued so far, in order. */
  readonly queued: QueuedOutboundMessage[] = [];
  private readonly store: OrgStore;
  private readonly faults: FaultInjector;
  private readonly organizationId: string;
  private readonly sessionId: string;
  private readonly notificationIds = new RecordIdMinter('37');
  private readonly actionId = new RecordIdMinter('37').next('04k');
  private outbound: OutboundMessageOptions | undefined;
  private sender: WebhookSender | undefined;
  private readonly retiredSenders: WebhookSender[] = [];

  constructor(options: OutboundQueueOptions) {
    this.store = options.store;
    this.faults = options.faults;
    this.organizationId = options.organizationId;
    this.sessionId = options.sessionId;
    this.outbound = options.outbound;
    this.sender = this.outbound ? this.newSender(this.outbound) : undefined;
    this.store.onChange((change) => this.onRecordChange(change));
  }

  /** Sets or replaces the definition. */
  configure(config: OutboundMessageOptions | undefined): void {
    this.outbound = config;
    // Messages already queued keep retrying against the old definition, as in a real org.
    if (this.sender) this.retiredSenders.push(this.sender);
    this.sender = config ? this.newSender(config) : undefined;
  }

  /** Every delivery attempt of outbound messages. */
  deliveries(): DeliveryAttempt[] {
    return this.senders().flatMap((s) => [...s.log]);
  }

  /** Resolves when no outbound message is waiting or being retried. */
  async idle(): Promise<void> {
    await Promise.all(this.senders().map((s) => s.idle()));
  }

  close(): void {
    for (const s of this.senders()) s.close();
  }

  private senders(): WebhookSender[] {
    return [...this.retiredSenders, ...(this.sender ? [this.sender] : [])];
  }

  private newSender(config: OutboundMessageOptions): WebhookSender {
    return new WebhookSender({
      faults: this.faults,
      retryDelaysMs: config.retryDelaysMs ?? DEFAULT_OUTBOUND_RETRY_MS,
      ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
    });
  }

  private onRecordChange(change: RecordChange): void {
    const { outbound, sender, organizationId, instanceUrl } = this;
    if (change.type !== 'Opportunity' || !outbound || !sender) return;
    // The workflow rule's criteria: created as, or edited to subsequently become, Closed Won.
    if (change.after.StageName !== CLOSED_WON_STAGE || change.before?.StageName === CLOSED_WON_STAGE) return;
    const sobject = this.store.sobject('Opportunity');
    const fields = outbound.fields
      ? ['Id', ...outbound.fields.filter((f) => f !== 'Id').map((f) => findField(sobject, f)?.name ?? f)]
      : defaultOutboundFields(sobject);
    const notification: OutboundNotification = {
      id: this.notificationIds.next('04l'),
      sobject,
      record: change.after,
      fields,
    };
    const body = buildOutboundMessage({
      organizationId,
      actionId: this.actionId,
      sessionId: outbound.sendSessionId === false ? undefined : this.sessionId,
      enterpriseUrl: `${instanceUrl}/services/Soap/c/${SALESFORCE_API_VERSION}/${organizationId.slice(0, 15)}`,
      partnerUrl: `${instanceUrl}/services/Soap/u/${SALESFORCE_API_VERSION}/${organizationId.slice(0, 15)}`,
      notifications: [notification],
    });
    this.queued.push({
      notificationId: notification.id,
      opportunityId: String(change.after.Id),
      body,
      queuedAt: new Date().toISOString(),
    });
    sender.send({
      url: outbound.url,
      id: notification.id,
      body,
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '""' },
      accept: isOutboundMessageAck,
    });
  }
}
