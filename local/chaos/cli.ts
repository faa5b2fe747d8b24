// Lambda runs the functions on Node 22; the AWS SDK's notice about this process's Node is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { parseArgs } from 'node:util';
import { LocalRuntime } from '../runtime/runtime';
import { ensureSynthesized } from '../runtime/synth';
import { chaosFailed, formatReport, runChaos } from './run';

/** `npm run chaos -- --flows 10000 --seed 1`: the run, then one report; exit 1 on any loss or duplicate. */
const main = async () => {
  const { values } = parseArgs({
    options: { flows: { type: 'string', default: '2000' }, seed: { type: 'string', default: '1' } },
  });
  const flows = Number(values.flows);
  const seed = Number(values.seed);
  if (!Number.isInteger(flows) || flows <= 0 || !Number.isInteger(seed)) {
    process.stderr.write('usage: npm run chaos -- --flows <n> --seed <n>\n');
    process.exit(2);
  }
  if (ensureSynthesized()) process.stdout.write('synthesized cdk.out\n');
  const runtime = await LocalRuntime.start({ ephemeralPorts: true, seed, waitTimeScale: 0.01 });
  let failed = true;
  try {
    const report = await runChaos({
      runtime,
      flows,
      seed,
      log: (line) => process.stdout.write(`  … ${line}\n`),
    });
    process.stdout.write(`${formatReport(report)}\n`);
    failed = chaosFailed(report);
  } finally {
    await runtime.stop();
  }
  process.exit(failed ? 1 : 0);
};

void main();
