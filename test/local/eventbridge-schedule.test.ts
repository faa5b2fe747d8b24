import { EventBridgeEngine } from '../../local/eventbridge/engine';
import { ManualClock, parseSchedule, RuleScheduler } from '../../local/eventbridge/schedule';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe('schedule expressions', () => {
  it('fires a rate one period after the rule starts, then every period', () => {
    const schedule = parseSchedule('rate(15 minutes)', at('2026-12-03T10:00:00Z'));
    expect(iso(schedule.next(at('2026-12-03T10:00:00Z')))).toBe('2026-12-03T10:15:00.000Z');
    expect(iso(schedule.next(at('2026-12-03T10:15:00Z')))).toBe('2026-12-03T10:30:00.000Z');
    expect(iso(schedule.next(at('2026-12-03T11:07:00Z')))).toBe('2026-12-03T11:15:00.000Z');
    expect(iso(parseSchedule('rate(1 day)', 0).next(0))).toBe('1970-01-02T00:00:00.000Z');
  });

  it('reads cron fields in UTC with lists, ranges, increments and names, day-of-week 1 being Sunday', () => {
    // AWS's examples: 10:15 every day; every 10 minutes Monday to Friday; 18:00 on the last workdays.
    expect(iso(parseSchedule('cron(15 10 * * ? *)', 0).next(at('2026-12-03T10:15:00Z')))).toBe(
      '2026-12-04T10:15:00.000Z',
    );
    const weekdays = parseSchedule('cron(0/10 * ? * MON-FRI *)', 0);
    // 2026-12-05 is a Saturday: the next firing is Monday 00:00.
    expect(iso(weekdays.next(at('2026-12-04T23:55:00Z')))).toBe('2026-12-07T00:00:00.000Z');
    expect(iso(weekdays.next(at('2026-12-07T00:00:00Z')))).toBe('2026-12-07T00:10:00.000Z');
    expect(iso(parseSchedule('cron(0 18 ? * 1,7 *)', 0).next(at('2026-12-03T00:00:00Z')))).toBe(
      '2026-12-05T18:00:00.000Z',
    );
    expect(iso(parseSchedule('cron(0 8 1 JAN ? 2027)', 0).next(at('2026-12-03T00:00:00Z')))).toBe(
      '2027-01-01T08:00:00.000Z',
    );
    expect(parseSchedule('cron(0 8 1 JAN ? 2027)', 0).next(at('2027-01-01T08:00:00Z'))).toBeNull();
  });

  it('refuses expressions EventBridge refuses and says which wildcards it cannot run locally', () => {
    expect(() => parseSchedule('rate(0 minutes)', 0)).toThrow('not a valid rate expression');
    expect(() => parseSchedule('cron(0 10 * * * *)', 0)).toThrow('must be ?');
    expect(() => parseSchedule('cron(0 10 L * ? *)', 0)).toThrow('not supported locally');
    expect(() => parseSchedule('every hour', 0)).toThrow('neither rate');
  });
});

describe('scheduled rules in the local EventBridge', () => {
  const harness = () => {
    const deliveries: { arn: string; payload: unknown }[] = [];
    const engine = new EventBridgeEngine({
      deliver: async (arn, payload) => {
        deliveries.push({ arn, payload: JSON.parse(payload) });
      },
      backoff: () => 0,
    });
    const clock = new ManualClock(at('2026-12-03T10:00:00Z'));
    const scheduler = new RuleScheduler({
      clock,
      fire: (rule, atMs) => engine.fireScheduledRule(rule, atMs),
      warn: () => {},
    });
    return { engine, clock, scheduler, deliveries };
  };

  it('fires a rate rule’s target on time with its Input, and the Scheduled Event to a target without one', async () => {
    const { engine, clock, scheduler, deliveries } = harness();
    engine.putRule({ Name: 'every-5', ScheduleExpression: 'rate(5 minutes)' });
    engine.putTargets('every-5', undefined, [
      { Id: 'fn', Arn: 'arn:aws:lambda:us-east-1:000000000000:function:job', Input: '{"scheduled":true}' },
      { Id: 'q', Arn: 'arn:aws:sqs:us-east-1:000000000000:jobs' },
    ]);
    engine.putRule({ Name: 'pattern', EventPattern: '{"source":["x"]}' });
    scheduler.start(engine.scheduledRules());

    clock.advance(4 * 60_000 + 59_000);
    await engine.idle();
    expect(deliveries).toEqual([]);

    clock.advance(1000);
    await engine.idle();
    expect(deliveries).toHaveLength(2);
    expect(deliveries.find((d) => d.arn.includes(':function:'))?.payload).toEqual({ scheduled: true });
    expect(deliveries.find((d) => d.arn.includes(':sqs:'))?.payload).toMatchObject({
      source: 'aws.events',
      'detail-type': 'Scheduled Event',
      time: '2026-12-03T10:05:00Z',
      resources: ['arn:aws:events:us-east-1:000000000000:rule/every-5'],
      detail: {},
    });

    // Twenty minutes later it has fired four more times, once per period, and not at all once stopped.
    clock.advance(20 * 60_000);
    await engine.idle();
    expect(scheduler.firings()).toEqual({ 'every-5': 5 });
    scheduler.stop();
    clock.advance(60 * 60_000);
    expect(scheduler.firings()).toEqual({ 'every-5': 5 });
  });

  it('does not fire a disabled rule', async () => {
    const { engine, clock, scheduler, deliveries } = harness();
    engine.putRule({ Name: 'off', ScheduleExpression: 'rate(1 minute)', State: 'DISABLED' });
    engine.putTargets('off', undefined, [{ Id: 'q', Arn: 'arn:aws:sqs:us-east-1:000000000000:jobs' }]);
    scheduler.start(engine.scheduledRules());
    clock.advance(10 * 60_000);
    await engine.idle();
    expect(deliveries).toEqual([]);
  });
});
