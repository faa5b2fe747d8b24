import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BillingMeter } from '../aws/billing-meter';

/** A function as the template declares it, with its environment already resolved. */
export interface FunctionSpec {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** The bundled entry file (`<cdk.out>/<asset>/index.mjs`). */
  readonly file: string;
  readonly exportName: string;
  readonly environment: Record<string, string>;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** @default 'x86_64' */
  readonly architecture?: 'arm64' | 'x86_64';
  readonly logGroupName: string;
  /** Execution environments kept at most (Lambda's concurrency for this function locally). */
  readonly maxConcurrency: number;
  /** Local TCP ports (as strings) that also answer on a Unix socket: connections to them use it. */
  readonly localSockets?: Readonly<Record<string, string>>;
}

export type InvokeResult =
  | { ok: true; result: unknown; durationMs: number }
  | { ok: false; error: { errorType: string; errorMessage: string; stack: string[] }; durationMs: number };

export interface LambdaHostOptions {
  /** What a function wrote to stdout or stderr during one invocation, as whole lines, in order. */
  readonly onOutput: (fn: FunctionSpec, lines: readonly string[]) => void;
  /** Milliseconds after which to kill an invocation's environment mid-run (a seeded fault), or undefined. */
  readonly crashAfterMs?: (fn: FunctionSpec) => number | undefined;
  /** Counts each invocation's request and GB-seconds (init included on a cold start). @default none */
  readonly meter?: BillingMeter;
}

interface Environment {
  readonly worker: Worker;
  busy: boolean;
  /** Whether this environment's init phase was billed (with its first invocation). */
  initBilled?: boolean;
  /** CPU time of the environment's thread, as it last reported it. */
  cpuMs?: number;
  pending?: { resolve: (result: InvokeResult) => void; timer: NodeJS.Timeout; started: number } | undefined;
}

interface FunctionState {
  readonly spec: FunctionSpec;
  readonly environments: Environment[];
  readonly waiting: (() => void)[];
  invocations: number;
  errors: number;
  coldStarts: number;
  timeouts: number;
  /** CPU of this function's ended environments, as they last reported it. */
  endedCpuMs: number;
  totalDurationMs: number;
  lastInitMs: number | null;
}

const WORKER_FILE = path.join(__dirname, 'lambda-worker.mjs');

/**
 * Runs the functions in-process like Lambda does: each execution environment is a worker thread with
 * the function's own environment variables and module cache, handling one invocation at a time;
 * environments are created on demand up to the function's concurrency and reused while warm; an
 * invocation past the timeout kills its environment, as Lambda does.
 */
export class LambdaHost {
  private readonly functions = new Map<string, FunctionState>();
  private closed = false;

  constructor(
    specs: readonly FunctionSpec[],
    private readonly options: LambdaHostOptions,
  ) {
    for (const spec of specs) {
      const state: FunctionState = {
        spec,
        environments: [],
        waiting: [],
        invocations: 0,
        errors: 0,
        coldStarts: 0,
        timeouts: 0,
        endedCpuMs: 0,
        totalDurationMs: 0,
        lastInitMs: null,
      };
      for (const key of [spec.name, spec.arn, spec.logicalId]) this.functions.set(key, state);
    }
  }

  has(nameOrArn: string): boolean {
    return this.functions.has(this.key(nameOrArn));
  }

  spec(nameOrArn: string): FunctionSpec {
    return this.state(nameOrArn).spec;
  }

  /** Invokes synchronously (RequestResponse): resolves with the result or the function error. */
  async invoke(nameOrArn: string, event: unknown): Promise<InvokeResult> {
    if (this.closed) throw new Error('the local runtime is stopping');
    const state = this.state(nameOrArn);
    const environment = await this.acquire(state);
    state.invocations += 1;
    try {
      return await this.run(state, environment, event);
    } finally {
      environment.busy = false;
      state.waiting.shift()?.();
    }
  }

  /** Invokes and throws the function error as an Error whose `name` is the error type (for Step Functions). */
  async invokeOrThrow(nameOrArn: string, event: unknown): Promise<unknown> {
    const outcome = await this.invoke(nameOrArn, event);
    if (outcome.ok) return outcome.result;
    const error = new Error(outcome.error.errorMessage);
    error.name = outcome.error.errorType;
    throw error;
  }

  snapshot() {
    const seen = new Set<FunctionState>();
    const out: Record<string, unknown>[] = [];
    for (const state of this.functions.values()) {
      if (seen.has(state)) continue;
      seen.add(state);
      out.push({
        name: state.spec.name,
        logicalId: state.spec.logicalId,
        invocations: state.invocations,
        errors: state.errors,
        timeouts: state.timeouts,
        coldStarts: state.coldStarts,
        lastInitMs: state.lastInitMs === null ? null : Math.round(state.lastInitMs),
        averageDurationMs: state.invocations ? Math.round(state.totalDurationMs / state.invocations) : null,
        environments: state.environments.length,
      });
    }
    return out;
  }

  /**
   * CPU seconds of the execution environments' threads (each reports its own thread's time with
   * every result): where the functions' CPU goes, apart from the runtime's. Ended environments keep
   * counting with what they last reported.
   */
  cpuSeconds(): number {
    let ms = 0;
    for (const seconds of Object.values(this.cpuSecondsByFunction())) ms += seconds * 1000;
    return ms / 1000;
  }

