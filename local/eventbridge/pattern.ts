/**
 * EventBridge event patterns: validation (what PutRule / TestEventPattern reject with
 * InvalidEventPatternException) and matching, following
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html and the open-source
 * engine EventBridge runs (https://github.com/aws/event-ruler), whose README pins the corner cases the user
 * guide leaves out (array-consistent matching, `$or` rules, wildcard escaping).
 *
 * A pattern is compiled once (rules are matched against every event) into a tree of object nodes and leaf
 * matchers; matching walks the event alongside it.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
type JsonObject = { [key: string]: JsonValue };
type Scalar = null | boolean | number | string;

/** What AWS reports as `InvalidEventPatternException`; `reason` names the problem, `path` where it is. */
export class InvalidEventPatternError extends Error {
  override readonly name = 'InvalidEventPatternError' as const;
  constructor(
    readonly reason: string,
    readonly path: string,
    options?: ErrorOptions,
  ) {
    super(`Event pattern is not valid. Reason: ${reason}${path ? ` at ${path}` : ''}`, options);
  }
}

/** A validated pattern, ready to match events. */
export interface CompiledPattern {
  matches(event: unknown): boolean;
}

type ValueTest = (value: Scalar) => boolean;
type LeafMatcher =
  | { readonly kind: 'exists'; readonly exists: boolean }
  | { readonly kind: 'value'; readonly test: ValueTest };
type Child =
  | { readonly kind: 'object'; readonly node: ObjectNode }
  | { readonly kind: 'leaf'; readonly matchers: readonly LeafMatcher[] };
interface ObjectNode {
  readonly fields: ReadonlyArray<readonly [string, Child]>;
  /** One entry per `$or` met at this level; each entry matches when any of its alternatives does. */
  readonly alternatives: ReadonlyArray<readonly ObjectNode[]>;
}

const OR = '$or';
const OPERATORS = [
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
] as const;
// Numeric matching "is limited to values between -5.0e9 and +5.0e9 inclusive" (event-ruler README, "Numeric matching").
const NUMERIC_LIMIT = 5e9;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isScalar = (value: unknown): value is Scalar =>
  value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
const describe = (value: unknown): string => (value === undefined ? 'nothing' : JSON.stringify(value));
const child = (path: string, key: string): string =>
  /^[A-Za-z0-9_$-]+$/.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;
const fail = (reason: string, path: string): never => {
  throw new InvalidEventPatternError(reason, path);
};

// ---------------------------------------------------------------------------------------------------------
// Compiling
// ---------------------------------------------------------------------------------------------------------

const compileObject = (pattern: JsonObject, path: string, insideOr: boolean): ObjectNode => {
  const keys = Object.keys(pattern);
  if (keys.length === 0) fail('Empty objects are not allowed', path);
  const fields: Array<readonly [string, Child]> = [];
  const alternatives: ObjectNode[][] = [];
  for (const key of keys) {
    const value = pattern[key];
    const at = child(path, key);
    if (key === OR) {
      alternatives.push(compileOr(value, at));
      continue;
    }
    // Inside `$or` an operator name as a field is almost certainly a misplaced operator (event-ruler rejects it).
    if (insideOr && (OPERATORS as readonly string[]).includes(key)) {
      fail(`${key} is a reserved field name which cannot be used inside ${OR}`, at);
    }
    if (Array.isArray(value)) fields.push([key, { kind: 'leaf', matchers: compileLeaf(value, at) }]);
    else if (isObject(value))
      fields.push([key, { kind: 'object', node: compileObject(value, at, insideOr) }]);
    else fail(`"${key}" must be an object or an array`, at);
  }
  return { fields, alternatives };
};

