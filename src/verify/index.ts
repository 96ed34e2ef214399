/**
 * @module verify
 * Did the fix work: failure rates before and after, compared with Fisher's exact test or the
 * two-proportion z test.
 */
export {
  type Comparison,
  compareFailureRates,
  type FailureCount,
  fisherExact,
  type Verdict,
} from './compare.js';
export { failureCountOf } from './gather.js';
export { renderVerification, verificationJson } from './render.js';
