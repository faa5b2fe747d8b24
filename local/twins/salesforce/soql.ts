import { invalidField, malformedQuery, SalesforceApiError } from './errors';
import { toId18 } from './record-ids';
import { type FieldDef, findField, findSObject, type SObjectDef } from './schema';
import type { FieldValue, OrgStore, SRecord } from './store';

/**
 * The SOQL subset the twin understands (what jsforce's query builder and hand-written flow queries emit):
 *
 *   SELECT <field | Parent.Field | COUNT() | (SELECT ... FROM ChildRelationship [WHERE] [ORDER BY] [LIMIT])>, ...
 *   FROM <Object> [WHERE <condition>] [ORDER BY <field> [ASC|DESC] [NULLS FIRST|LAST], ...]
 *   [LIMIT n] [OFFSET n]
 *
 * Conditions: `=`, `!=`, `<>`, `<`, `<=`, `>`, `>=`, `LIKE`, `IN (...)`, `NOT IN (...)`, combined with
 * AND, OR, NOT and parentheses; literals are quoted strings, numbers, true/false, null, and unquoted
 * dates and date-times. Not supported: aggregate functions other than COUNT(), GROUP BY, semi-joins,
 * date literals such as TODAY, FIELDS(), TYPEOF, bind variables.
 * Like a real org, the twin rejects unknown fields and literals of the wrong type (a date in quotes).
 */

type TokenKind = 'ident' | 'string' | 'number' | 'date' | 'datetime' | 'op' | 'punct' | 'eof';
interface Token {
  kind: TokenKind;
  text: string;
  pos: number;
}

type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'date'; value: string }
  | { kind: 'datetime'; value: string };

type Expr =
  | { kind: 'and' | 'or'; left: Expr; right: Expr }
  | { kind: 'not'; expr: Expr }
  | { kind: 'cmp'; path: string[]; op: string; value: Literal }
  | { kind: 'in'; path: string[]; negate: boolean; values: Literal[] };

type SelectItem =
  | { kind: 'field'; path: string[] }
  | { kind: 'subquery'; query: ParsedQuery }
  | { kind: 'count' };

interface OrderItem {
  path: string[];
  descending: boolean;
  nullsLast: boolean;
}

export interface ParsedQuery {
  select: SelectItem[];
  from: string;
  where?: Expr;
  orderBy: OrderItem[];
  limit?: number;
  offset?: number;
}

const KEYWORDS = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'AND',
  'OR',
  'NOT',
  'IN',
  'LIKE',
  'ORDER',
  'BY',
  'ASC',
  'DESC',
  'NULLS',
  'FIRST',
  'LAST',
  'LIMIT',
  'OFFSET',
]);

function tokenize(soql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < soql.length) {
    const rest = soql.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const dateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})/.exec(rest);
    if (dateTime) {
      tokens.push({ kind: 'datetime', text: dateTime[0], pos: i });
      i += dateTime[0].length;
      continue;
    }
    const date = /^\d{4}-\d{2}-\d{2}(?![\d:])/.exec(rest);
    if (date) {
      tokens.push({ kind: 'date', text: date[0], pos: i });
      i += date[0].length;
      continue;
    }
    const number = /^-?\d+(?:\.\d+)?/.exec(rest);
    if (number) {
      tokens.push({ kind: 'number', text: number[0], pos: i });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(rest);
    if (ident) {
      tokens.push({ kind: 'ident', text: ident[0], pos: i });
      i += ident[0].length;
      continue;
    }
    const op = /^(?:!=|<>|<=|>=|=|<|>)/.exec(rest);
    if (op) {
      tokens.push({ kind: 'op', text: op[0], pos: i });
      i += op[0].length;
      continue;
    }
    const c = soql.charAt(i);
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'punct', text: c, pos: i });
      i++;
      continue;
    }
    if (c === "'") {
      let value = '';
      let j = i + 1;
      for (; j < soql.length; j++) {
        const ch = soql.charAt(j);
        if (ch === '\\') {
          const next = soql.charAt(j + 1);
          value += next === 'n' ? '\n' : next === 't' ? '\t' : next === 'r' ? '\r' : next;
          j++;
          continue;
        }
        if (ch === "'") break;
        value += ch;
      }
      if (j >= soql.length)
        throw malformedQuery(`unexpected token: end of query (unterminated string at ${i})`);
      tokens.push({ kind: 'string', text: value, pos: i });
      i = j + 1;
      continue;
    }
    throw malformedQuery(`unexpected token: '${c}'`);
  }
  tokens.push({ kind: 'eof', text: '', pos: soql.length });
  return tokens;
}

