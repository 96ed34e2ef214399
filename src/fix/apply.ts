import { readFile, writeFile } from 'node:fs/promises';
import {
  DeleteFunctionConcurrencyCommand,
  GetFunctionConcurrencyCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import { type AwsConnection, awsClientConfig, toRemoteError } from '../common/aws.js';
import { ThrottlescopeError } from '../common/errors.js';
import type { ConcurrencyChange } from './recommend.js';

/** What `fix --apply` changed, so `fix --rollback FILE` can put it back. */
export interface RollbackFile {
  kind: 'throttlescope-rollback';
  version: 1;
  createdAt: string;
  region: string;
  endpointUrl?: string | undefined;
  /** Reserved concurrency before the change (null = none), per function. */
  functions: { name: string; previous: number | null; applied: number | null }[];
}

export interface ApplyResult {
  dryRun: boolean;
  /** Before → after as read from AWS just now (before may differ from the diagnosis' view). */
  changes: ConcurrencyChange[];
  rollbackPath?: string | undefined;
}

async function lambdaClient(conn: AwsConnection): Promise<{ client: LambdaClient; region: string }> {
  const config = await awsClientConfig(conn);
  return { client: new LambdaClient(config), region: config.region };
}

async function currentReserved(client: LambdaClient, name: string): Promise<number | null> {
  try {
    const r = await client.send(new GetFunctionConcurrencyCommand({ FunctionName: name }));
    return r.ReservedConcurrentExecutions ?? null;
  } catch (error) {
    throw toRemoteError(error, `GetFunctionConcurrency ${name}`);
  }
}

async function setReserved(client: LambdaClient, name: string, value: number | null): Promise<void> {
  try {
    if (value === null) await client.send(new DeleteFunctionConcurrencyCommand({ FunctionName: name }));
    else
      await client.send(
        new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: value }),
      );
  } catch (error) {
    const e = toRemoteError(error, `PutFunctionConcurrency ${name}=${value ?? 'none'}`);
    throw new ThrottlescopeError(
      (error as { name?: string }).name === 'InvalidParameterValueException' ? 'TS_FIX_REFUSED' : e.code,
      e.message,
      { cause: error },
    );
  }
}

/**
 * Reads the current values, and with `apply` writes the rollback file first and then the new
 * values. Without `apply` nothing is changed: the result is the diff a user reviews.
 */
export async function applyChanges(
  changes: readonly ConcurrencyChange[],
  options: AwsConnection & { apply: boolean; rollbackPath?: string | undefined; now?: number | undefined },
): Promise<ApplyResult> {
  const { client, region } = await lambdaClient(options);
  try {
    const live: ConcurrencyChange[] = [];
    for (const c of changes)
      live.push({ function: c.function, before: await currentReserved(client, c.function), after: c.after });
    if (!options.apply) return { dryRun: true, changes: live };
    const rollbackPath =
      options.rollbackPath ??
      `throttlescope-rollback-${new Date(options.now ?? Date.now()).toISOString().replace(/[:.]/g, '-')}.json`;
    const rollback: RollbackFile = {
      kind: 'throttlescope-rollback',
      version: 1,
      createdAt: new Date(options.now ?? Date.now()).toISOString(),
      region,
      endpointUrl: options.endpointUrl,
      functions: live.map((c) => ({ name: c.function, previous: c.before, applied: c.after })),
    };
    try {
      await writeFile(rollbackPath, `${JSON.stringify(rollback, null, 2)}\n`);
    } catch (error) {
      throw new ThrottlescopeError(
        'TS_OUTPUT_UNWRITABLE',
        `cannot write the rollback file ${rollbackPath}: ${(error as Error).message}; nothing was changed`,
      );
    }
    const done: ConcurrencyChange[] = [];
    for (const c of live) {
      try {
        await setReserved(client, c.function, c.after);
      } catch (error) {
        // Undo what this run already changed, so a refused value leaves the account as it was.
        for (const d of done.reverse())
          await setReserved(client, d.function, d.before).catch(() => undefined);
        throw error;
      }
      done.push(c);
    }
    return { dryRun: false, changes: live, rollbackPath };
  } finally {
    client.destroy();
  }
}

/** Restores the values recorded in a rollback file. */
export async function rollbackChanges(path: string, conn: AwsConnection = {}): Promise<ConcurrencyChange[]> {
  let file: RollbackFile;
  try {
    file = JSON.parse(await readFile(path, 'utf8')) as RollbackFile;
  } catch (error) {
    throw new ThrottlescopeError(
      'TS_FIX_ROLLBACK_INVALID',
      `cannot read rollback file ${path}: ${(error as Error).message}`,
    );
  }
  if (file.kind !== 'throttlescope-rollback' || !Array.isArray(file.functions)) {
    throw new ThrottlescopeError('TS_FIX_ROLLBACK_INVALID', `${path} is not a throttlescope rollback file`);
  }
  const { client } = await lambdaClient({
    region: conn.region ?? file.region,
    profile: conn.profile,
    endpointUrl: conn.endpointUrl ?? file.endpointUrl,
  });
  try {
    const restored: ConcurrencyChange[] = [];
    for (const f of file.functions) {
      const before = await currentReserved(client, f.name);
      await setReserved(client, f.name, f.previous);
      restored.push({ function: f.name, before, after: f.previous });
    }
    return restored;
  } finally {
    client.destroy();
  }
}
