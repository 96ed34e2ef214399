import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ExitCode, ThrottlescopeError, UsageError } from '../../common/errors.js';
import { safeForTerminal } from '../../common/terminal.js';
import { parseDuration } from '../../common/time.js';
import type { LabBackend } from '../../lab/backend.js';
import { BUILTIN_SCENARIOS, builtinScenario } from '../../lab/builtin.js';
import { type Lab, type LabSnapshot, startLab } from '../../lab/index.js';
import { loadScenarioFile, type Scenario } from '../../lab/scenario.js';
import { renderStatusLine, renderSummary } from '../../lab/status.js';
import type { CliContext, Command } from '../context.js';
import { numberFlag, withUsage } from '../flags.js';

const usage = `Usage: throttlescope lab <scenario.yaml | built-in name> [options]

Run a local ALB + Lambda platform that behaves like AWS: one shared account concurrency pool,
listener rules to Lambda target groups, background invokers, ALB access logs (S3 layout) and
CloudWatch metrics, and an AWS-compatible endpoint (Lambda, S3, CloudWatch, ELBv2) for the AWS SDK
and the aws CLI. Built-in scenarios: ${Object.keys(BUILTIN_SCENARIOS).join(', ')}. Format: docs/lab.md.

Options:
  --alb-port P         ALB listener port (default: any free port)
  --aws-port Q         AWS endpoint port (default: any free port)
  --host H             address to bind (default 127.0.0.1)
  --data-dir DIR       also write access-log files (and a metrics dump) under DIR
  --duration D         stop after D of wall-clock time (e.g. 30s, 5m); default: until Ctrl-C
  --status-interval D  without a terminal, print a status line every D (default 5s)

Ctrl-C (or --duration) flushes access logs and metrics and exits 0.
Exit: 0 stopped, 2 bad flags or scenario (every problem listed), 3 scenario unreadable, 5 port in use.
`;

interface AwsEndpointLike {
  url: string;
  close(): Promise<void>;
}

