import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { EventBus, type EventPattern, Match, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/contracts/env';
import { dlqNotEmptyAlarm } from './alarms';

export interface EventBackboneProps {
  /** @default 'revbridge' */
  readonly busName?: string;
  /** How long the archive keeps events for replay. @default 30 days */
  readonly archiveRetention?: Duration;
  /** Keep the archive when the stack is deleted. @default false */
  readonly retain?: boolean;
}

/**
 * The custom event bus, its archive (every revbridge event, for replay) and the routing from the bus
 * to consumers. Every rule target gets a dead-letter queue, so an event EventBridge cannot deliver
 * is kept and alarmed on instead of dropped after its retries.
 */
export class EventBackbone extends Construct {
  readonly bus: EventBus;
  /** Events a rule could not deliver to its target, after EventBridge's retries. */
  readonly targetDlq: Queue;
  readonly targetDlqAlarm: Alarm;

  constructor(scope: Construct, id: string, props: EventBackboneProps = {}) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', { eventBusName: props.busName ?? 'revbridge' });
    this.bus.archive('Archive', {
      description: 'Every revbridge event, for replay',
      eventPattern: { source: Match.prefix('revbridge.') },
      retention: props.archiveRetention ?? Duration.days(30),
    });
    if (props.retain) this.bus.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.targetDlq = new Queue(this, 'TargetDlq', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.targetDlq).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue of the bus rule targets (DeadLetterConfig), alarmed on its first message.',
    });
    this.targetDlqAlarm = dlqNotEmptyAlarm(this, 'TargetDlqAlarm', this.targetDlq, 'Event bus rule targets');
  }

  /** Routes the events matching `pattern` to `queue`, with the backbone's DLQ on the target. */
  routeToQueue(id: string, pattern: EventPattern, queue: IQueue, description: string): Rule {
    return new Rule(this, id, {
      eventBus: this.bus,
      description,
      eventPattern: pattern,
      targets: [
        new SqsQueue(queue, {
          deadLetterQueue: this.targetDlq,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });
  }

  /** Passes the bus name as `EVENT_BUS_NAME` and lets the function put events on this bus only. */
  grantPublish(fn: IFunction & { addEnvironment(key: string, value: string): unknown }): void {
    fn.addEnvironment(ENV.EVENT_BUS_NAME, this.bus.eventBusName);
    this.bus.grantPutEventsTo(fn);
  }
}
