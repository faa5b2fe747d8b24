import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PermanentError, TransientError } from '../../shared/errors';

/**
 * Errors of StartExecution that a retry cannot clear: the request itself is wrong.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html#API_StartExecution_Errors
 */
const PERMANENT = new Set([
  'InvalidArn',
  'InvalidExecutionInput',
  'InvalidName',
  'StateMachineDeleting',
  'StateMachineDoesNotExist',
  'ValidationException',
]);

/**
 * Starts a Standard execution by name. A name is unique per state machine for 90 days after the
 * execution closes, so `ExecutionAlreadyExists` means this start already happened: for the caller,
 * that is success (`already-started`), which is what makes a duplicate event harmless.
 */
export const stepFunctionsStarter =
  (client: SFNClient, stateMachineArn: string) =>
  async (name: string, input: string): Promise<'started' | 'already-started'> => {
    try {
      await client.send(new StartExecutionCommand({ stateMachineArn, name, input }));
      return 'started';
    } catch (error) {
      const code = error instanceof Error ? error.name : 'UnknownError';
      if (code === 'ExecutionAlreadyExists') return 'already-started';
      if (PERMANENT.has(code)) throw new PermanentError('StartExecution refused', { code }, { cause: error });
      throw new TransientError('StartExecution failed', { code }, { cause: error });
    }
  };