const compileOr = (value: JsonValue | undefined, path: string): ObjectNode[] => {
  if (!Array.isArray(value)) return fail(`${OR} must be followed by an array`, path);
  // https://github.com/aws/event-ruler#the-or-primitive: "There are 2+ objects in the "$or" array".
  if (value.length < 2) fail(`There must be at least 2 objects in an ${OR} array`, path);
  return value.map((alternative, index) => {
    const at = `${path}[${index}]`;
    if (!isObject(alternative)) return fail(`Only JSON objects are allowed in an ${OR} array`, at);
    return compileObject(alternative, at, true);
  });
};

const compileLeaf = (values: readonly JsonValue[], path: string): LeafMatcher[] => {
  if (values.length === 0) fail('Empty arrays are not allowed', path);
  return values.map((value, index): LeafMatcher => {
    const at = `${path}[${index}]`;
    if (isObject(value)) return compileOperator(value, at);
    if (!isScalar(value)) return fail('Match value must be String, number, true, false, or null', at);
    return { kind: 'value', test: (candidate) => candidate === value };
  });
};

const compileOperator = (expression: JsonObject, path: string): LeafMatcher => {
  const keys = Object.keys(expression);
  const [operator] = keys;
  if (operator === undefined) return fail('Match expression name not found', path);
  if (keys.length > 1) fail('Only one key allowed in match expression', path);
  const operand = expression[operator];
  const at = child(path, operator);
  switch (operator) {
    case 'prefix':
      return valueMatcher(stringOperator('prefix', operand, at));
    case 'suffix':
      return valueMatcher(stringOperator('suffix', operand, at));
    case 'equals-ignore-case':
      return valueMatcher(stringOperator('equals-ignore-case', operand, at));
    case 'wildcard':
      return valueMatcher(stringOperator('wildcard', operand, at));
    case 'anything-but':
      return valueMatcher(compileAnythingBut(operand, at));
    case 'numeric':
      return valueMatcher(compileNumeric(operand, at));
    case 'cidr': {
      if (typeof operand !== 'string') return fail('cidr match pattern must be a string', at);
      const range = parseCidr(operand);
      if (!range) return fail(`${JSON.stringify(operand)} is not a valid CIDR block`, at);
      return valueMatcher((value) => typeof value === 'string' && inCidr(range, value));
    }
    case 'exists':
      if (typeof operand !== 'boolean') return fail('exists match pattern must be either true or false', at);
      return { kind: 'exists', exists: operand };
    default:
      return fail(`Unrecognized match type ${operator}`, path);
  }
};

const valueMatcher = (test: ValueTest): LeafMatcher => ({ kind: 'value', test });

type StringOperator = 'prefix' | 'suffix' | 'equals-ignore-case' | 'wildcard';

/** `prefix` and `suffix` also take `{"equals-ignore-case": "..."}`; the others take a string only. */
const stringOperator = (
  operator: StringOperator,
  operand: JsonValue | undefined,
  path: string,
): ValueTest => {
  if ((operator === 'prefix' || operator === 'suffix') && isObject(operand)) {
    const keys = Object.keys(operand);
    if (keys.length !== 1 || keys[0] !== 'equals-ignore-case') {
      return fail(`Unsupported ${operator} pattern: ${keys.join(', ') || 'empty object'}`, path);
    }
    const text = operand['equals-ignore-case'];
    if (typeof text !== 'string') return fail('equals-ignore-case match pattern must be a string', path);
    const folded = text.toLowerCase();
    return operator === 'prefix'
      ? (value) => typeof value === 'string' && value.toLowerCase().startsWith(folded)
      : (value) => typeof value === 'string' && value.toLowerCase().endsWith(folded);
  }
  if (typeof operand !== 'string') return fail(`${operator} match pattern must be a string`, path);
  return stringTest(operator, operand, path);
};

const stringTest = (operator: StringOperator, text: string, path: string): ValueTest => {
  switch (operator) {
    case 'prefix':
      return (value) => typeof value === 'string' && value.startsWith(text);
    case 'suffix':
      return (value) => typeof value === 'string' && value.endsWith(text);
    case 'equals-ignore-case': {
      const folded = text.toLowerCase();
      return (value) => typeof value === 'string' && value.toLowerCase() === folded;
    }
    case 'wildcard': {
      const glob = compileWildcard(text, path);
      return (value) => typeof value === 'string' && glob(value);
    }
  }
};

