import type { HistoryEvent } from '../stepfunctions/engine';

/**
 * What the console shows, computed from the running runtime. Nothing here carries a payload: a DLQ
 * message shows the canonical envelope's ids and type (what the logs show), never its `data`.
 */

export interface StateNode {
  readonly name: string;
  readonly type: string;
  /** Where the state goes next: `Next`, choices, `Default`, and `Catch` (marked). */
  readonly edges: readonly { to: string; kind: 'next' | 'catch' }[];
}

/** The top-level states of an ASL definition with their edges, in definition order. */
export const stateGraph = (definition: string): { startAt: string; states: StateNode[] } => {
  const parsed = JSON.parse(definition) as {
    StartAt?: string;
    States?: Record<string, Record<string, unknown>>;
  };
  const states = Object.entries(parsed.States ?? {}).map(([name, state]) => {
    const edges: { to: string; kind: 'next' | 'catch' }[] = [];
    if (typeof state.Next === 'string') edges.push({ to: state.Next, kind: 'next' });
    if (typeof state.Default === 'string') edges.push({ to: state.Default, kind: 'next' });
    for (const choice of (state.Choices ?? []) as { Next?: string }[]) {
      if (choice.Next) edges.push({ to: choice.Next, kind: 'next' });
    }
    for (const handler of (state.Catch ?? []) as { Next?: string }[]) {
      if (handler.Next) edges.push({ to: handler.Next, kind: 'catch' });
    }
    return { name, type: String(state.Type ?? 'Task'), edges };
  });
  return { startAt: parsed.StartAt ?? states[0]?.name ?? '', states };
};

export type StateOutcome = 'succeeded' | 'failed' | 'running';

/**
 * How each state of one execution went, from its history: the last attempt counts (a retried task
 * that then succeeded is green), a state whose task failed or that the execution failed in is red.
 */
export const stateOutcomes = (history: readonly HistoryEvent[]): Record<string, StateOutcome> => {
  const outcomes: Record<string, StateOutcome> = {};
  let current: string | undefined;
  for (const event of history) {
    const name = typeof event.details?.name === 'string' ? event.details.name : undefined;
    if (event.type.endsWith('StateEntered') && name) {
      current = name;
      outcomes[name] = 'running';
    } else if (event.type.endsWith('StateExited') && name) {
      if (outcomes[name] !== 'failed') outcomes[name] = 'succeeded';
    } else if (current && /^(Task|LambdaFunction)Succeeded$/.test(event.type)) {
      outcomes[current] = 'succeeded';
    } else if (current && /^Execution(Failed|TimedOut|Aborted)$/.test(event.type)) {
      // The execution ended in the state still running (a Fail state, an uncaught error).
      if (outcomes[current] === 'running') outcomes[current] = 'failed';
    } else if (current && /(Failed|TimedOut)$/.test(event.type)) {
      outcomes[current] = 'failed';
    }
  }
  return outcomes;
};

/** The envelope fields of a message shown (shared with the operator CLI). */
export { messageSummary } from '../../ops/dead-letters';