class Parser {
  private i = 0;

  constructor(private readonly tokens: Token[]) {}

  parseQuery(): ParsedQuery {
    this.keyword('SELECT');
    const select: SelectItem[] = [];
    do {
      select.push(this.selectItem());
    } while (this.punct(','));
    this.keyword('FROM');
    const from = this.ident();
    const query: ParsedQuery = { select, from, orderBy: [] };
    if (this.isKeyword('WHERE')) {
      this.i++;
      query.where = this.orExpr();
    }
    if (this.isKeyword('ORDER')) {
      this.i++;
      this.keyword('BY');
      do {
        const path = this.ident().split('.');
        let descending = false;
        if (this.isKeyword('ASC')) this.i++;
        else if (this.isKeyword('DESC')) {
          this.i++;
          descending = true;
        }
        let nullsLast = descending;
        if (this.isKeyword('NULLS')) {
          this.i++;
          if (this.isKeyword('FIRST')) nullsLast = false;
          else if (this.isKeyword('LAST')) nullsLast = true;
          else throw this.unexpected();
          this.i++;
        }
        query.orderBy.push({ path, descending, nullsLast });
      } while (this.punct(','));
    }
    if (this.isKeyword('LIMIT')) {
      this.i++;
      query.limit = this.integer();
    }
    if (this.isKeyword('OFFSET')) {
      this.i++;
      query.offset = this.integer();
    }
    return query;
  }

  expectEnd(): void {
    if (this.peek().kind !== 'eof') throw this.unexpected();
  }

  private selectItem(): SelectItem {
    if (this.punct('(')) {
      const query = this.parseQuery();
      this.expectPunct(')');
      return { kind: 'subquery', query };
    }
    const name = this.ident();
    if (name.toUpperCase() === 'COUNT' && this.punct('(')) {
      this.expectPunct(')');
      return { kind: 'count' };
    }
    return { kind: 'field', path: name.split('.') };
  }

  private orExpr(): Expr {
    let left = this.andExpr();
    while (this.isKeyword('OR')) {
      this.i++;
      left = { kind: 'or', left, right: this.andExpr() };
    }
    return left;
  }

  private andExpr(): Expr {
    let left = this.notExpr();
    while (this.isKeyword('AND')) {
      this.i++;
      left = { kind: 'and', left, right: this.notExpr() };
    }
    return left;
  }

  private notExpr(): Expr {
    if (this.isKeyword('NOT')) {
      this.i++;
      return { kind: 'not', expr: this.notExpr() };
    }
    if (this.punct('(')) {
      const expr = this.orExpr();
      this.expectPunct(')');
      return expr;
    }
    return this.condition();
  }

  private condition(): Expr {
    const path = this.ident().split('.');
    if (this.isKeyword('NOT')) {
      this.i++;
      this.keyword('IN');
      return { kind: 'in', path, negate: true, values: this.literalList() };
    }
    if (this.isKeyword('IN')) {
      this.i++;
      return { kind: 'in', path, negate: false, values: this.literalList() };
    }
    if (this.isKeyword('LIKE')) {
      this.i++;
      return { kind: 'cmp', path, op: 'LIKE', value: this.literal() };
    }
    const op = this.peek();
    if (op.kind !== 'op') throw this.unexpected();
    this.i++;
    return { kind: 'cmp', path, op: op.text === '<>' ? '!=' : op.text, value: this.literal() };
  }

  private literalList(): Literal[] {
    this.expectPunct('(');
    const values: Literal[] = [];
    do {
      values.push(this.literal());
    } while (this.punct(','));
    this.expectPunct(')');
    return values;
  }