/**
 * `*` matches zero or more characters; `\*` is a literal asterisk and `\\` a literal backslash; any other
 * escape, and two consecutive wildcards, are invalid
 * (https://github.com/aws/event-ruler#wildcard-matching). Matched segment by segment, so a pattern with many
 * wildcards cannot backtrack exponentially.
 */
const compileWildcard = (text: string, path: string): ((value: string) => boolean) => {
  const segments: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i += 1) {
    const char = text.charAt(i);
    if (char === '*') {
      if (text.charAt(i + 1) === '*') fail(`Consecutive wildcard characters at pos ${i}`, path);
      segments.push(current);
      current = '';
    } else if (char === '\\') {
      const next = text.charAt(i + 1);
      if (next !== '*' && next !== '\\') fail(`Invalid escape character at pos ${i}`, path);
      current += next;
      i += 1;
    } else {
      current += char;
    }
  }
  segments.push(current);
  const first = segments[0] ?? '';
  const last = segments[segments.length - 1] ?? '';
  if (segments.length === 1) return (value) => value === first;
  const middle = segments.slice(1, -1);
  return (value) => {
    if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) {
      return false;
    }
    const end = value.length - last.length;
    let position = first.length;
    for (const segment of middle) {
      const found = value.indexOf(segment, position);
      if (found < 0 || found + segment.length > end) return false;
      position = found + segment.length;
    }
    return true;
  };
};

/**
 * anything-but takes a string, a number, a list of only strings or only numbers, or an object naming one of
 * prefix / suffix / equals-ignore-case / wildcard with a string or a list of strings
 * (eb-create-pattern-operators.html, "Anything-but matching"). It matches any present value the inner
 * test rejects: a missing field never matches, and on an array field one element that passes is enough.
 */
const compileAnythingBut = (operand: JsonValue | undefined, path: string): ValueTest => {
  if (isObject(operand)) {
    const keys = Object.keys(operand);
    const [operator] = keys;
    if (operator === undefined) return fail('Anything-but expression name not found', path);
    if (keys.length > 1) fail('Only one key allowed in anything-but expression', path);
    if (
      operator !== 'prefix' &&
      operator !== 'suffix' &&
      operator !== 'equals-ignore-case' &&
      operator !== 'wildcard'
    ) {
      return fail(`Unsupported anything-but pattern: ${operator}`, path);
    }
    const inner = operand[operator];
    const at = child(path, operator);
    const texts = Array.isArray(inner) ? inner : [inner];
    if (texts.length === 0) fail('Empty arrays are not allowed', at);
    const tests = texts.map((text) => {
      if (typeof text !== 'string') return fail(`${operator} match pattern must be a string`, at);
      if ((operator === 'prefix' || operator === 'suffix') && text === '') {
        return fail('Null prefix/suffix not allowed', at);
      }
      return stringTest(operator, text, at);
    });
    return (value) => !tests.some((test) => test(value));
  }
  const excluded = Array.isArray(operand) ? operand : [operand];
  if (excluded.length === 0) fail('Empty arrays are not allowed', path);
  const strings = excluded.every((value) => typeof value === 'string');
  const numbers = excluded.every((value) => typeof value === 'number');
  if (!strings && !numbers) {
    return fail(
      Array.isArray(operand)
        ? 'Inside anything-but list, either all values are number or string, mixed type is not supported'
        : 'Value of anything-but must be an array or single string/number value',
      path,
    );
  }
  if (numbers) for (const value of excluded) numericOperand(value, path);
  const set = new Set<Scalar>(excluded as Scalar[]);
  return (value) => !set.has(value);
};

