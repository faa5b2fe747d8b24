/** Plain text tables, as `npm run local -- status` and `npx revbridge` print them. */

export type Row = Record<string, unknown>;

export const table = (title: string, rows: readonly object[], columns: readonly string[]): string => {
  if (rows.length === 0) return `${title}: none\n`;
  const text = (value: unknown): string =>
    value && typeof value === 'object'
      ? Object.entries(value as Record<string, unknown>)
          .map(([key, inner]) => `${key}=${String(inner)}`)
          .join(',')
      : String(value ?? '');
  const cells = rows.map((row) => columns.map((column) => text((row as Row)[column])));
  const widths = columns.map((column, index) =>
    Math.max(column.length, ...cells.map((line) => (line[index] ?? '').length)),
  );
  const line = (values: readonly string[]) =>
    values
      .map((value, index) => value.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();
  return [`${title}:`, `  ${line(columns)}`, ...cells.map((values) => `  ${line(values)}`), ''].join('\n');
};