  private literal(): Literal {
    const token = this.peek();
    this.i++;
    switch (token.kind) {
      case 'string':
        return { kind: 'string', value: token.text };
      case 'number':
        return { kind: 'number', value: Number(token.text) };
      case 'date':
        return { kind: 'date', value: token.text };
      case 'datetime':
        return { kind: 'datetime', value: new Date(token.text).toISOString().replace('Z', '+0000') };
      case 'ident': {
        const upper = token.text.toUpperCase();
        if (upper === 'TRUE' || upper === 'FALSE') return { kind: 'boolean', value: upper === 'TRUE' };
        if (upper === 'NULL') return { kind: 'null' };
        this.i--;
        throw this.unexpected();
      }
      default:
        this.i--;
        throw this.unexpected();
    }
  }

  private integer(): number {
    const token = this.peek();
    if (token.kind !== 'number' || !/^\d+$/.test(token.text)) throw this.unexpected();
    this.i++;
    return Number(token.text);
  }

  private ident(): string {
    const token = this.peek();
    if (token.kind !== 'ident' || KEYWORDS.has(token.text.toUpperCase())) throw this.unexpected();
    this.i++;
    return token.text;
  }

  private keyword(word: string): void {
    if (!this.isKeyword(word)) throw this.unexpected();
    this.i++;
  }

  private isKeyword(word: string): boolean {
    const token = this.peek();
    return token.kind === 'ident' && token.text.toUpperCase() === word;
  }

  private punct(p: string): boolean {
    const token = this.peek();
    if (token.kind === 'punct' && token.text === p) {
      this.i++;
      return true;
    }
    return false;
  }

  private expectPunct(p: string): void {
    if (!this.punct(p)) throw this.unexpected();
  }

  private peek(): Token {
    return this.tokens[this.i] ?? { kind: 'eof', text: '', pos: 0 };
  }

  private unexpected(): SalesforceApiError {
    const token = this.peek();
    return malformedQuery(
      token.kind === 'eof' ? 'unexpected token: end of query' : `unexpected token: '${token.text}'`,
    );
  }
}

export function parseSoql(soql: string): ParsedQuery {
  const parser = new Parser(tokenize(soql));
  const query = parser.parseQuery();
  parser.expectEnd();
  return query;
}

/** A resolved field path: the relationship hops and the field at the end. */
interface ResolvedPath {
  hops: Array<{ field: FieldDef; target: SObjectDef }>;
  field: FieldDef;
}

export interface QueryResult {
  totalSize: number;
  done: boolean;
  records: Array<Record<string, unknown>>;
  nextRecordsUrl?: string;
}

/** Runs parsed queries against the store and shapes records the way the REST query resource does. */
export class QueryEngine {
  constructor(
    private readonly store: OrgStore,
    private readonly apiVersion: () => string,
  ) {}