const numericOperand = (value: JsonValue | undefined, path: string): number => {
  if (typeof value !== 'number' || !Number.isFinite(value))
    return fail(`${describe(value)} is not a number`, path);
  if (Math.abs(value) > NUMERIC_LIMIT) {
    return fail(`Value ${value} is out of the numeric range -5.0e9 to +5.0e9`, path);
  }
  return value;
};

/** `["=", n]`, one comparison, or a lower bound (`>`/`>=`) followed by an upper bound (`<`/`<=`). */
const compileNumeric = (operand: JsonValue | undefined, path: string): ValueTest => {
  if (!Array.isArray(operand)) return fail('Value of numeric must be an array', path);
  if (operand.length !== 2 && operand.length !== 4) {
    return fail('Numeric expression must have one comparison or a lower and an upper bound', path);
  }
  const [firstOperator, firstValue, secondOperator, secondValue] = operand;
  const first = numericOperand(firstValue, `${path}[1]`);
  const inRange = (value: Scalar): value is number =>
    typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= NUMERIC_LIMIT;
  if (operand.length === 2) {
    switch (firstOperator) {
      case '=':
        return (value) => inRange(value) && value === first;
      case '<':
        return (value) => inRange(value) && value < first;
      case '<=':
        return (value) => inRange(value) && value <= first;
      case '>':
        return (value) => inRange(value) && value > first;
      case '>=':
        return (value) => inRange(value) && value >= first;
      default:
        return fail(`Unrecognized numeric range operator: ${describe(firstOperator)}`, path);
    }
  }
  if (firstOperator !== '>' && firstOperator !== '>=') {
    return fail(`Bad numeric range operator: ${describe(firstOperator)} (a range starts with > or >=)`, path);
  }
  if (secondOperator !== '<' && secondOperator !== '<=') {
    return fail(`Bad numeric range operator: ${describe(secondOperator)} (a range ends with < or <=)`, path);
  }
  const second = numericOperand(secondValue, `${path}[3]`);
  if (first >= second) fail('Bottom must be less than top', path);
  const aboveBottom = firstOperator === '>' ? (v: number) => v > first : (v: number) => v >= first;
  const belowTop = secondOperator === '<' ? (v: number) => v < second : (v: number) => v <= second;
  return (value) => inRange(value) && aboveBottom(value) && belowTop(value);
};

// ---------------------------------------------------------------------------------------------------------
// IP addresses (cidr works "with IPv4 and IPv6 addresses", eb-create-pattern-operators.html)
// ---------------------------------------------------------------------------------------------------------

interface IpAddress {
  readonly bits: 32 | 128;
  readonly value: bigint;
}
interface CidrRange extends IpAddress {
  readonly prefix: number;
}

const parseIpv4 = (text: string): bigint | undefined => {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(part);
  }
  return value;
};

const parseIpv6Words = (text: string, last: boolean): bigint[] | undefined => {
  if (text === '') return [];
  const groups = text.split(':');
  const words: bigint[] = [];
  for (const [index, group] of groups.entries()) {
    if (last && index === groups.length - 1 && group.includes('.')) {
      // An embedded IPv4 address (e.g. ::ffff:10.0.0.1) fills the last two words.
      const v4 = parseIpv4(group);
      if (v4 === undefined) return undefined;
      words.push(v4 >> 16n, v4 & 0xffffn);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(group)) {
      words.push(BigInt(`0x${group}`));
    } else {
      return undefined;
    }
  }
  return words;
};

const parseIpv6 = (text: string): bigint | undefined => {
  const halves = text.split('::');
  let words: bigint[] | undefined;
  if (halves.length === 1) {
    words = parseIpv6Words(text, true);
  } else if (halves.length === 2) {
    const head = parseIpv6Words(halves[0] ?? '', false);
    const tail = parseIpv6Words(halves[1] ?? '', true);
    if (head && tail && head.length + tail.length < 8) {
      words = [...head, ...Array<bigint>(8 - head.length - tail.length).fill(0n), ...tail];
    }
  }
  return words?.length === 8 ? words.reduce((value, word) => (value << 16n) | word, 0n) : undefined;
};

