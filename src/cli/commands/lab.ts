import { resolve } from 'node:path';
import { ExitCode, ThrottlescopeError, UsageError } from '../../common/errors.js';
import { safeForTerminal } from '../../common/terminal.js';
import { type AwsEndpoint, startAwsEndpoint } from '../../lab/aws-api/server.js';
import { disableAllocationSitePretenuring, type LabSnapshot, startLab } from '../../lab/index.js';
import { BUILTIN_SCENARIO_NAMES } from '../../lab/resolve-scenario.js';
import { renderBanner, renderStatusLine, renderSummary } from '../../lab/status.js';
import type { CliContext, Command } from '../context.js';
import { durationFlag, helpText, numberFlag, parseFlags } from '../flags.js';
import { LiveProgress } from '../progress.js';
import { scenarioArg } from '../scenario-arg.js';

const FLAGS = {
  'alb-port': { type: 'string', arg: 'P', help: 'ALB listener port (default: any free port)' },
  'aws-port': { type: 'string', arg: 'Q', help: 'AWS endpoint port (default: any free port)' },
  'cloudfront-port': {
    type: 'string',
    arg: 'P',
    help: 'CloudFront edge port, for scenarios with `cloudfront` (default: any free port)',
  },
  host: { type: 'string', arg: 'H', help: 'address to bind (default 127.0.0.1)' },
  'data-dir': {
    type: 'string',
    arg: 'DIR',
    help: 'also write access-log files (and a metrics dump) under DIR',
  },
  duration: {
    type: 'string',
    arg: 'D',
    help: 'stop after D of wall-clock time (e.g. 30s, 5m); default: until Ctrl-C',
  },
  'status-interval': {
    type: 'string',
    arg: 'D',
    help: 'without a terminal, print a status line every D (default 5s)',
  },
} as const;

const usage = helpText({
  usage: 'Usage: throttlescope lab <scenario.yaml | built-in name> [options]',
  about: `Run a local ALB + Lambda platform that behaves like AWS: one shared account concurrency pool,
listener rules to Lambda target groups, background invokers, ALB access logs (S3 layout) and
CloudWatch metrics, and an AWS-compatible endpoint (Lambda, S3, CloudWatch, ELBv2, Athena, CloudFront) for the AWS SDK
and the aws CLI. Built-in scenarios: ${BUILTIN_SCENARIO_NAMES.join(', ')}. Format: docs/lab.md.
A scenario is an existing file first, then a built-in name (docs/lab.md "Naming a scenario").`,
  flags: FLAGS,
  footer: `Ctrl-C (or --duration) flushes access logs and metrics and exits 0.
Exit: 0 stopped, 2 bad flags or scenario (every problem listed), 3 scenario unreadable, 5 port in use.`,
});

async function startAws(
  lab: Awaited<ReturnType<typeof startLab>>,
  host: string,
  port: number,
): Promise<AwsEndpoint> {
  try {
    return await startAwsEndpoint(lab.backend, { host, port });
  } catch (error) {
    await lab.close();
    throw new ThrottlescopeError(
      'TS_LAB_LISTEN',
      `lab: cannot start the AWS endpoint on ${host}:${port}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** Resolves when the context is aborted (Ctrl-C) or after `durationMs`. */
function untilStopped(ctx: CliContext, durationMs: number | undefined): Promise<void> {
  return new Promise<void>((done) => {
    if (ctx.signal.aborted) return done();
    const stop = () => {
      clearTimeout(limit);
      done();
    };
    const limit = durationMs === undefined ? undefined : setTimeout(stop, durationMs);
    ctx.signal.addEventListener('abort', stop, { once: true });
  });
}

export const command: Command = {
  name: 'lab',
  summary: 'run a local ALB + Lambda platform that behaves like AWS',
  usage,
  flagTables: [FLAGS],
  async run(argv: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseFlags('lab', FLAGS, argv);
    if (positionals.length !== 1) {
      throw new UsageError(
        'lab: expected exactly one scenario file or built-in name (see: throttlescope lab --help)',
      );
    }
    const albPort = numberFlag('lab', 'alb-port', values['alb-port'], { min: 0, integer: true });
    const awsPort = numberFlag('lab', 'aws-port', values['aws-port'], { min: 0, integer: true });
    const cloudfrontPort = numberFlag('lab', 'cloudfront-port', values['cloudfront-port'], {
      min: 0,
      integer: true,
    });
    const host = values.host ?? '127.0.0.1';
    const durationMs =
      values.duration === undefined ? undefined : durationFlag('lab', 'duration', values.duration);
    const statusEvery =
      values['status-interval'] === undefined
        ? 5000
        : durationFlag('lab', 'status-interval', values['status-interval']);
    const dataDir = values['data-dir'] === undefined ? undefined : resolve(ctx.cwd, values['data-dir']);
    const scenario = scenarioArg('lab', positionals[0], ctx.cwd);

    // The lab's main thread serves every request: see disableAllocationSitePretenuring for why.
    disableAllocationSitePretenuring();
    const lab = await startLab(scenario, { albPort, cloudfrontPort, host, dataDir });
    const aws = await startAws(lab, host, awsPort ?? 0);
    ctx.stdout.write(renderBanner(lab, aws.url, dataDir));

    // The status line: redrawn in place on a terminal (rates over the last status interval),
    // one plain line per interval otherwise.
    const tty = ctx.stdout.isTTY === true;
    const status = new LiveProgress(ctx.stdout, { plainEveryMs: 0, redrawEveryMs: 0 });
    let prev: LabSnapshot | undefined = lab.snapshot();
    let lastInterval = Date.now();
    const timer = setInterval(
      () => {
        const cur = lab.snapshot();
        status.update(renderStatusLine(cur, prev));
        if (!tty || Date.now() - lastInterval >= statusEvery) {
          prev = cur;
          lastInterval = Date.now();
        }
      },
      tty ? 250 : statusEvery,
    );
    await untilStopped(ctx, durationMs);
    clearInterval(timer);
    status.done({ keep: true });
    ctx.stdout.write('Stopping: flushing access logs and metrics...\n');
    await aws.close().catch(() => {});
    await lab.close();
    ctx.stdout.write(renderSummary(lab.snapshot()).split('\n').map(safeForTerminal).join('\n'));
    return ExitCode.ok;
  },
};
