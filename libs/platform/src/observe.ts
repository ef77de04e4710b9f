import type { Interceptor } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import { codeOf } from "./code-label.js";

type Next = Parameters<Interceptor>[0];
type AnyRequest = Parameters<Next>[0];
type AnyResponse = Awaited<ReturnType<Next>>;

/**
 * Calls `next` and reports, exactly once, the status code the RPC ended with (0 = OK). A unary RPC ends when the
 * handler returns; a streaming one when its response stream is drained, fails or is abandoned by the client.
 * Only streams pay for a wrapper; the unary path is a plain await.
 */
export async function observeCall(
  next: Next,
  req: AnyRequest,
  done: (code: Code | 0) => void,
): Promise<AnyResponse> {
  let res: AnyResponse;
  try {
    res = await next(req);
  } catch (err) {
    done(codeOf(err));
    throw err;
  }
  if (!res.stream) {
    done(0);
    return res;
  }
  return { ...res, message: observeStream(res.message, req.signal, done) };
}

async function* observeStream<T>(
  messages: AsyncIterable<T>,
  signal: AbortSignal,
  done: (code: Code | 0) => void,
): AsyncIterable<T> {
  let code: Code | 0 = 0;
  try {
    yield* messages;
  } catch (err) {
    code = codeOf(err);
    throw err;
  } finally {
    // A stream the client walked away from ends through return(), not throw(): count it as cancelled.
    done(code === 0 && signal.aborted ? Code.Canceled : code);
  }
}