const parseIp = (text: string): IpAddress | undefined => {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { bits: 32, value: v4 };
  const v6 = text.includes(':') ? parseIpv6(text) : undefined;
  return v6 === undefined ? undefined : { bits: 128, value: v6 };
};

const parseCidr = (text: string): CidrRange | undefined => {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!address || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  return prefix > address.bits ? undefined : { ...address, prefix };
};

const inCidr = (range: CidrRange, text: string): boolean => {
  const address = parseIp(text);
  if (!address || address.bits !== range.bits) return false;
  const shift = BigInt(range.bits - range.prefix);
  return address.value >> shift === range.value >> shift;
};

// ---------------------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------------------

const flatten = (values: readonly JsonValue[]): JsonValue[] =>
  values.flatMap((value) => (Array.isArray(value) ? flatten(value) : [value]));

const fieldOf = (object: JsonObject | undefined, key: string): JsonValue | undefined =>
  object !== undefined && Object.hasOwn(object, key) ? object[key] : undefined;

/**
 * An object node against an event value. Arrays of objects match when one element matches the whole node
 * ("array-consistent" matching: fields from different elements of one array never combine,
 * https://github.com/aws/event-ruler#json-array-matching). A missing or scalar value behaves like an empty
 * object, so `exists: false` below it still matches.
 */
const matchNode = (node: ObjectNode, value: JsonValue | undefined): boolean => {
  if (Array.isArray(value)) {
    const objects = flatten(value).filter(isObject);
    return objects.length === 0
      ? matchObject(node, undefined)
      : objects.some((object) => matchObject(node, object));
  }
  return matchObject(node, isObject(value) ? value : undefined);
};

const matchObject = (node: ObjectNode, object: JsonObject | undefined): boolean =>
  node.fields.every(([key, rule]) => {
    const value = fieldOf(object, key);
    return rule.kind === 'object' ? matchNode(rule.node, value) : matchLeaf(rule.matchers, value);
  }) &&
  node.alternatives.every((alternatives) =>
    alternatives.some((alternative) => matchObject(alternative, object)),
  );

/**
 * Leaf values are the scalars at a field: the value itself, or the elements of an array (matching "if the
 * intersection ... is non-empty", eb-event-patterns-arrays.html). An object is not a leaf, so `exists`
 * treats it as absent ("Exists matching only works on leaf nodes").
 */
const matchLeaf = (matchers: readonly LeafMatcher[], value: JsonValue | undefined): boolean => {
  const leaves: Scalar[] =
    value === undefined
      ? []
      : Array.isArray(value)
        ? flatten(value).filter(isScalar)
        : isScalar(value)
          ? [value]
          : [];
  return matchers.some((matcher) =>
    matcher.kind === 'exists' ? leaves.length > 0 === matcher.exists : leaves.some(matcher.test),
  );
};

// ---------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------

/** Validates and compiles a parsed pattern; throws `InvalidEventPatternError` naming the problem. */
export const compilePattern = (pattern: unknown): CompiledPattern => {
  if (!isObject(pattern)) return fail('Filter is not an object', '');
  const root = compileObject(pattern, '', false);
  return { matches: (event) => matchObject(root, isObject(event) ? event : undefined) };
};

/** Parses an `EventPattern` string as PutRule receives it, then compiles it. */
export const parseEventPattern = (text: string): CompiledPattern => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidEventPatternError(
      `Pattern is not valid JSON (${error instanceof Error ? error.message : 'parse error'})`,
      '',
      { cause: error },
    );
  }
  return compilePattern(parsed);
};

/** Throws `InvalidEventPatternError` when AWS would reject the pattern. */
export const validatePattern = (pattern: unknown): void => {
  compilePattern(pattern);
};

/** Whether `event` matches `pattern` (which must be valid: an invalid pattern throws). */
export const matchesPattern = (pattern: unknown, event: unknown): boolean =>
  compilePattern(pattern).matches(event);
