/**
 * A small subset of CloudWatch metric math, evaluated one period at a time: numbers, metric ids,
 * `+ - * /`, parentheses and FILL, ABS, SUM, AVG, MIN, MAX (the last four over `[a, b]` lists).
 * Anything else is refused at parse time so the alarm is reported as not evaluated, never guessed.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
 */

export type Expression =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'id'; readonly id: string }
  | { readonly kind: 'negate'; readonly operand: Expression }
  | {
      readonly kind: 'binary';
      readonly operator: '+' | '-' | '*' | '/';
      readonly left: Expression;
      readonly right: Expression;
    }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expression[] }
  | { readonly kind: 'list'; readonly items: readonly Expression[] };

export class MetricMathError extends Error {
  override readonly name = 'MetricMathError' as const;
}

const FUNCTIONS = new Set(['FILL', 'ABS', 'SUM', 'AVG', 'MIN', 'MAX']);
const TOKEN = /\s*(?:(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|([-+*/(),[\]]))/y;

const tokenize = (source: string): string[] => {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < source.length) {
    if (/^\s*$/.test(source.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(source);
    if (!match) throw new MetricMathError(`unsupported syntax at "${source.slice(at).trim()}"`);
    tokens.push(match[1] ?? match[2] ?? match[3] ?? '');
  }
  return tokens;
};

export const parseExpression = (source: string): Expression => {
  const tokens = tokenize(source);
  let position = 0;
  const peek = () => tokens[position];
  const take = (expected?: string): string => {
    const token = tokens[position];
    if (token === undefined || (expected !== undefined && token !== expected)) {
      throw new MetricMathError(`expected ${expected ?? 'more input'} in "${source}"`);
    }
    position += 1;
    return token;
  };
  const commaList = (close: string): Expression[] => {
    const items: Expression[] = [];
    if (peek() !== close) {
      items.push(expression());
      while (peek() === ',') {
        take(',');
        items.push(expression());
      }
    }
    take(close);
    return items;
  };
  const primary = (): Expression => {
    const token = take();
    if (/^\d/.test(token)) return { kind: 'number', value: Number(token) };
    if (token === '(') {
      const inner = expression();
      take(')');
      return inner;
    }
    if (token === '[') return { kind: 'list', items: commaList(']') };
    if (/^[A-Za-z_]/.test(token)) {
      if (peek() !== '(') return { kind: 'id', id: token };
      const name = token.toUpperCase();
      if (!FUNCTIONS.has(name)) throw new MetricMathError(`function ${token} is not supported locally`);
      take('(');
      return { kind: 'call', name, args: commaList(')') };
    }
    throw new MetricMathError(`unexpected "${token}" in "${source}"`);
  };
  const unary = (): Expression => {
    if (peek() === '-') {
      take('-');
      return { kind: 'negate', operand: unary() };
    }
    return primary();
  };
  const term = (): Expression => {
    let left = unary();
    for (let op = peek(); op === '*' || op === '/'; op = peek()) {
      take();
      left = { kind: 'binary', operator: op, left, right: unary() };
    }
    return left;
  };
  const expression = (): Expression => {
    let left = term();
    for (let op = peek(); op === '+' || op === '-'; op = peek()) {
      take();
      left = { kind: 'binary', operator: op, left, right: term() };
    }
    return left;
  };
  const result = expression();
  if (position < tokens.length) throw new MetricMathError(`unexpected "${tokens[position]}" in "${source}"`);
  return result;
};

/** Ids an expression reads, to check them before evaluating. */
export const referencedIds = (expression: Expression): string[] => {
  switch (expression.kind) {
    case 'number':
      return [];
    case 'id':
      return [expression.id];
    case 'negate':
      return referencedIds(expression.operand);
    case 'binary':
      return [...referencedIds(expression.left), ...referencedIds(expression.right)];
    case 'call':
      return expression.args.flatMap(referencedIds);
    case 'list':
      return expression.items.flatMap(referencedIds);
  }
};

type Value = number | null | readonly (number | null)[];

const finite = (value: number): number | null => (Number.isFinite(value) ? value : null);

const scalar = (value: Value): number | null => {
  if (value === null || typeof value === 'number') return value;
  throw new MetricMathError('a list can only be passed to SUM, AVG, MIN or MAX');
};

/** Evaluates for one period; `null` is a missing datapoint and propagates like CloudWatch's gaps. */
export const evaluateExpression = (
  expression: Expression,
  lookup: (id: string) => number | null,
): number | null => {
  const evaluate = (node: Expression): Value => {
    switch (node.kind) {
      case 'number':
        return node.value;
      case 'id':
        return lookup(node.id);
      case 'list':
        return node.items.map((item) => scalar(evaluate(item)));
      case 'negate': {
        const value = scalar(evaluate(node.operand));
        return value === null ? null : -value;
      }
      case 'binary': {
        const left = scalar(evaluate(node.left));
        const right = scalar(evaluate(node.right));
        if (left === null || right === null) return null;
        if (node.operator === '+') return left + right;
        if (node.operator === '-') return left - right;
        if (node.operator === '*') return left * right;
        return finite(left / right);
      }
      case 'call': {
        const args = node.args.map(evaluate);
        if (node.name === 'FILL') {
          const [value, fill] = args;
          if (args.length !== 2 || value === undefined || fill === undefined) {
            throw new MetricMathError('FILL takes two arguments');
          }
          return scalar(value) ?? scalar(fill);
        }
        if (node.name === 'ABS') {
          const value = args.length === 1 && args[0] !== undefined ? scalar(args[0]) : null;
          return value === null ? null : Math.abs(value);
        }
        const values = args
          .flatMap((arg) => (Array.isArray(arg) ? arg : [arg]))
          .filter((value): value is number => typeof value === 'number');
        if (values.length === 0) return null;
        if (node.name === 'SUM') return values.reduce((a, b) => a + b, 0);
        if (node.name === 'AVG') return values.reduce((a, b) => a + b, 0) / values.length;
        if (node.name === 'MIN') return Math.min(...values);
        return Math.max(...values);
      }
    }
  };
  return scalar(evaluate(expression));
};
