/** Every figure the bench prints, beside its budget; the bench exits 1 when one is over. */

export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly budget: number;
  readonly within: boolean;
  readonly note?: string;
}

export const figures: Figure[] = [];

export const record = (
  name: string,
  value: number,
  unit: string,
  budget: number,
  lowerIsBetter: boolean,
  note?: string,
): void => {
  const within = lowerIsBetter ? value <= budget : value >= budget;
  figures.push({ name, value, unit, budget, within, ...(note ? { note } : {}) });
  const relation = lowerIsBetter ? '≤' : '≥';
  const digits = value < 10 ? (value < 1 ? 2 : 1) : 0;
  process.stdout.write(
    `${within ? 'ok  ' : 'OVER'}  ${name.padEnd(52)} ${value.toFixed(digits).padStart(8)} ${unit.padEnd(8)} budget ${relation} ${budget} ${unit}${note ? `  (${note})` : ''}\n`,
  );
};

export const info = (line: string): void => {
  process.stdout.write(`      ${line}\n`);
};

export const median = (values: readonly number[]): number => percentile(values, 0.5);

export const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
};
