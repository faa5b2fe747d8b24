import { messageSummary, stateGraph, stateOutcomes } from '../../local/console/model';
import type { HistoryEvent } from '../../local/stepfunctions/engine';

let id = 0;
const event = (type: string, name?: string): HistoryEvent => {
  id += 1;
  return { id, previousEventId: id - 1, timestamp: id, type, ...(name ? { details: { name } } : {}) };
};

describe('the console model', () => {
  it('reads the states and their Next, Choice and Catch edges from a definition', () => {
    const graph = stateGraph(
      JSON.stringify({
        StartAt: 'A',
        States: {
          A: { Type: 'Task', Next: 'B', Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Undo' }] },
          B: { Type: 'Choice', Choices: [{ Next: 'C' }], Default: 'Undo' },
          C: { Type: 'Succeed' },
          Undo: { Type: 'Fail' },
        },
      }),
    );
    expect(graph.startAt).toBe('A');
    expect(graph.states.find((s) => s.name === 'A')?.edges).toEqual([
      { to: 'B', kind: 'next' },
      { to: 'Undo', kind: 'catch' },
    ]);
    expect(graph.states.find((s) => s.name === 'B')?.edges.map((e) => e.to)).toEqual(['Undo', 'C']);
  });

  it('marks the state whose task failed red, and a task that succeeded on a retry green', () => {
    const outcomes = stateOutcomes([
      event('ExecutionStarted'),
      event('TaskStateEntered', 'Retried'),
      event('TaskFailed'),
      event('TaskSucceeded'),
      event('TaskStateExited', 'Retried'),
      event('TaskStateEntered', 'Broken'),
      event('TaskFailed'),
      event('PassStateEntered', 'Compensate'),
      event('PassStateExited', 'Compensate'),
      event('ExecutionFailed'),
    ]);
    expect(outcomes).toEqual({ Retried: 'succeeded', Broken: 'failed', Compensate: 'succeeded' });
  });

  it('shows a message by its envelope ids and type, never its data', () => {
    const body = JSON.stringify({
      'detail-type': 'billing.invoice.finalized',
      detail: { id: 'evt_1', correlationId: 'in_1', data: { customer: { email: 'ap@example.com' } } },
    });
    expect(messageSummary(body)).toEqual({
      type: 'billing.invoice.finalized',
      eventId: 'evt_1',
      correlationId: 'in_1',
    });
    expect(messageSummary('not json').type).toMatch(/unreadable/);
  });
});