  /** The same CPU seconds, by function logical id. */
  cpuSecondsByFunction(): Record<string, number> {
    const out: Record<string, number> = {};
    const seen = new Set<FunctionState>();
    for (const state of this.functions.values()) {
      if (seen.has(state)) continue;
      seen.add(state);
      let ms = state.endedCpuMs;
      for (const env of state.environments) ms += env.cpuMs ?? 0;
      out[state.spec.logicalId] = ms / 1000;
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = new Set<Worker>();
    for (const state of this.functions.values())
      for (const env of state.environments) workers.add(env.worker);
    await Promise.all([...workers].map((worker) => worker.terminate()));
  }

  private key(nameOrArn: string): string {
    // Qualified ARNs and `function:name:alias` forms resolve to the function itself.
    const match = nameOrArn.match(/^arn:aws:lambda:[^:]+:[^:]+:function:([^:]+)/);
    return match?.[1] ?? nameOrArn;
  }

  private state(nameOrArn: string): FunctionState {
    const state = this.functions.get(this.key(nameOrArn));
    if (!state) throw new Error(`function ${nameOrArn} is not in the template`);
    return state;
  }

  private async acquire(state: FunctionState): Promise<Environment> {
    for (;;) {
      const idle = state.environments.find((env) => !env.busy);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      if (state.environments.length < state.spec.maxConcurrency) {
        const created = this.start(state);
        created.busy = true;
        return created;
      }
      await new Promise<void>((resolve) => state.waiting.push(resolve));
    }
  }

  private start(state: FunctionState): Environment {
    const { spec } = state;
    const worker = new Worker(WORKER_FILE, {
      env: spec.environment,
      // The function's memory size caps its heap, as Lambda's caps the environment.
      resourceLimits: { maxOldGenerationSizeMb: Math.max(128, spec.memoryMb) },
      workerData: {
        file: spec.file,
        exportName: spec.exportName,
        functionName: spec.name,
        functionArn: spec.arn,
        memoryMb: spec.memoryMb,
        logGroupName: spec.logGroupName,
        localSockets: spec.localSockets ?? {},
      },
    });
    const environment: Environment = { worker, busy: false };
    state.coldStarts += 1;
    worker.on(
      'message',
      (message: {
        ok: boolean;
        result?: unknown;
        error?: InvokeResult;
        durationMs?: number;
        initMs?: number;
        cpuMs?: number;
        output?: string;
      }) => {
        if (message.cpuMs !== undefined) environment.cpuMs = message.cpuMs;
        if (message.output) {
          this.options.onOutput(
            spec,
            message.output.split('\n').filter((line) => line !== ''),
          );
        }
        const pending = environment.pending;
        if (!pending) return;
        clearTimeout(pending.timer);
        environment.pending = undefined;
        if (message.initMs !== undefined) state.lastInitMs = message.initMs;
        const durationMs = message.durationMs ?? performance.now() - pending.started;
        this.bill(state, environment, durationMs, message.initMs);
        pending.resolve(
          message.ok
            ? { ok: true, result: message.result, durationMs }
            : { ok: false, error: message.error as never, durationMs },
        );
      },
    );
    const fail = (errorType: string, errorMessage: string) => {
      const pending = environment.pending;
      environment.pending = undefined;
      const index = state.environments.indexOf(environment);
      if (index >= 0) {
        state.environments.splice(index, 1);
        state.endedCpuMs += environment.cpuMs ?? 0;
      }
      if (pending) {
        clearTimeout(pending.timer);
        this.bill(state, environment, performance.now() - pending.started);
        pending.resolve({
          ok: false,
          error: { errorType, errorMessage, stack: [] },
          durationMs: performance.now() - pending.started,
        });
      }
    };
    worker.on('error', (error) => fail('Runtime.ExitError', error.message));
    worker.on('exit', (code) => fail('Runtime.ExitError', `execution environment exited with code ${code}`));
    state.environments.push(environment);
    return environment;
  }

  private bill(state: FunctionState, environment: Environment, durationMs: number, initMs = 0): void {
    const { spec } = state;
    this.options.meter?.lambdaInvocation(
      spec.name,
      spec.memoryMb,
      spec.architecture ?? 'x86_64',
      durationMs,
      environment.initBilled ? 0 : initMs,
    );
    environment.initBilled = true;
  }

  private run(state: FunctionState, environment: Environment, event: unknown): Promise<InvokeResult> {
    const timeoutMs = state.spec.timeoutSeconds * 1000;
    return new Promise<InvokeResult>((resolve) => {
      const started = performance.now();
      const timer = setTimeout(() => {
        state.timeouts += 1;
        const pending = environment.pending;
        environment.pending = undefined;
        const index = state.environments.indexOf(environment);
        if (index >= 0) {
          state.environments.splice(index, 1);
          state.endedCpuMs += environment.cpuMs ?? 0;
        }
        void environment.worker.terminate();
        this.bill(state, environment, timeoutMs);
        pending?.resolve({
          ok: false,
          error: {
            errorType: 'Sandbox.Timedout',
            errorMessage: `Task timed out after ${state.spec.timeoutSeconds.toFixed(2)} seconds`,
            stack: [],
          },
          durationMs: performance.now() - started,
        });
      }, timeoutMs);
      environment.pending = {
        timer,
        started,
        resolve: (result) => {
          state.totalDurationMs += result.durationMs;
          if (!result.ok) state.errors += 1;
          resolve(result);
        },
      };
      environment.worker.postMessage({ id: randomUUID(), requestId: randomUUID(), event, timeoutMs });
      const crashIn = this.options.crashAfterMs?.(state.spec);
      if (crashIn !== undefined) {
        // The environment dies under the invocation, as when Lambda's host fails or the process is
        // killed: whatever the handler had done so far stays done, and the caller sees an ExitError.
        const pending = environment.pending;
        setTimeout(() => {
          if (environment.pending === pending) void environment.worker.terminate();
        }, crashIn);
      }
    });
  }
}
