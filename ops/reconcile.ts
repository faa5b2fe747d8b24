import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeExecutionCommand, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';

/**
 * Starts the reconciliation flow (issue 11 item 1) for a window, by whichever entry point the stack
 * outputs: a state machine (started, then followed until it ends) or a function (invoked). The input
 * is `{ "from": <ISO time>, "to": <ISO time> }`; the run reports its differences as exceptions and
 * metrics, which `revbridge exceptions list` then shows.
 */

export type ReconcileEntry = { readonly stateMachineArn: string } | { readonly functionName: string };

export interface ReconcileRun {
  readonly via: 'state-machine' | 'function';
  readonly status: string;
  readonly executionArn?: string;
  /** What the run answered (its summary), as JSON. */
  readonly output?: unknown;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const startReconciliation = async (
  clients: { sfn: SFNClient; lambda: LambdaClient },
  entry: ReconcileEntry,
  window: { from: Date; to: Date },
  options: { pollMs?: number; timeoutMs?: number } = {},
): Promise<ReconcileRun> => {
  if (!(window.from < window.to)) throw new Error('--from must be before --to');
  const input = JSON.stringify({ from: window.from.toISOString(), to: window.to.toISOString() });
  if ('functionName' in entry) {
    const answer = await clients.lambda.send(
      new InvokeCommand({ FunctionName: entry.functionName, Payload: new TextEncoder().encode(input) }),
    );
    const text = answer.Payload ? new TextDecoder().decode(answer.Payload) : '';
    return {
      via: 'function',
      status: answer.FunctionError ? `FAILED (${answer.FunctionError})` : 'SUCCEEDED',
      ...(text ? { output: JSON.parse(text) as unknown } : {}),
    };
  }
  // One run per window and minute: a second start in the same minute is the same execution.
  const name =
    `ops-${window.from.toISOString()}-${window.to.toISOString()}-${new Date().toISOString().slice(0, 16)}`
      .replace(/[^A-Za-z0-9_-]/g, '')
      .slice(0, 80);
  const { executionArn } = await clients.sfn.send(
    new StartExecutionCommand({ stateMachineArn: entry.stateMachineArn, name, input }),
  );
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  for (;;) {
    const execution = await clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING' || Date.now() > deadline) {
      return {
        via: 'state-machine',
        status: String(execution.status),
        ...(executionArn ? { executionArn } : {}),
        ...(execution.output ? { output: JSON.parse(execution.output) as unknown } : {}),
      };
    }
    await sleep(options.pollMs ?? 2000);
  }
};