  run(soql: string): { totalSize: number; records: Array<Record<string, unknown>> } {
    const query = parseSoql(soql);
    const def = findSObject(this.store.schema, query.from);
    if (!def) {
      throw new SalesforceApiError(
        400,
        'INVALID_TYPE',
        `sObject type '${query.from}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    return this.execute(query, def, this.store.all(def.name));
  }

  private execute(
    query: ParsedQuery,
    def: SObjectDef,
    candidates: SRecord[],
  ): { totalSize: number; records: Array<Record<string, unknown>> } {
    const where = query.where;
    if (where) this.validateExpr(def, where);
    let rows = where ? candidates.filter((r) => this.evaluate(def, r, where)) : candidates;
    const orderBy = query.orderBy.map((o) => ({ ...o, resolved: this.resolve(def, o.path) }));
    if (orderBy.length > 0) {
      rows = [...rows].sort((a, b) => {
        for (const o of orderBy) {
          const va = this.valueAt(a, o.resolved);
          const vb = this.valueAt(b, o.resolved);
          if (va === null || vb === null) {
            if (va === vb) continue;
            return (va === null ? -1 : 1) * (o.nullsLast ? -1 : 1);
          }
          const c = compareForSort(va, vb);
          if (c !== 0) return o.descending ? -c : c;
        }
        return 0;
      });
    }
    const isCount = query.select.some((s) => s.kind === 'count');
    if (isCount && query.select.length > 1) {
      throw malformedQuery('COUNT() cannot be combined with other fields');
    }
    const start = query.offset ?? 0;
    const sliced = rows.slice(start, query.limit === undefined ? undefined : start + query.limit);
    if (isCount) return { totalSize: sliced.length, records: [] };
    const plan = query.select.map((item) => {
      if (item.kind === 'field') return { item, resolved: this.resolve(def, item.path) };
      return { item, resolved: undefined };
    });
    const records = sliced.map((row) => {
      const out: Record<string, unknown> = { attributes: this.attributes(def, row) };
      for (const { item, resolved } of plan) {
        if (item.kind === 'field' && resolved) this.project(out, row, resolved);
        if (item.kind === 'subquery') {
          const child = def.childRelationships.find(
            (c) => c.relationshipName.toLowerCase() === item.query.from.toLowerCase(),
          );
          if (!child) {
            throw new SalesforceApiError(
              400,
              'INVALID_TYPE',
              `Didn't understand relationship '${item.query.from}' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
            );
          }
          const childDef = this.store.sobject(child.childSObject);
          const children = this.store.all(child.childSObject).filter((c) => c[child.field] === row.Id);
          const result = this.execute(item.query, childDef, children);
          out[child.relationshipName] =
            result.totalSize === 0
              ? null
              : { totalSize: result.totalSize, done: true, records: result.records };
        }
      }
      return out;
    });
    return { totalSize: records.length, records };
  }

  private attributes(def: SObjectDef, row: SRecord): { type: string; url: string } {
    return {
      type: def.name,
      url: `/services/data/v${this.apiVersion()}/sobjects/${def.name}/${String(row.Id)}`,
    };
  }

  /** Writes a (possibly dotted) field into the output the way the API nests parent records. */
  private project(out: Record<string, unknown>, row: SRecord, path: ResolvedPath): void {
    let target = out;
    let current: SRecord | undefined = row;
    for (const hop of path.hops) {
      const name = hop.field.relationshipName ?? hop.field.name;
      const parentId: FieldValue | undefined = current?.[hop.field.name];
      const parent: SRecord | undefined =
        typeof parentId === 'string' ? this.store.get(hop.target.name, parentId) : undefined;
      if (!parent) {
        if (!(name in target)) target[name] = null;
        return;
      }
      const existing = target[name];
      const nested: Record<string, unknown> =
        existing && typeof existing === 'object'
          ? (existing as Record<string, unknown>)
          : { attributes: this.attributes(hop.target, parent) };
      target[name] = nested;
      target = nested;
      current = parent;
    }
    target[path.field.name] = current?.[path.field.name] ?? null;
  }

  private resolve(def: SObjectDef, path: string[]): ResolvedPath {
    const hops: ResolvedPath['hops'] = [];
    let current = def;
    for (let i = 0; i < path.length - 1; i++) {
      const relName = (path[i] ?? '').toLowerCase();
      const field = current.fields.find((f) => f.relationshipName?.toLowerCase() === relName);
      const target = field?.referenceTo ? findSObject(this.store.schema, field.referenceTo) : undefined;
      if (!field || !target) {
        throw invalidField(
          `Didn't understand relationship '${path[i] ?? ''}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
        );
      }
      hops.push({ field, target });
      current = target;
    }
    const last = path[path.length - 1] ?? '';
    const field = findField(current, last);
    if (!field) {
      throw invalidField(
        `No such column '${last}' on entity '${current.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    return { hops, field };
  }

  private valueAt(row: SRecord, path: ResolvedPath): FieldValue {
    let current: SRecord | undefined = row;
    for (const hop of path.hops) {
      const id: FieldValue | undefined = current?.[hop.field.name];
      current = typeof id === 'string' ? this.store.get(hop.target.name, id) : undefined;
    }
    return current?.[path.field.name] ?? null;
  }

  private validateExpr(def: SObjectDef, expr: Expr): void {
    switch (expr.kind) {
      case 'and':
      case 'or':
        this.validateExpr(def, expr.left);
        this.validateExpr(def, expr.right);
        return;
      case 'not':
        this.validateExpr(def, expr.expr);
        return;
      case 'cmp': {
        const { field } = this.resolve(def, expr.path);
        checkLiteral(field, expr.value);
        if (expr.op === 'LIKE' && !isText(field)) {
          throw new SalesforceApiError(
            400,
            'INVALID_QUERY_FILTER_OPERATOR',
            `invalid operator on ${field.type} field: ${field.name}`,
          );
        }
        return;
      }
      case 'in': {
        const { field } = this.resolve(def, expr.path);
        for (const value of expr.values) checkLiteral(field, value);
        return;
      }
    }
  }

  private evaluate(def: SObjectDef, row: SRecord, expr: Expr): boolean {
    switch (expr.kind) {
      case 'and':
        return this.evaluate(def, row, expr.left) && this.evaluate(def, row, expr.right);
      case 'or':
        return this.evaluate(def, row, expr.left) || this.evaluate(def, row, expr.right);
      case 'not':
        return !this.evaluate(def, row, expr.expr);
      case 'in': {
        const path = this.resolve(def, expr.path);
        const actual = this.valueAt(row, path);
        const hit = expr.values.some((v) => compareValues(path.field, actual, v) === 0);
        return expr.negate ? !hit : hit;
      }
      case 'cmp': {
        const path = this.resolve(def, expr.path);
        const actual = this.valueAt(row, path);
        if (expr.op === 'LIKE') {
          return (
            expr.value.kind === 'string' &&
            typeof actual === 'string' &&
            likeToRegExp(expr.value.value).test(actual)
          );
        }
        const c = compareValues(path.field, actual, expr.value);
        switch (expr.op) {
          case '=':
            return c === 0;
          case '!=':
            return c !== 0;
          case '<':
            return c !== undefined && c < 0 && actual !== null;
          case '<=':
            return c !== undefined && c <= 0 && actual !== null;
          case '>':
            return c !== undefined && c > 0 && actual !== null;
          case '>=':
            return c !== undefined && c >= 0 && actual !== null;
          default:
            return false;
        }
      }
    }
  }
}

function isText(field: FieldDef): boolean {
  return ['string', 'textarea', 'picklist', 'url', 'phone', 'id', 'reference'].includes(field.type);
}

const EXPECTED_LITERAL: Record<string, Literal['kind'][]> = {
  date: ['date'],
  datetime: ['datetime'],
  boolean: ['boolean'],
  currency: ['number'],
  double: ['number'],
  percent: ['number'],
  int: ['number'],
};

/** A real org refuses `CloseDate = '2024-01-01'` and `Name = 5`; so does the twin. */
function checkLiteral(field: FieldDef, value: Literal): void {
  if (value.kind === 'null') return;
  const expected = EXPECTED_LITERAL[field.type] ?? ['string'];
  if (!expected.includes(value.kind)) {
    const quoted = expected.includes('string');
    throw invalidField(
      `value of filter criterion for field '${field.name}' must be of type ${field.type === 'datetime' ? 'dateTime' : field.type} and ${quoted ? 'should be enclosed in quotes' : 'should not be enclosed in quotes'}`,
    );
  }
  if ((field.type === 'id' || field.type === 'reference') && value.kind === 'string' && value.value !== '') {
    if (toId18(value.value) === undefined) {
      throw new SalesforceApiError(400, 'INVALID_QUERY_FILTER_OPERATOR', `invalid ID field: ${value.value}`);
    }
  }
}

/** Compares a stored value with a literal; text comparisons are case-insensitive, as in SOQL. */
function compareValues(field: FieldDef, actual: FieldValue, literal: Literal): number | undefined {
  if (literal.kind === 'null') return actual === null ? 0 : 1;
  if (actual === null) return -1;
  const expected: FieldValue =
    literal.kind === 'string' && (field.type === 'id' || field.type === 'reference')
      ? (toId18(literal.value) ?? literal.value)
      : literal.value;
  if (typeof actual === 'number' && typeof expected === 'number') return actual - expected;
  if (typeof actual === 'boolean' && typeof expected === 'boolean') return actual === expected ? 0 : 1;
  if (typeof actual === 'string' && typeof expected === 'string') {
    const a = actual.toLowerCase();
    const b = expected.toLowerCase();
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return undefined;
}

function compareForSort(a: string | number | boolean, b: string | number | boolean): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a).toLowerCase();
  const sb = String(b).toLowerCase();
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function likeToRegExp(pattern: string): RegExp {
  let source = '';
  for (const ch of pattern) {
    if (ch === '%') source += '.*';
    else if (ch === '_') source += '.';
    else source += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'is');
}
