import { parseArgs } from 'node:util';
import { ExitCode, UsageError } from '../../common/errors.js';
import { safeForTerminal } from '../../common/terminal.js';
import { compareFailureRates } from '../../verify/compare.js';
import { failureCountOf } from '../../verify/gather.js';
import type { Command } from '../context.js';
import { numberFlag, withUsage } from '../flags.js';

const usage = `Usage: throttlescope verify --before <probe DIR | SINCE..UNTIL> --after <probe DIR | SINCE..UNTIL> [options]

Compare failure rates before and after a change: Fisher's exact test for small counts, else the
two-proportion z test. A window SINCE..UNTIL counts 5xx answers in --logs.

Options:
  --logs SOURCE          ALB logs for window comparisons (repeatable)
  --alpha A              significance level (default 0.01)
  --region R --profile P --endpoint-url URL   for s3:// logs
  --json                 { before, after, test, pValue, verdict, improved, sentence }

Exit: 0 improved, 6 no significant change or worse, 2 usage, 3 input unreadable.
`;

export const command: Command = {
  name: 'verify',
  summary: 'compare failure rates before/after with a statistical test',
  usage,
  async run(argv, ctx) {
    const { values } = withUsage('verify', () =>
      parseArgs({
        args: argv,
        options: {
          before: { type: 'string' },
          after: { type: 'string' },
          logs: { type: 'string', multiple: true },
          alpha: { type: 'string' },
          region: { type: 'string' },
          profile: { type: 'string' },
          'endpoint-url': { type: 'string' },
          json: { type: 'boolean', default: false },
        },
      }),
    );
    if (!values.before || !values.after) throw new UsageError('verify: give both --before and --after');
    const alpha = numberFlag('verify', 'alpha', values.alpha, { min: 0 }) ?? 0.01;
    if (alpha <= 0 || alpha >= 1)
      throw new UsageError('verify: --alpha expects a probability between 0 and 1');
    const aws = {
      region: values.region,
      profile: values.profile,
      endpointUrl: values['endpoint-url'] ?? ctx.env.AWS_ENDPOINT_URL,
    };
    const before = await failureCountOf(values.before, { logs: values.logs, aws });
    const after = await failureCountOf(values.after, { logs: values.logs, aws });
    const c = compareFailureRates(before, after, alpha);
    if (values.json)
      ctx.stdout.write(
        `${JSON.stringify({ ...c, alpha, beforeSource: before.source, afterSource: after.source }, null, 2)}\n`,
      );
    else {
      ctx.stdout.write(`${safeForTerminal(c.sentence)}\n`);
      ctx.stdout.write(
        `  before: ${safeForTerminal(before.source)}\n  after:  ${safeForTerminal(after.source)}\n  test:   ${c.test}, alpha ${alpha}\n`,
      );
    }
    return c.improved ? ExitCode.ok : ExitCode.verdict;
  },
};
