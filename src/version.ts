/** Kept equal to package.json's version by test/cli/main.test.ts; a constant keeps start-up free of file reads. */
export const VERSION = "0.1.0";
