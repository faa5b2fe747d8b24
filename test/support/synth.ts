import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadStageConfig, type StageConfig } from '../../lib/config';
import { RevbridgeStack } from '../../lib/stacks/revbridge-stack';

const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

export const devConfig = (): StageConfig => loadStageConfig('dev', cdkJson.context['revbridge:stages']);

/**
 * Synthesizes the stack as `cdk synth` does, with cdk-nag's AwsSolutions checks, but without bundling
 * the functions (the template is the same; bundling is the bench's and the local runtime's business).
 */
export const synthStack = (config: StageConfig = devConfig()) => {
  const outdir = mkdtempSync(path.join(tmpdir(), 'revbridge-synth-'));
  const app = new App({ outdir, context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
  const stack = new RevbridgeStack(app, `revbridge-${config.stage}`, { config });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const template = Template.fromStack(stack);
  app.synth();
  return { app, stack, template, outdir };
};