/** Starts the AWS endpoint if this build has it (src/lab/aws-api/server.ts). */
async function startAws(backend: LabBackend, host: string, port: number): Promise<AwsEndpointLike | string> {
  let mod: {
    startAwsEndpoint?: (b: LabBackend, o: { host: string; port: number }) => Promise<AwsEndpointLike>;
  };
  try {
    mod = await import('../../lab/aws-api/server.js');
  } catch (error) {
    return `the AWS endpoint is not available in this build (${(error as Error).message.split('\n')[0]})`;
  }
  if (typeof mod.startAwsEndpoint !== 'function') return 'the AWS endpoint is not available in this build';
  try {
    return await mod.startAwsEndpoint(backend, { host, port });
  } catch (error) {
    throw new ThrottlescopeError(
      'TS_LAB_LISTEN',
      `lab: cannot start the AWS endpoint on ${host}:${port}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function resolveScenario(arg: string, cwd: string): Scenario {
  const builtin = builtinScenario(arg);
  if (builtin) return builtin;
  if (!/\.(ya?ml|json)$/i.test(arg) && !arg.includes('/')) {
    throw new UsageError(
      `lab: "${arg}" is neither a scenario file (.yaml) nor a built-in scenario (${Object.keys(BUILTIN_SCENARIOS).join(', ')})`,
    );
  }
  return loadScenarioFile(resolve(cwd, arg));
}

function banner(lab: Lab, aws: AwsEndpointLike | string, dataDir: string | undefined): string {
  const s = lab.scenario;
  const logs = s.loadBalancer.accessLogs;
  const out: string[] = [];
  out.push(
    `throttlescope lab: ${s.name}${s.timeScale !== 1 ? ` (lab time runs ${s.timeScale}x faster)` : ''}`,
  );
  out.push(`  ALB           ${lab.albUrl}   (${lab.loadBalancer.dimension})`);
  if (typeof aws === 'string') {
    out.push(`  AWS endpoint  not started: ${aws}`);
  } else {
    out.push(`  AWS endpoint  ${aws.url}   (Lambda, S3, CloudWatch, ELBv2; any credentials)`);
    out.push('');
    out.push(
      `    export AWS_ENDPOINT_URL=${aws.url} AWS_REGION=${s.account.region} AWS_DEFAULT_REGION=${s.account.region} AWS_ACCESS_KEY_ID=lab AWS_SECRET_ACCESS_KEY=lab`,
    );
    out.push(`    aws --endpoint-url ${aws.url} lambda get-account-settings`);
    out.push(`    aws --endpoint-url ${aws.url} s3 ls s3://${logs.bucket}/ --recursive`);
  }
  out.push('');
  out.push(
    `  Access logs   s3://${logs.bucket}/${logs.prefix ? `${logs.prefix.replace(/\/+$/, '')}/` : ''}AWSLogs/${s.account.id}/elasticloadbalancing/${s.account.region}/... every ${logs.interval / 1000}s of lab time${dataDir ? `, mirrored under ${dataDir}` : ''}`,
  );
  out.push(`  Lab clock     ${new Date(lab.clock.now()).toISOString()} now; metrics and logs carry lab time`);
  out.push('  Ctrl-C to stop (logs and metrics are flushed).');
  return `${out.join('\n')}\n`;
}

export const command: Command = {
  name: 'lab',
  summary: 'run a local ALB + Lambda platform that behaves like AWS',
  usage,
  async run(argv: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = withUsage('lab', () =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          'alb-port': { type: 'string' },
          'aws-port': { type: 'string' },
          host: { type: 'string' },
          'data-dir': { type: 'string' },
          duration: { type: 'string' },
          'status-interval': { type: 'string' },
        },
      }),
    );
    if (positionals.length !== 1) {
      throw new UsageError(
        'lab: expected exactly one scenario file or built-in name (see: throttlescope lab --help)',
      );
    }
    const albPort = numberFlag('lab', 'alb-port', values['alb-port'], { min: 0, integer: true });
    const awsPort = numberFlag('lab', 'aws-port', values['aws-port'], { min: 0, integer: true });
    const host = values.host ?? '127.0.0.1';
    const durationMs =
      values.duration === undefined ? undefined : parseDuration(values.duration, '--duration');
    const statusEvery =
      values['status-interval'] === undefined
        ? 5000
        : parseDuration(values['status-interval'], '--status-interval');
    const dataDir = values['data-dir'] === undefined ? undefined : resolve(ctx.cwd, values['data-dir']);
    const scenario = resolveScenario(positionals[0]!, ctx.cwd);

    const lab = await startLab(scenario, { albPort, host, dataDir });
    let aws: AwsEndpointLike | string;
    try {
      aws = await startAws(lab.backend, host, awsPort ?? 0);
    } catch (error) {
      await lab.close();
      throw error;
    }
    ctx.stdout.write(banner(lab, aws, dataDir));

    const tty = ctx.stdout.isTTY === true;
    let prev: LabSnapshot | undefined = lab.snapshot();
    let lastPlain = Date.now();
    const width = () => Math.max(40, (ctx.stdout.columns ?? 120) - 1);
    const tick = () => {
      const cur = lab.snapshot();
      if (tty) {
        const line = safeForTerminal(renderStatusLine(cur, prev)).slice(0, width());
        ctx.stdout.write(`\r\x1b[2K${line}`);
        if (Date.now() - lastPlain >= statusEvery) {
          prev = cur;
          lastPlain = Date.now();
        }
      } else {
        ctx.stdout.write(`${safeForTerminal(renderStatusLine(cur, prev))}\n`);
        prev = cur;
      }
    };
    const timer = setInterval(tick, tty ? 250 : statusEvery);

    await new Promise<void>((done) => {
      if (ctx.signal.aborted) return done();
      const stop = () => {
        clearTimeout(limit);
        done();
      };
      const limit = durationMs === undefined ? undefined : setTimeout(stop, durationMs);
      ctx.signal.addEventListener('abort', stop, { once: true });
    });
    clearInterval(timer);
    if (tty) ctx.stdout.write('\n');
    ctx.stdout.write('Stopping: flushing access logs and metrics...\n');
    if (typeof aws !== 'string') await aws.close().catch(() => {});
    await lab.close();
    ctx.stdout.write(renderSummary(lab.snapshot()).split('\n').map(safeForTerminal).join('\n'));
    return ExitCode.ok;
  },
};
