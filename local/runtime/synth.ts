import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const SOURCES = ['bin', 'lib', 'lambdas', 'statemachines', 'cdk.json', 'package-lock.json'];

const newestMtime = (target: string): number => {
  if (!existsSync(target)) return 0;
  const stats = statSync(target);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
};

/**
 * Runs `cdk synth` when the cloud assembly is missing or older than the sources, so the local
 * runtime always runs what would deploy. Returns whether it synthesized.
 */
export const ensureSynthesized = (assemblyDir = path.join(PROJECT_ROOT, 'cdk.out')): boolean => {
  const manifest = path.join(assemblyDir, 'manifest.json');
  const built = existsSync(manifest) ? statSync(manifest).mtimeMs : 0;
  const sources = Math.max(...SOURCES.map((source) => newestMtime(path.join(PROJECT_ROOT, source))));
  if (built > sources) return false;
  const result = spawnSync(
    process.execPath,
    [require.resolve('aws-cdk/bin/cdk'), 'synth', '--quiet', '--output', assemblyDir],
    {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      // No version check or telemetry: both would reach for the network, which CI does not have.
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: 'true' },
    },
  );
  if (result.status !== 0) throw new Error(`cdk synth failed (exit ${result.status}); see the output above`);
  return true;
};
