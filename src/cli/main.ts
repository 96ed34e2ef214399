import { ExitCode, isThrottlescopeError } from '../common/errors.js';
import { safeForTerminal } from '../common/terminal.js';
import type { CliContext, Command } from './context.js';

/** Flag values that start with a dash (`--since -15m`) are joined in each command's parseFlags. */
export { joinDashValues } from './flags.js';

/** Commands load lazily so `throttlescope logs` does not pay for the lab or the AWS SDK. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  demo: {
    summary: 'replay the 502 incident end to end on the embedded lab',
    load: () => import('./commands/demo.js'),
  },
  probe: { summary: 'soak/stress a URL and record every failure', load: () => import('./commands/probe.js') },
  logs: {
    summary: 'analyse ALB access logs (files, dirs, .gz, s3://)',
    load: () => import('./commands/logs.js'),
  },
  metrics: {
    summary: 'read Lambda/ALB CloudWatch metrics; name the noisy neighbour',
    load: () => import('./commands/metrics.js'),
  },
  diagnose: {
    summary: 'join probe, logs and metrics into a root cause',
    load: () => import('./commands/diagnose.js'),
  },
  fix: {
    summary: 'recommend (and with --apply, set) reserved concurrency',
    load: () => import('./commands/fix.js'),
  },
  verify: {
    summary: 'compare failure rates before/after with a statistical test',
    load: () => import('./commands/verify.js'),
  },
  plan: {
    summary: 'queueing model: Erlang B, simulation, recommendations',
    load: () => import('./commands/plan.js'),
  },
  lab: {
    summary: 'run a local ALB + Lambda platform that behaves like AWS',
    load: () => import('./commands/lab.js'),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: throttlescope <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "throttlescope <command> --help" for a command's options.\n`;
}

export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    ctx.stdout.write(usage());
    return name ? ExitCode.ok : ExitCode.usage;
  }
  if (name === '--version' || name === '-V') {
    const { createRequire } = await import('node:module');
    const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
    ctx.stdout.write(`${pkg.version}\n`);
    return ExitCode.ok;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    ctx.stderr.write(`throttlescope: unknown command "${safeForTerminal(name)}"\n\n${usage()}`);
    return ExitCode.usage;
  }
  try {
    const { command } = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      ctx.stdout.write(`${command.usage.trimEnd()}\n`);
      return ExitCode.ok;
    }
    return await command.run(rest, ctx);
  } catch (error) {
    if (isThrottlescopeError(error)) {
      ctx.stderr.write(`throttlescope ${name}: ${safeForTerminal(error.message)} [${error.code}]\n`);
      return error.exitCode;
    }
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    const lines = detail.split('\n').map(safeForTerminal).join('\n');
    ctx.stderr.write(`throttlescope ${name}: internal error (please report): ${lines}\n`);
    return ExitCode.internal;
  }
}

/** Process wiring: the only place that touches process.exit and signals. */
export async function runProcess(): Promise<void> {
  // The AWS SDK prints a multi-line NodeVersionSupportWarning on Node 20 (which this tool supports,
  // package.json "engines") to stderr at the first client; keep the CLI's stderr to our own lines.
  // The SDK's documented opt-out, only when the user has not chosen. The library never writes env.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts += 1;
    if (interrupts > 1) {
      process.stderr.write(`\nthrottlescope: second ${sig}, exiting now\n`);
      process.exit(ExitCode.interrupted);
    }
    controller.abort(new Error(sig));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const code = await main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
  });
  process.exitCode = code;
  // Let streams drain; lingering handles (keep-alive sockets, servers) must not hold the process.
  const drain = (s: NodeJS.WriteStream) =>
    new Promise<void>((r) => (s.writableLength === 0 ? r() : s.once('drain', () => r())));
  await Promise.all([drain(process.stdout), drain(process.stderr)]);
  setTimeout(() => process.exit(code), 50).unref();
}
