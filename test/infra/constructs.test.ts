import { App, Duration, Stack } from 'aws-cdk-lib';
import { Alarm, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { BusinessDashboard } from '../../lib/constructs/business-dashboard';
import { QueueConsumer, queueConsumerProblems } from '../../lib/constructs/queue-consumer';

const functionIn = (stack: Stack, timeout = Duration.seconds(30)) =>
  new LambdaFunction(stack, 'Fn', {
    runtime: Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: Code.fromInline('exports.handler = async () => ({})'),
    timeout,
  });

describe('QueueConsumer', () => {
  it('lists every prop it cannot honour instead of changing them silently', () => {
    const stack = new Stack(new App(), 'Test');
    const fn = functionIn(stack, Duration.hours(3));
    expect(queueConsumerProblems({ fn, maxConcurrency: 1, batchSize: 11, maxReceiveCount: 0 })).toEqual([
      "maxConcurrency is 1: must be an integer from 2 to 1000 (Lambda's SQS maximum concurrency)",
      'batchSize is 11: must be an integer from 1 to 10 (a standard queue without a batching window)',
      'maxReceiveCount is 0: must be an integer from 1 to 1000 (SQS redrive policy)',
      'the function timeout (10800 s) is too long: the visibility timeout (6x) must stay within 12 hours',
    ]);
    expect(() => new QueueConsumer(stack, 'Consumer', { fn, maxConcurrency: 1 })).toThrow(
      /Test\/Consumer: invalid queue consumer:\n {2}- maxConcurrency is 1/,
    );
  });

  it('accepts what it can honour', () => {
    const stack = new Stack(new App(), 'Test');
    expect(queueConsumerProblems({ fn: functionIn(stack), maxConcurrency: 2, batchSize: 10 })).toEqual([]);
  });
});

describe('BusinessDashboard', () => {
  it('fails synthesis when an alarm is created after it, since that alarm would not be on it', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    new BusinessDashboard(stack, 'Business', { webhookVendors: ['stripe'], graphs: [] });
    new Alarm(stack, 'Late', {
      metric: new Metric({ namespace: 'RevBridge', metricName: 'Late' }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    expect(() => app.synth()).toThrow('alarm Test/Late was created after the dashboard and is not on it');
  });
});
