/** The top-level keys of `diagnose --json`, in order (docs/diagnose.md): a public interface. */
export const DIAGNOSE_JSON_KEYS = [
  'rootCause',
  'culprit',
  'victims',
  'confidence',
  'headline',
  'window',
  'findings',
  'evidenceChain',
  'gaps',
];
