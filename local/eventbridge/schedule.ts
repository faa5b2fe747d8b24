/**
 * Scheduled rules: `rate(...)` and `cron(...)` expressions, and the timer that fires a rule's targets on
 * time (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html). All
 * schedules are UTC with one-minute precision, as in EventBridge. The clock is injected: the runtime uses
 * real timers, tests a `ManualClock` they advance, so nothing waits for real time.
 */

/** The next time (epoch ms, strictly after `afterMs`) the schedule fires, or null if it never does again. */
export interface Schedule {
  readonly expression: string;
  next(afterMs: number): number | null;
}

const MINUTE = 60_000;
const RATE_UNITS: Readonly<Record<string, number>> = {
  minute: MINUTE,
  minutes: MINUTE,
  hour: 60 * MINUTE,
  hours: 60 * MINUTE,
  day: 1440 * MINUTE,
  days: 1440 * MINUTE,
};

/**
 * Parses a rule's ScheduleExpression. A rate counts from `startMs` (the rule's creation: the first
 * run is one period after it). Throws on what EventBridge rejects and on the cron wildcards the local
 * runtime does not support (L, W, #), naming them.
 */
export const parseSchedule = (expression: string, startMs: number): Schedule => {
  const rate = /^rate\((\d+)\s+([a-z]+)\)$/.exec(expression.trim());
  if (rate) {
    const value = Number(rate[1]);
    const unit = RATE_UNITS[rate[2] ?? ''];
    if (!unit || value < 1) throw new Error(`schedule ${expression}: not a valid rate expression`);
    const period = value * unit;
    return {
      expression,
      next: (afterMs) => startMs + (Math.floor(Math.max(0, afterMs - startMs) / period) + 1) * period,
    };
  }
  const cron = /^cron\((.+)\)$/.exec(expression.trim());
  if (cron) return cronSchedule(expression, cron[1] ?? '');
  throw new Error(`schedule ${expression}: neither rate(...) nor cron(...)`);
};

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** A field's allowed values; null for `?` (no constraint from this field). */
const field = (
  text: string,
  min: number,
  max: number,
  expression: string,
  names: readonly string[] = [],
  nameBase = 1,
): Set<number> | null => {
  if (text === '?') return null;
  if (/[LW#]/.test(text.replace(/[A-Z]{3}/g, (n) => (names.includes(n) ? '' : n)))) {
    throw new Error(`schedule ${expression}: the L, W and # wildcards are not supported locally`);
  }
  const value = (part: string) => {
    const index = names.indexOf(part.toUpperCase());
    const n = index >= 0 ? index + nameBase : Number(part);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`schedule ${expression}: ${part} is out of range`);
    return n;
  };
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`schedule ${expression}: bad increment ${part}`);
    const [low, high] =
      range === '*'
        ? [min, max]
        : range.includes('-')
          ? (range.split('-').map(value) as [number, number])
          : [value(range), stepText === undefined ? value(range) : max];
    for (let n = low; n <= high; n += step) values.add(n);
  }
  return values;
};

