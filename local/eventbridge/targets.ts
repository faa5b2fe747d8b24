/** Targets: their checks, and what each receives (Input, InputPath or an InputTransformer applied to the event). */
import { validation } from './errors';
import { DEFAULT_EVENT_AGE_SECONDS, DEFAULT_RETRY_ATTEMPTS, isJsonObject, NAME } from './parameters';
import type { Rule } from './rules';
import type { EventBridgeEvent, InputTransformer, Target } from './types';

type PathStep = string | number;

/** The JSONPath subset EventBridge accepts in InputPath and InputPathsMap: `$`, `.name`, `[0]`, `['name']`. */
const parseJsonPath = (path: string): PathStep[] => {
  if (!path.startsWith('$')) throw validation(`InputPath ${path} is not valid: it must start with $`);
  const steps: PathStep[] = [];
  const step = /^(?:\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\])/;
  let rest = path.slice(1);
  while (rest.length > 0) {
    const match = step.exec(rest);
    if (!match) throw validation(`InputPath ${path} is not valid JSONPath`);
    const [whole, dotted, index, single, double] = match;
    steps.push(index !== undefined ? Number(index) : (dotted ?? single ?? double ?? ''));
    rest = rest.slice(whole.length);
  }
  return steps;
};

const selectPath = (value: unknown, steps: readonly PathStep[]): unknown => {
  let current = value;
  for (const step of steps) {
    if (typeof step === 'number') current = Array.isArray(current) ? current[step] : undefined;
    else current = isJsonObject(current) && Object.hasOwn(current, step) ? current[step] : undefined;
    if (current === undefined) return undefined;
  }
  return current;
};

export const checkTarget = (target: Target): void => {
  if (!NAME.test(target.Id)) throw validation(`Target Id ${target.Id} is not valid.`);
  if (!target.Arn) throw validation(`Target ${target.Id} has no Arn.`);
  const inputs = [target.Input, target.InputPath, target.InputTransformer].filter(
    (input) => input !== undefined,
  );
  if (inputs.length > 1) {
    throw validation(`Target ${target.Id}: only one of Input, InputPath or InputTransformer may be set.`);
  }
  if (target.Input !== undefined) {
    try {
      JSON.parse(target.Input);
    } catch {
      throw validation(`Target ${target.Id}: Input is not valid JSON text.`);
    }
  }
  if (target.InputPath !== undefined) parseJsonPath(target.InputPath);
  for (const path of Object.values(target.InputTransformer?.InputPathsMap ?? {})) parseJsonPath(path);
  const retries = target.RetryPolicy?.MaximumRetryAttempts;
  if (
    retries !== undefined &&
    !(Number.isInteger(retries) && retries >= 0 && retries <= DEFAULT_RETRY_ATTEMPTS)
  ) {
    throw validation(`Target ${target.Id}: MaximumRetryAttempts must be between 0 and 185.`);
  }
  const age = target.RetryPolicy?.MaximumEventAgeInSeconds;
  if (age !== undefined && !(Number.isInteger(age) && age >= 60 && age <= DEFAULT_EVENT_AGE_SECONDS)) {
    throw validation(`Target ${target.Id}: MaximumEventAgeInSeconds must be between 60 and 86400.`);
  }
};

/**
 * InputTransformer (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html):
 * `<name>` takes the value at InputPathsMap[name], or a predefined `aws.events.*` variable. Inside a JSON
 * string ("...<name>...") a string value goes in without its quotes; elsewhere in a JSON template the value
 * goes in as JSON. A template that is not JSON (plain text) gets values as text.
 */
const transform = (
  transformer: InputTransformer,
  rule: Rule,
  event: EventBridgeEvent,
  acceptedAt: number,
): string => {
  const values = new Map<string, unknown>([
    ['aws.events.rule-arn', rule.arn],
    ['aws.events.rule-name', rule.name],
    ['aws.events.event.ingestion-time', new Date(acceptedAt).toISOString()],
    ['aws.events.event', event],
    ['aws.events.event.json', event],
  ]);
  for (const [name, path] of Object.entries(transformer.InputPathsMap ?? {})) {
    values.set(name, selectPath(event, parseJsonPath(path)));
  }
  const template = transformer.InputTemplate;
  const jsonTemplate = /^\s*[[{"]/.test(template);
  let output = '';
  let inString = !jsonTemplate;
  for (let i = 0; i < template.length; i += 1) {
    const char = template.charAt(i);
    if (char === '<') {
      const close = template.indexOf('>', i);
      const name = close < 0 ? undefined : template.slice(i + 1, close);
      if (name !== undefined && values.has(name)) {
        const value = values.get(name);
        if (inString)
          output +=
            typeof value === 'string'
              ? jsonTemplate
                ? JSON.stringify(value).slice(1, -1)
                : value
              : JSON.stringify(value ?? null);
        else output += JSON.stringify(value ?? null);
        i = close;
        continue;
      }
    }
    if (jsonTemplate && char === '"') inString = !inString;
    if (jsonTemplate && char === '\\' && inString) {
      output += char + template.charAt(i + 1);
      i += 1;
      continue;
    }
    output += char;
  }
  return output;
};

/** What the target receives: the event, or Input / InputPath / InputTransformer applied to it. */
export const targetPayload = (
  rule: Rule,
  target: Target,
  event: EventBridgeEvent,
  acceptedAt: number,
): string => {
  if (target.Input !== undefined) return target.Input;
  if (target.InputPath !== undefined) {
    return JSON.stringify(selectPath(event, parseJsonPath(target.InputPath)) ?? null);
  }
  if (target.InputTransformer !== undefined)
    return transform(target.InputTransformer, rule, event, acceptedAt);
  return JSON.stringify(event);
};
