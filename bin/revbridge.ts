#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, loadStageConfig } from '../lib/config';
import { RevbridgeStack } from '../lib/stacks/revbridge-stack';

const app = new App();
const stage = String(app.node.tryGetContext('stage') ?? app.node.tryGetContext('revbridge:stage') ?? 'dev');
try {
  const config = loadStageConfig(stage, app.node.tryGetContext('revbridge:stages'));
  // Environment-agnostic on purpose: synth needs no credentials and makes no lookups.
  new RevbridgeStack(app, `revbridge-${config.stage}`, {
    config,
    description: `revbridge (${config.stage}): CRM, billing and ERP kept in step for quote-to-cash`,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  app.synth();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