const cronSchedule = (expression: string, body: string): Schedule => {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6) throw new Error(`schedule ${expression}: a cron expression has six fields`);
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw new Error(`schedule ${expression}: one of day-of-month and day-of-week must be ?`);
  }
  const allowed = {
    minutes: field(minutes, 0, 59, expression) as Set<number>,
    hours: field(hours, 0, 23, expression) as Set<number>,
    dayOfMonth: field(dayOfMonth, 1, 31, expression),
    month: field(month, 1, 12, expression, MONTHS) as Set<number>,
    // 1-7 = SUN-SAT in EventBridge; JavaScript's getUTCDay is 0-6.
    dayOfWeek: field(dayOfWeek, 1, 7, expression, DAYS),
    year: field(year, 1970, 2199, expression) as Set<number>,
  };
  const dayMatches = (date: Date) =>
    allowed.year.has(date.getUTCFullYear()) &&
    allowed.month.has(date.getUTCMonth() + 1) &&
    (allowed.dayOfMonth?.has(date.getUTCDate()) ?? true) &&
    (allowed.dayOfWeek?.has(date.getUTCDay() + 1) ?? true);
  const sortedHours = [...allowed.hours].sort((a, b) => a - b);
  const sortedMinutes = [...allowed.minutes].sort((a, b) => a - b);
  return {
    expression,
    next: (afterMs) => {
      const first = Math.floor(afterMs / MINUTE + 1) * MINUTE;
      const day = new Date(first);
      day.setUTCHours(0, 0, 0, 0);
      // Day by day (at most the years the expression allows), then the first matching minute of the day.
      for (let days = 0; days < 366 * 230; days += 1) {
        if (day.getUTCFullYear() > 2199) return null;
        if (dayMatches(day)) {
          for (const hour of sortedHours) {
            for (const minute of sortedMinutes) {
              const at = day.getTime() + hour * 3_600_000 + minute * MINUTE;
              if (at >= first) return at;
            }
          }
        }
        day.setUTCDate(day.getUTCDate() + 1);
      }
      return null;
    },
  };
};

/** What the scheduler needs of time: the runtime passes real timers, a test a `ManualClock`. */
export interface ScheduleClock {
  now(): number;
  /** Calls `fire` at `atMs` (or at once if that has passed); returns a cancel function. */
  at(atMs: number, fire: () => void): () => void;
}

/** Real time; timers do not keep the process alive, and waits beyond setTimeout's limit are re-armed. */
export const systemClock: ScheduleClock = {
  now: () => Date.now(),
  at: (atMs, fire) => {
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      const wait = atMs - Date.now();
      if (wait <= 0) return fire();
      timer = setTimeout(arm, Math.min(wait, 2 ** 31 - 1));
      timer.unref();
    };
    arm();
    return () => clearTimeout(timer);
  },
};

/** A clock that only moves when told: `advance` fires every timer that falls due, in time order. */
export class ManualClock implements ScheduleClock {
  private timers: { atMs: number; fire: () => void }[] = [];

  constructor(private current = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.current;
  }

  at(atMs: number, fire: () => void): () => void {
    const timer = { atMs, fire };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  advance(ms: number): void {
    const until = this.current + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.atMs <= until).sort((a, b) => a.atMs - b.atMs)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.atMs);
      due.fire();
    }
    this.current = until;
  }
}

export interface ScheduledRule {
  readonly name: string;
  readonly scheduleExpression: string;
}

/**
 * Fires each scheduled rule at its times: `fire(rule, atMs)` puts the rule's scheduled event to its
 * targets (the engine's `fireScheduledRule`). A rule whose expression cannot run locally is reported
 * through `warn` and skipped, so the rest of the stack still starts.
 */
export class RuleScheduler {
  private readonly cancels = new Map<string, () => void>();
  private readonly fired = new Map<string, number>();

  constructor(
    private readonly options: {
      readonly clock: ScheduleClock;
      readonly fire: (ruleName: string, atMs: number) => void;
      readonly warn: (line: string) => void;
    },
  ) {}

  start(rules: readonly ScheduledRule[]): void {
    const { clock } = this.options;
    const startMs = clock.now();
    for (const rule of rules) {
      let schedule: Schedule;
      try {
        schedule = parseSchedule(rule.scheduleExpression, startMs);
      } catch (error) {
        this.options.warn(`rule ${rule.name} is not scheduled: ${(error as Error).message}`);
        continue;
      }
      const arm = (afterMs: number) => {
        const atMs = schedule.next(afterMs);
        if (atMs === null) return;
        this.cancels.set(
          rule.name,
          clock.at(atMs, () => {
            this.fired.set(rule.name, (this.fired.get(rule.name) ?? 0) + 1);
            this.options.fire(rule.name, atMs);
            arm(atMs);
          }),
        );
      };
      arm(startMs);
    }
  }

  /** How many times each rule has fired. */
  firings(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.fired);
  }

  stop(): void {
    for (const cancel of this.cancels.values()) cancel();
    this.cancels.clear();
  }
}
