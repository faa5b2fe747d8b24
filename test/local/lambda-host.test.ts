import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type FunctionSpec, LambdaHost } from '../../local/runtime/lambda-host';

const dir = mkdtempSync(path.join(tmpdir(), 'revbridge-lambda-'));
const file = (name: string, source: string) => {
  const target = path.join(dir, name);
  writeFileSync(target, source);
  return target;
};

const echo = file(
  'echo.mjs',
  `const coldAt = Date.now();
   export const handler = async (event, context) => {
     console.log(JSON.stringify({ message: 'seen', who: process.env.WHO }));
     if (event.fail) { const e = new Error('nope'); e.name = 'PermanentError'; throw e; }
     if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
     return { who: process.env.WHO, coldAt, remaining: context.getRemainingTimeInMillis() > 0, name: context.functionName };
   };`,
);

const spec = (name: string, who: string, timeoutSeconds = 2): FunctionSpec => ({
  logicalId: name,
  name,
  arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
  file: echo,
  exportName: 'handler',
  environment: { WHO: who },
  timeoutSeconds,
  memoryMb: 128,
  logGroupName: `/aws/lambda/${name}`,
  maxConcurrency: 2,
});

describe('the local Lambda host', () => {
  const lines: string[] = [];
  const host = new LambdaHost([spec('alpha', 'A'), spec('beta', 'B'), spec('slow', 'S', 1.5)], {
    onOutput: (fn, output) => lines.push(...output.map((line) => `${fn.name}: ${line}`)),
  });
  afterAll(() => host.close());

  it('gives each function only its own environment and a Lambda context', async () => {
    const [a, b] = await Promise.all([host.invoke('alpha', {}), host.invoke('beta', {})]);
    expect(a).toMatchObject({ ok: true, result: { who: 'A', remaining: true, name: 'alpha' } });
    expect(b).toMatchObject({ ok: true, result: { who: 'B' } });
    expect(lines).toEqual(
      expect.arrayContaining(['alpha: {"message":"seen","who":"A"}', 'beta: {"message":"seen","who":"B"}']),
    );
  });

  it('reuses a warm environment: module state survives between invocations', async () => {
    const first = await host.invoke('alpha', {});
    const second = await host.invoke('arn:aws:lambda:us-east-1:000000000000:function:alpha', {});
    expect(first.ok && second.ok && (first.result as { coldAt: number }).coldAt).toBe(
      second.ok && (second.result as { coldAt: number }).coldAt,
    );
  });

  it('reports a thrown error by its name, as Step Functions matches it', async () => {
    const outcome = await host.invoke('alpha', { fail: true });
    expect(outcome).toMatchObject({
      ok: false,
      error: { errorType: 'PermanentError', errorMessage: 'nope' },
    });
    await expect(host.invokeOrThrow('alpha', { fail: true })).rejects.toMatchObject({
      name: 'PermanentError',
    });
  });

  it('kills an invocation that outlives its timeout, and starts a fresh environment next time', async () => {
    const outcome = await host.invoke('slow', { sleepMs: 20_000 });
    expect(outcome).toMatchObject({ ok: false, error: { errorType: 'Sandbox.Timedout' } });
    const next = await host.invoke('slow', {});
    expect(next.ok).toBe(true);
    const slow = host.snapshot().find((fn) => fn.name === 'slow');
    expect(slow).toMatchObject({ timeouts: 1, coldStarts: 2 });
  });

  it('refuses a function that is not in the template', async () => {
    await expect(host.invoke('missing', {})).rejects.toThrow(/not in the template/);
  });
});
