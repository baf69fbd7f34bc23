import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default'],
    testTimeout: 60_000,
    // vitest's default leaves one core idle (availableParallelism - 1): on the 2-core CI machine
    // that is one worker, and the suite ran serially. Many files wait on a child process, a
    // browser or a server, so two workers help even on one core.
    maxWorkers: Math.max(2, availableParallelism()),
  },
});
