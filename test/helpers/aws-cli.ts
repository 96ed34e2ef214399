/**
 * Debian's aws CLI (package awscli, /usr/bin/aws) run against a lab endpoint, with no AWS config
 * of the machine's: the `aws` on PATH may be another install, so only /usr/bin/aws is used. Tests
 * skip when it is missing, unless THROTTLESCOPE_REQUIRE_TOOLS=1 (CI), where a missing CLI fails.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

export const AWS_CLI = '/usr/bin/aws';
export const awsCliAvailable = existsSync(AWS_CLI);
export const toolsRequired = process.env.THROTTLESCOPE_REQUIRE_TOOLS === '1';

export interface AwsCliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `aws --endpoint-url <endpoint> --output json <args>` with throwaway keys, HOME `home`, region `region`. */
export function runAwsCli(
  endpointUrl: string,
  home: string,
  region: string,
  args: string[],
): Promise<AwsCliRun> {
  const missing = join(home, 'does-not-exist');
  return new Promise((resolve) => {
    execFile(
      AWS_CLI,
      ['--endpoint-url', endpointUrl, '--output', 'json', ...args],
      {
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: home,
          AWS_ACCESS_KEY_ID: 'x',
          AWS_SECRET_ACCESS_KEY: 'x',
          AWS_DEFAULT_REGION: region,
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_CONFIG_FILE: missing,
          AWS_SHARED_CREDENTIALS_FILE: missing,
          AWS_PAGER: '',
          // Fail fast: the CLI retries throttling errors by default.
          AWS_MAX_ATTEMPTS: '1',
        },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** The output of a run that must succeed. */
export function awsCliOk(run: AwsCliRun): string {
  if (run.code !== 0) throw new Error(`aws exited ${run.code}: ${run.stderr}`);
  return run.stdout;
}

/** The test that fails when the CLI is missing and THROTTLESCOPE_REQUIRE_TOOLS=1 (the CLI's tests skip then). */
export function describeAwsCliPresence(): void {
  describe('aws CLI presence', () => {
    it('is installed at /usr/bin/aws when THROTTLESCOPE_REQUIRE_TOOLS=1', () => {
      if (toolsRequired) expect(awsCliAvailable, `${AWS_CLI} is missing (apt-get install awscli)`).toBe(true);
    });
  });
}
