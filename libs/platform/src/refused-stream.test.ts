import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { wasRefusedStream } from "./refused-stream.js";

describe("wasRefusedStream", () => {
  it("knows a refused stream as Node and as connect-node report it, as the error or its cause", () => {
    const node = Object.assign(new Error("Stream closed with error code NGHTTP2_REFUSED_STREAM"), {
      code: "ERR_HTTP2_STREAM_ERROR",
    });
    expect(wasRefusedStream(new ConnectError(node.message, Code.Internal, undefined, undefined, node))).toBe(
      true,
    );
    expect(
      wasRefusedStream(
        new ConnectError("http/2 stream closed with error code REFUSED_STREAM (0x7)", Code.Unavailable),
      ),
    ).toBe(true);
  });

  it("leaves every other failure alone: those may have been processed", () => {
    expect(
      wasRefusedStream(new ConnectError("http/2 stream closed with error code CANCEL (0x8)", Code.Canceled)),
    ).toBe(false);
    expect(wasRefusedStream(new ConnectError("connect ECONNREFUSED 127.0.0.2:1", Code.Unavailable))).toBe(
      false,
    );
    expect(wasRefusedStream("REFUSED_STREAM")).toBe(false);
  });
});
