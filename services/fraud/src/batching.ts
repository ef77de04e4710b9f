/**
 * How fraud coalesces concurrent scores' reads and writes (libs/db's createBatcher): up to 200 items a
 * statement, two statements at once, and the next started as soon as one ends.
 */
export const BATCHING = { maxBatch: 200, concurrency: 2, restartAtOnce: true } as const;
