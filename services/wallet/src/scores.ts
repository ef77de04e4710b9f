import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { createBatcher } from "@fintech/db";
import type {
  FraudService,
  ScoreRequestSchema,
  ScoreResponse,
} from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { isTransient } from "./errors.js";
import { togetherOrAlone } from "./group-commit.js";

export type ScoreRequestInit = MessageInitShape<typeof ScoreRequestSchema>;

/** Most transactions in one ScoreBatch call of the wallet's (fraud takes up to 500). */
const MAX_CALL_SCORES = 100;
/**
 * Calls under way at once. Fraud scores concurrent calls side by side, so a request that waited for a free call
 * would wait for a whole score: at a few payments in flight each goes at once, and under load the payments that
 * one shared statement recorded ask together, and share a call.
 */
const CALLS_AT_ONCE = 16;

/**
 * Asks fraud to score transactions, those of concurrent payments in shared ScoreBatch calls (libs/db's
 * batcher): requests made in the same turn of the event loop go together, as do those made while
 * `CALLS_AT_ONCE` calls are under way, each answered with its own score; alone, a request is a Score call. A
 * shared call that fails for a reason one request may have caused (an invalid one), or that fraud does not know
 * (a release before ScoreBatch), is made again as a Score per request, so that the failure is that request's
 * only; one that got no answer fails every request in it, as their own calls would have. Each request gets its
 * answer within `timeoutMs` of being asked, its wait for a call included, or fails with DeadlineExceeded.
 */
export function createScorer(
  fraud: Client<typeof FraudService>,
  timeoutMs: number,
): (request: ScoreRequestInit) => Promise<ScoreResponse> {
  /** A Score call for one request, a ScoreBatch call for more. */
  async function ask(requests: readonly ScoreRequestInit[]): Promise<ScoreResponse[]> {
    const [first] = requests;
    if (requests.length === 1 && first !== undefined) return [await fraud.score(first, { timeoutMs })];
    const { results } = await fraud.scoreBatch({ requests: [...requests] }, { timeoutMs });
    if (results.length !== requests.length) {
      throw new Error(`fraud answered ${results.length} scores for ${requests.length} transactions`);
    }
    return results;
  }
  const calls = createBatcher<ScoreRequestInit, ScoreResponse>({
    maxBatch: MAX_CALL_SCORES,
    concurrency: CALLS_AT_ONCE,
    flush: (requests) => togetherOrAlone(requests, ask, isTransient),
  });
  return (request) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ConnectError("fraud did not answer in time", Code.DeadlineExceeded)),
        timeoutMs,
      );
    });
    return Promise.race([calls.submit(request), late]).finally(() => clearTimeout(timer));
  };
}
