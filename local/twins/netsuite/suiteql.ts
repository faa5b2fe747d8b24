import { NetSuiteError } from './errors';
import type { AnyRecordType, RecordStore } from './store';

/**
 * SuiteQL through REST (`POST /services/rest/query/v1/suiteql`, body `{ "q": ... }`, header
 * `Prefer: transient`), for the one table revbridge queries: `transaction`, with `AND`ed conditions
 * on its columns and an optional `ORDER BY`. Anything else is refused with a 400 that names the part
 * the twin does not read, never answered wrongly.
 * https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_157909186990.html
 *
 * As NetSuite does: column names are lower case, every value is a string, a null column is left out
 * of its row, and pages are at most 1000 rows (`limit`, `offset` in the URL).
 */

export const QUERY_PATH = '/services/rest/query/v1';

/** `transaction.type` as SuiteQL names it, for the record types the twin keeps. */
const TRANSACTION_TYPES: Readonly<Record<string, AnyRecordType>> = {
  CustInvc: 'invoice',
  CustCred: 'creditMemo',
  SalesOrd: 'salesOrder',
  CustPymt: 'customerPayment',
};

type Row = Readonly<Record<string, string | null>>;
type Comparison = '=' | '<>' | '!=' | '>' | '>=' | '<' | '<=';
interface Condition {
  readonly column: string;
  readonly test: (value: string | null) => boolean;
}

const COLUMNS = new Set(['id', 'externalid', 'trandate', 'type', 'tranid']);

const invalid = (detail: string) =>
  new NetSuiteError(400, 'INVALID_VALUE', `Invalid search query. ${detail}`, { 'o:errorQueryParam': 'q' });

const column = (name: string): string => {
  const lower = name.toLowerCase();
  if (!COLUMNS.has(lower)) throw invalid(`Field '${name}' for record 'transaction' was not found.`);
  return lower;
};

const compare = (op: Comparison, left: string, right: string, numeric: boolean): boolean => {
  const order = numeric ? Number(left) - Number(right) : left < right ? -1 : left > right ? 1 : 0;
  switch (op) {
    case '=':
      return order === 0;
    case '<>':
    case '!=':
      return order !== 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
  }
};

const CONDITION_FORMS: readonly [RegExp, (match: RegExpMatchArray) => Condition][] = [
  [
    /^(\w+)\s+IS\s+(NOT\s+)?NULL$/i,
    ([, name = '', not]) => {
      const key = column(name);
      return { column: key, test: (value) => (value === null) !== Boolean(not) };
    },
  ],
  [
    /^(\w+)\s*(=|<>|!=|>=|<=|>|<)\s*TO_DATE\(\s*'(\d{4}-\d{2}-\d{2})'\s*,\s*'YYYY-MM-DD'\s*\)$/i,
    ([, name = '', op, day = '']) => {
      const key = column(name);
      if (key !== 'trandate') throw invalid(`TO_DATE compares with a date field, not '${name}'.`);
      return { column: key, test: (value) => value !== null && compare(op as Comparison, value, day, false) };
    },
  ],
  [
    /^(\w+)\s*(=|<>|!=|>=|<=|>|<)\s*(?:'([^']*)'|(\d+))$/i,
    ([, name = '', op, text, number]) => {
      const key = column(name);
      const right = text ?? number ?? '';
      return {
        column: key,
        test: (value) =>
          value !== null && compare(op as Comparison, value, right, key === 'id' && number !== undefined),
      };
    },
  ],
];

const parseCondition = (text: string): Condition => {
  for (const [form, build] of CONDITION_FORMS) {
    const match = text.trim().match(form);
    if (match) return build(match);
  }
  throw invalid(`The twin cannot read the condition "${text.trim()}".`);
};

interface Query {
  readonly columns: readonly string[];
  readonly where: readonly Condition[];
  readonly orderBy: string | undefined;
  readonly descending: boolean;
}

export const parseSuiteQl = (q: string): Query => {
  const match = q
    .trim()
    .match(
      /^SELECT\s+(.+?)\s+FROM\s+(\w+)(?:\s+WHERE\s+(.+?))?(?:\s+ORDER\s+BY\s+(\w+)(?:\s+(ASC|DESC))?)?$/is,
    );
  if (!match) throw invalid('The twin reads SELECT <columns> FROM <table> [WHERE ...] [ORDER BY <column>].');
  const [, columnList = '', table = '', where, orderBy, direction] = match;
  if (table.toLowerCase() !== 'transaction') throw invalid(`Record '${table}' was not found.`);
  if (/\bOR\b/i.test(where ?? '')) throw invalid('The twin reads conditions joined by AND only.');
  return {
    columns: columnList.split(',').map((name) => column(name.trim())),
    where: where ? where.split(/\s+AND\s+/i).map(parseCondition) : [],
    orderBy: orderBy ? column(orderBy) : undefined,
    descending: direction?.toUpperCase() === 'DESC',
  };
};

const rowsOf = (store: RecordStore): Row[] =>
  Object.entries(TRANSACTION_TYPES).flatMap(([code, type]) =>
    store.all(type).map((record) => ({
      id: record.id,
      externalid: record.externalId ?? null,
      trandate: typeof record.data.tranDate === 'string' ? record.data.tranDate : null,
      type: code,
      tranid: typeof record.data.tranId === 'string' ? record.data.tranId : null,
    })),
  );

/** Runs a query for one page; the body is the collection NetSuite answers with. */
export const runSuiteQl = (
  store: RecordStore,
  q: string,
  page: { readonly limit: number; readonly offset: number },
  selfHref: string,
) => {
  const query = parseSuiteQl(q);
  const all = rowsOf(store).filter((row) =>
    query.where.every((condition) => condition.test(row[condition.column] ?? null)),
  );
  const key = query.orderBy;
  if (key) {
    all.sort((a, b) => {
      const left = a[key] ?? '';
      const right = b[key] ?? '';
      const order = key === 'id' ? Number(left) - Number(right) : left.localeCompare(right);
      return query.descending ? -order : order;
    });
  }
  const rows = all.slice(page.offset, page.offset + page.limit);
  return {
    links: [{ rel: 'self', href: selfHref }],
    count: rows.length,
    hasMore: page.offset + rows.length < all.length,
    items: rows.map((row) => ({
      links: [],
      ...Object.fromEntries(
        query.columns.flatMap((name) =>
          row[name] === null || row[name] === undefined ? [] : [[name, row[name]]],
        ),
      ),
    })),
    offset: page.offset,
    totalResults: all.length,
  };
};
