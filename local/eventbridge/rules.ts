/** Event buses and rules as the engine stores them, their ARNs and descriptions, and TestEventPattern. */
import { compile, validation } from './errors';
import { DEFAULT_BUS, isJsonObject } from './parameters';
import type { CompiledPattern } from './pattern';
import type { RuleDescription, RuleState, Target } from './types';

export interface Rule {
  readonly name: string;
  readonly bus: string;
  readonly arn: string;
  eventPattern: string | undefined;
  pattern: CompiledPattern | undefined;
  scheduleExpression: string | undefined;
  state: RuleState;
  description: string | undefined;
  roleArn: string | undefined;
  readonly targets: Map<string, Target>;
}

export interface Bus {
  readonly name: string;
  readonly arn: string;
  readonly rules: Map<string, Rule>;
  readonly creationTime: Date;
}

export const ruleArn = (region: string, accountId: string, bus: string, name: string): string => {
  // Rules on the default bus keep the short ARN form; others include the bus name.
  const path = bus === DEFAULT_BUS ? name : `${bus}/${name}`;
  return `arn:aws:events:${region}:${accountId}:rule/${path}`;
};

export const describeRule = (rule: Rule): RuleDescription => ({
  Name: rule.name,
  Arn: rule.arn,
  EventBusName: rule.bus,
  State: rule.state,
  EventPattern: rule.eventPattern,
  ScheduleExpression: rule.scheduleExpression,
  Description: rule.description,
  RoleArn: rule.roleArn,
});

/** TestEventPattern: the event must be a full event with the fields the API reference lists as mandatory. */
export const testEventPattern = (eventPattern: string, event: string): boolean => {
  const pattern = compile(eventPattern);
  let parsed: unknown;
  try {
    parsed = JSON.parse(event);
  } catch {
    throw validation('Parameter Event is not valid. Reason: it is not valid JSON.');
  }
  if (!isJsonObject(parsed))
    throw validation('Parameter Event is not valid. Reason: it is not a JSON object.');
  const missing = ['id', 'account', 'source', 'time', 'region', 'resources', 'detail-type'].filter(
    (field) => !Object.hasOwn(parsed, field),
  );
  if (missing.length > 0) {
    throw validation(
      `Parameter Event is not valid. Reason: Provided Event is missing ${missing.join(', ')}.`,
    );
  }
  return pattern.matches(parsed);
};
