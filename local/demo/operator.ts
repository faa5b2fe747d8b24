import { main } from '../../ops/cli';
import type { LocalRuntime } from '../runtime/runtime';

type CheckFn = (what: string, ok: boolean) => void;

/**
 * The demo's operator step: `npx revbridge` against the running runtime (found through its stack
 * outputs, as a deployed stage is): the trail of an invoice, the exceptions, the DLQs.
 */
export const operatorCli = async (
  runtime: LocalRuntime,
  check: CheckFn,
  print: { step: (text: string) => void; info: (text: string) => void },
  invoiceId: string,
): Promise<void> => {
  const run = async (...args: string[]) => {
    print.info(`$ npx revbridge ${args.join(' ')} --local`);
    let out = '';
    const code = await main([...args, '--endpoint', runtime.awsUrl], {
      env: {},
      out: (text) => {
        out += text;
      },
      err: (text) => {
        out += text;
      },
    });
    for (const line of out.trimEnd().split('\n')) print.info(`  ${line}`);
    return { code, out };
  };
  print.step('The operator CLI (npx revbridge), finding the stack through its outputs');
  const trail = await run('trail', invoiceId);
  check(
    `the trail of ${invoiceId} shows its NetSuite id and the event that posted it`,
    trail.code === 0 && trail.out.includes('netsuite') && trail.out.includes('billing.invoice.finalized'),
  );
  const exceptions = await run('exceptions', 'list', '--status', 'OPEN');
  check('no exception is open', exceptions.code === 0 && exceptions.out.startsWith('Exceptions (0)'));
  const dlqs = await run('dlq', 'list');
  check('the DLQs are listed', dlqs.code === 0 && dlqs.out.includes('PostInvoiceConsumer'));
};
