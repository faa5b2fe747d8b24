import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import {
  LogLevel,
  NodejsFunction,
  type NodejsFunctionProps,
  OutputFormat,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

export interface RevbridgeFunctionProps {
  /** Folder under `lambdas/` holding `handler.ts`, e.g. `post-invoice`. */
  readonly feature: string;
  /** Powertools service name (logs, metrics dimension). @default the feature */
  readonly serviceName?: string;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default 30 seconds */
  readonly timeout?: Duration;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Extra environment, merged over the defaults. @default none */
  readonly environment?: Record<string, string>;
  /** @default RemovalPolicy.DESTROY (logs of a deleted stack are not kept) */
  readonly logRemovalPolicy?: RemovalPolicy;
}

const ROOT = path.join(__dirname, '..', '..');

/** Dynamically imported by the SDK's default credential chain only when no credentials are in the environment. */
export const UNREACHED_CREDENTIAL_PROVIDERS = [
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-http',
  '@smithy/credential-provider-imds',
];

/**
 * The project's function defaults: nodejs22.x on arm64, a minified ESM bundle with source maps, a log
 * group with retention, JSON logs, active tracing and Powertools settings.
 *
 * The AWS SDK v3 is bundled rather than taken from the runtime: `npm run bench` measures both on every
 * run; bundled, the posting function loads in ~75 ms (527 KB) against ~150 ms with the SDK loaded
 * from node_modules (137 KB), and the SDK version is then the one the tests ran against.
 */
export class RevbridgeFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: RevbridgeFunctionProps) {
    const serviceName = props.serviceName ?? props.feature;
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    // An own role instead of AWSLambdaBasicExecutionRole: it may write to its own log group only.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `revbridge ${props.feature}`,
    });
    role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    const functionProps: NodejsFunctionProps = {
      role,
      entry: path.join(ROOT, 'lambdas', props.feature, 'handler.ts'),
      handler: 'handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: Tracing.ACTIVE,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      depsLockFilePath: path.join(ROOT, 'package-lock.json'),
      projectRoot: ROOT,
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        mainFields: ['module', 'main'],
        // The AWS SDK is bundled (ARCHITECTURE.md), all but the credential providers a Lambda function
        // never reaches: the default chain reads the credentials Lambda puts in the environment first,
        // and imports the SSO, profile, process, web-identity and container/instance-metadata providers
        // (and the STS/SSO clients behind them) only when those are absent. Left out, they cost no
        // bundle (~125 KB of every function's 690-810 KB) and no cold load; `npm run bench` measures both.
        externalModules: UNREACHED_CREDENTIAL_PROVIDERS,
        // CommonJS dependencies inside an ESM bundle still call require().
        banner:
          "import{createRequire as __rbCreateRequire}from'module';const require=__rbCreateRequire(import.meta.url);",
        logLevel: LogLevel.ERROR,
      },
      // No `--enable-source-maps`: Node then reads and parses the ~1 MB map when the bundle loads
      // (SyncSubscription's cold load 65 -> 76 ms) and maps every `error.stack` read. The map ships
      // in the asset (index.mjs.map) to resolve a logged stack against; mapped stacks at run time
      // take NODE_OPTIONS in this environment, and the local runtime follows it.
      environment: {
        POWERTOOLS_SERVICE_NAME: serviceName,
        POWERTOOLS_METRICS_NAMESPACE: 'RevBridge',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
    };
    super(scope, id, functionProps);
    Validations.of(this).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason:
        'nodejs22.x is the runtime revbridge targets and tests against; moving runtime is a deliberate, tested change.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions (https://docs.aws.amazon.com/xray/latest/devguide/security_iam_service-with-iam.html).',
    });
  }
}
