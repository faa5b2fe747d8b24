import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The synthesized CloudFormation template, as `cdk synth` wrote it to the cloud assembly. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly Condition?: string;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Conditions?: Record<string, unknown>;
  readonly Parameters?: Record<string, { Default?: unknown }>;
  readonly Outputs?: Record<string, { Value: unknown; Description?: string; Condition?: string }>;
  readonly Description?: string;
}

export interface LoadedTemplate {
  readonly stackName: string;
  readonly assemblyDir: string;
  readonly template: CfnTemplate;
}

interface Manifest {
  artifacts?: Record<string, { type?: string; properties?: { templateFile?: string } }>;
}

/** Reads the one stack of the cloud assembly (`cdk.out`), failing with what to run when it is missing. */
export const loadTemplate = (assemblyDir: string, stackName?: string): LoadedTemplate => {
  const manifestPath = path.join(assemblyDir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new Error(`no cloud assembly at ${assemblyDir}: run \`npx cdk synth\` first`);
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  const stacks = Object.entries(manifest.artifacts ?? {}).filter(
    ([, artifact]) => artifact.type === 'aws:cloudformation:stack',
  );
  const chosen = stackName ? stacks.find(([name]) => name === stackName) : stacks[0];
  if (!chosen) {
    throw new Error(
      `stack ${stackName ?? '(any)'} not in ${manifestPath}; have: ${stacks.map(([name]) => name).join(', ') || 'none'}`,
    );
  }
  const [name, artifact] = chosen;
  const templateFile = artifact.properties?.templateFile ?? `${name}.template.json`;
  const template = JSON.parse(readFileSync(path.join(assemblyDir, templateFile), 'utf8')) as CfnTemplate;
  return { stackName: name, assemblyDir, template };
};

export const cdkPath = (resource: CfnResource): string | undefined => {
  const value = resource.Metadata?.['aws:cdk:path'];
  return typeof value === 'string' ? value : undefined;
};

/** The construct id a resource was declared with (`revbridge-dev/StripeWebhookSecret/Resource` → `StripeWebhookSecret`). */
export const constructId = (resource: CfnResource, logicalId: string): string => {
  const parts = cdkPath(resource)?.split('/') ?? [];
  const meaningful = parts.filter((part) => part !== 'Resource' && part !== 'Default');
  return meaningful[meaningful.length - 1] ?? logicalId;
};
