// Lambda runs these functions on Node 22; the notice that the AWS SDK will drop Node 20 in 2027 is
// about this local process, and `engines` in package.json already says so.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { DEFAULT_PORTS, portFromEnv } from './config';
import { LocalRuntime } from './runtime/runtime';
import { renderStatus } from './runtime/status-table';
import { ensureSynthesized } from './runtime/synth';

/**
 * `npm run local`            start the synthesized stack offline, until Ctrl-C
 * `npm run local -- status`  print the running runtime's state as tables
 * `npm run local -- status <id>`  the same, with the trail of a deal, invoice or customer id
 */
const main = async (): Promise<void> => {
  const command = process.argv[2] ?? 'start';
  const apiPort = portFromEnv('REVBRIDGE_PORT', DEFAULT_PORTS.api);
  if (command === 'status') {
    const trailId = process.argv.slice(3).find((arg) => !arg.startsWith('--'));
    const query = trailId ? `?trail=${encodeURIComponent(trailId)}` : '';
    const response = await fetch(`http://127.0.0.1:${apiPort}/_local/status${query}`).catch(() => undefined);
    if (!response?.ok) {
      process.stderr.write(`no local runtime answers on port ${apiPort}: start it with \`npm run local\`\n`);
      process.exit(1);
    }
    process.stdout.write(renderStatus((await response.json()) as never));
    return;
  }
  if (command !== 'start') {
    process.stderr.write(
      `unknown command "${command}": use \`npm run local\` or \`npm run local -- status [<id to trace>]\`\n`,
    );
    process.exit(2);
  }
  if (ensureSynthesized()) process.stdout.write('synthesized the stack (cdk.out)\n');
  const runtime = await LocalRuntime.start({
    apiPort,
    awsPort: portFromEnv('REVBRIDGE_AWS_PORT', DEFAULT_PORTS.aws),
    twinPorts: {
      stripe: portFromEnv('REVBRIDGE_STRIPE_PORT', DEFAULT_PORTS.stripe),
      netsuite: portFromEnv('REVBRIDGE_NETSUITE_PORT', DEFAULT_PORTS.netsuite),
      salesforce: portFromEnv('REVBRIDGE_SALESFORCE_PORT', DEFAULT_PORTS.salesforce),
      hubspot: portFromEnv('REVBRIDGE_HUBSPOT_PORT', DEFAULT_PORTS.hubspot),
    },
    log: (line) => process.stdout.write(`  ${line}\n`),
  });
  process.stdout.write(renderStatus(runtime.status() as never));
  process.stdout.write(
    `\nrevbridge is running locally. Webhooks: ${runtime.apiUrl}/webhooks/<vendor>. Ctrl-C stops it.\n`,
  );
  const stop = async () => {
    process.stdout.write('\nstopping...\n');
    await runtime.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
};

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
