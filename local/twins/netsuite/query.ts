import { NetSuiteError } from './errors';

/**
 * The `q` query parameter of REST collection GETs: `<field> <OPERATOR> <value>` conditions joined by AND
 * or OR (AND binds tighter), e.g. `companyName START_WITH "Acme" AND currency ANY_OF [1, 2]`
 * (https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545222128.html). The twin
 * supports the common operators; text comparisons ignore case like NetSuite's.
 */
type Value = string | number | boolean | Array<string | number>;
interface Condition {
  field: string;
  op: string;
  value?: Value;
}
type Clause = Condition[]; // ANDed
export type Filter = Clause[]; // ORed

const NO_VALUE = new Set(['EMPTY', 'EMPTY_NOT']);
const OPERATORS = new Set([
  'IS',
  'IS_NOT',
  'START_WITH',
  'START_WITH_NOT',
  'CONTAIN',
  'CONTAIN_NOT',
  'END_WITH',
  'END_WITH_NOT',
  'EMPTY',
  'EMPTY_NOT',
  'EQUAL',
  'EQUAL_NOT',
  'GREATER',
  'GREATER_OR_EQUAL',
  'LESS',
  'LESS_OR_EQUAL',
  'ANY_OF',
  'ANY_OF_NOT',
  'ON',
  'ON_OR_AFTER',
  'ON_OR_BEFORE',
  'AFTER',
  'BEFORE',
]);

const badQuery = (detail: string) =>
  new NetSuiteError(400, 'INVALID_VALUE', `Invalid search query: ${detail}`, { 'o:errorQueryParam': 'q' });

function tokenize(q: string): string[] {
  const tokens: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|\[[^\]]*\]|[^\s"[\]]+)/y;
  let position = 0;
  for (let match = re.exec(q); match?.[1] !== undefined; match = re.exec(q)) {
    tokens.push(match[1]);
    position = re.lastIndex;
  }
  const rest = q.slice(position).trim();
  if (rest !== '') throw badQuery(`cannot read "${rest}"`);
  return tokens;
}

function parseValue(token: string): Value {
  if (token.startsWith('"')) return JSON.parse(token) as string;
  if (token.startsWith('[')) {
    return token
      .slice(1, -1)
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '')
      .map((part) => (part.startsWith('"') ? (JSON.parse(part) as string) : part));
  }
  if (token === 'true' || token === 'false') return token === 'true';
  const n = Number(token);
  return Number.isFinite(n) ? n : token;
}

export function parseQuery(q: string): Filter {
  const tokens = tokenize(q);
  const filter: Filter = [[]];
  let i = 0;
  while (i < tokens.length) {
    const field = tokens[i++];
    const op = tokens[i++]?.toUpperCase();
    if (field === undefined || op === undefined) throw badQuery('expected "<field> <OPERATOR> <value>"');
    if (!OPERATORS.has(op)) throw badQuery(`unknown operator ${op}`);
    const condition: Condition = { field, op };
    if (!NO_VALUE.has(op)) {
      const raw = tokens[i++];
      if (raw === undefined) throw badQuery(`missing value after ${op}`);
      condition.value = parseValue(raw);
    }
    filter[filter.length - 1]?.push(condition);
    const joiner = tokens[i]?.toUpperCase();
    if (joiner === undefined) break;
    if (joiner !== 'AND' && joiner !== 'OR') throw badQuery(`expected AND or OR, got ${tokens[i]}`);
    if (joiner === 'OR') filter.push([]);
    i++;
    if (i >= tokens.length) throw badQuery(`condition expected after ${joiner}`);
  }
  return filter;
}

/** A record's field as a comparable scalar: references compare by internal id. */
function scalar(value: unknown): string | number | boolean | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'object' && 'id' in value) return String((value as { id: unknown }).id);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return undefined;
}

function test(record: Record<string, unknown>, c: Condition): boolean {
  const actual = scalar(record[c.field]);
  const text = actual === undefined ? '' : String(actual).toLowerCase();
  const expected = Array.isArray(c.value) ? '' : String(c.value ?? '').toLowerCase();
  const num = (v: unknown) => (typeof v === 'number' ? v : Number(v));
  switch (c.op) {
    case 'IS':
      return text === expected;
    case 'IS_NOT':
      return text !== expected;
    case 'START_WITH':
      return text.startsWith(expected);
    case 'START_WITH_NOT':
      return !text.startsWith(expected);
    case 'CONTAIN':
      return text.includes(expected);
    case 'CONTAIN_NOT':
      return !text.includes(expected);
    case 'END_WITH':
      return text.endsWith(expected);
    case 'END_WITH_NOT':
      return !text.endsWith(expected);
    case 'EMPTY':
      return text === '';
    case 'EMPTY_NOT':
      return text !== '';
    case 'EQUAL':
      return actual !== undefined && num(actual) === num(c.value);
    case 'EQUAL_NOT':
      return actual === undefined || num(actual) !== num(c.value);
    case 'GREATER':
      return actual !== undefined && num(actual) > num(c.value);
    case 'GREATER_OR_EQUAL':
      return actual !== undefined && num(actual) >= num(c.value);
    case 'LESS':
      return actual !== undefined && num(actual) < num(c.value);
    case 'LESS_OR_EQUAL':
      return actual !== undefined && num(actual) <= num(c.value);
    case 'ANY_OF':
    case 'ANY_OF_NOT': {
      const list = (Array.isArray(c.value) ? c.value : [c.value ?? '']).map((v) => String(v).toLowerCase());
      return list.includes(text) === (c.op === 'ANY_OF');
    }
    // Dates are stored as YYYY-MM-DD, which compares correctly as text.
    case 'ON':
      return text === expected;
    case 'ON_OR_AFTER':
      return text !== '' && text >= expected;
    case 'ON_OR_BEFORE':
      return text !== '' && text <= expected;
    case 'AFTER':
      return text !== '' && text > expected;
    case 'BEFORE':
      return text !== '' && text < expected;
    default:
      return false;
  }
}

export function matches(filter: Filter, record: Record<string, unknown>): boolean {
  return filter.some((clause) => clause.every((c) => test(record, c)));
}
