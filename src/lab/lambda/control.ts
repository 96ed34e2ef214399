import { basename, extname } from 'node:path';
import { ThrottleReason } from '../../common/concurrency/aws-limits.js';
import { type ConcurrencyPool, PoolConfigError } from '../../common/concurrency/pool.js';
import type { LabFunctionInfo, LabInvokeResult, LabLambdaControl } from '../backend.js';
import type { AsyncEventQueue } from './async-queue.js';
import type { LambdaRuntime } from './runtime.js';

/**
 * The Lambda control plane and Invoke, as the AWS endpoint (src/lab/aws-api) serves them.
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 */
export const InvokeLimits = {
  /** Synchronous request and response payloads. */
  syncPayloadBytes: 6_291_456,
  /** Asynchronous request payload (1 MB since October 2025; 256 KB before). */
  asyncPayloadBytes: 1_048_576,
} as const;

const EMPTY = Buffer.alloc(0);

export class LambdaControl implements LabLambdaControl {
  constructor(
    private readonly runtime: LambdaRuntime,
    private readonly pool: ConcurrencyPool,
    private readonly asyncQueues: ReadonlyMap<string, AsyncEventQueue>,
    private readonly region: string,
    private readonly accountId: string,
    private readonly lastModified: string,
  ) {}

  /** A function name, full or partial ARN (`123456789012:function:name`), with an optional `:$LATEST`. */
  resolve(nameOrArn: string): string | undefined {
    let name = nameOrArn;
    const m =
      /^(?:arn:aws[a-z-]*:lambda:([a-z0-9-]+):)?(?:(\d{12}):)?function:([A-Za-z0-9_-]+)(?::(\$LATEST))?$/.exec(
        nameOrArn,
      );
    if (m) {
      if (m[1] && m[1] !== this.region) return undefined;
      if (m[2] && m[2] !== this.accountId) return undefined;
      name = m[3]!;
    } else if (nameOrArn.endsWith(':$LATEST')) name = nameOrArn.slice(0, -':$LATEST'.length);
    return this.runtime.has(name) ? name : undefined;
  }

  private info(name: string): LabFunctionInfo {
    const spec = this.runtime.spec(name)!;
    const handler = spec.handler
      ? `${basename(spec.handler.module, extname(spec.handler.module))}.${spec.handler.export}`
      : 'synthetic.handler';
    return {
      name,
      arn: this.runtime.arnOf(name)!,
      runtime: 'nodejs20.x',
      handler,
      memoryMb: spec.memoryMb,
      timeoutSec: Math.round(spec.timeout / 1000),
      lastModified: this.lastModified,
      reserved: this.pool.reservedOf(name),
    };
  }

  listFunctions(): LabFunctionInfo[] {
    return this.runtime
      .functionNames()
      .sort()
      .map((n) => this.info(n));
  }

  getFunction(name: string): LabFunctionInfo | undefined {
    const n = this.resolve(name);
    return n === undefined ? undefined : this.info(n);
  }

  account(): {
    concurrentExecutionsLimit: number;
    unreservedConcurrentExecutions: number;
    functionCount: number;
  } {
    const s = this.pool.snapshot();
    return {
      concurrentExecutionsLimit: s.accountLimit,
      unreservedConcurrentExecutions: s.unreservedPoolSize,
      functionCount: s.functions.length,
    };
  }

  private must(name: string): string {
    const n = this.resolve(name);
    if (n === undefined) {
      throw new PoolConfigError(
        `Function not found: arn:aws:lambda:${this.region}:${this.accountId}:function:${name}`,
        'ResourceNotFoundException',
      );
    }
    return n;
  }

  putReserved(name: string, reserved: number): void {
    this.pool.setReserved(this.must(name), reserved);
  }

  deleteReserved(name: string): void {
    this.pool.setReserved(this.must(name), undefined);
  }

  async invoke(
    nameOrArn: string,
    payload: Buffer,
    invocationType: 'RequestResponse' | 'Event' | 'DryRun',
  ): Promise<LabInvokeResult> {
    const name = this.resolve(nameOrArn);
    if (name === undefined) {
      const arn = nameOrArn.startsWith('arn:')
        ? nameOrArn
        : `arn:aws:lambda:${this.region}:${this.accountId}:function:${nameOrArn}`;
      return awsError(404, 'ResourceNotFoundException', `Function not found: ${arn}`);
    }
    const limit = invocationType === 'Event' ? InvokeLimits.asyncPayloadBytes : InvokeLimits.syncPayloadBytes;
    if (payload.length > limit) {
      return awsError(
        413,
        'RequestTooLargeException',
        `Request must be smaller than ${limit} bytes for the ${invocationType === 'Event' ? 'InvokeAsync' : 'InvokeFunction'} operation`,
      );
    }
    let event: unknown = {};
    if (payload.length > 0) {
      try {
        event = JSON.parse(payload.toString('utf8'));
      } catch (e) {
        return awsError(
          400,
          'InvalidRequestContentException',
          `Could not parse request body into json: ${(e as Error).message}`,
        );
      }
    }
    if (invocationType === 'DryRun') return { statusCode: 204, payload: EMPTY };
    if (invocationType === 'Event') {
      this.asyncQueues.get(name)?.enqueue(event);
      return { statusCode: 202, payload: EMPTY };
    }
    const started = this.runtime.start(name, event, 'api');
    if (started.kind === 'not-found')
      return awsError(404, 'ResourceNotFoundException', `Function not found: ${name}`);
    if (started.kind === 'throttled') {
      return {
        ...awsError(429, 'TooManyRequestsException', 'Rate Exceeded.'),
        error: {
          type: 'TooManyRequestsException',
          message: 'Rate Exceeded.',
          reason: ThrottleReason[started.cause],
        },
      };
    }
    const outcome = await started.done;
    if (outcome.kind === 'error') {
      const body = {
        errorType: outcome.error.errorType,
        errorMessage: outcome.error.errorMessage,
        trace: outcome.error.trace ?? [],
      };
      return {
        statusCode: 200,
        payload: Buffer.from(JSON.stringify(body)),
        functionError: 'Unhandled',
        executedVersion: '$LATEST',
      };
    }
    if (outcome.bytes > InvokeLimits.syncPayloadBytes) {
      const body = {
        errorMessage: `Response payload size (${outcome.bytes} bytes) exceeded maximum allowed payload size (${InvokeLimits.syncPayloadBytes} bytes).`,
        errorType: 'Function.ResponseSizeTooLarge',
      };
      return {
        statusCode: 200,
        payload: Buffer.from(JSON.stringify(body)),
        functionError: 'Unhandled',
        executedVersion: '$LATEST',
      };
    }
    return { statusCode: 200, payload: Buffer.from(outcome.json, 'utf8'), executedVersion: '$LATEST' };
  }
}

function awsError(statusCode: number, type: string, message: string): LabInvokeResult {
  return {
    statusCode,
    payload: Buffer.from(JSON.stringify({ Type: 'User', message })),
    error: { type, message },
  };
}
