/**
 * @module demo
 * The 502 incident end to end on the embedded lab: probe, diagnose, fix, probe again, verify.
 */
export { type DemoOptions, type DemoResult, demoJson, runDemo } from './run.js';
