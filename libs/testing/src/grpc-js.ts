// A stock @grpc/grpc-js client driven by the generated protobuf-es schemas, so tests talk to the server the way a
// service written in any other gRPC stack would: no Connect code on the client side.
import type { DescMessage, DescMethod, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { ClientDuplexStream, ClientReadableStream, ServiceError } from "@grpc/grpc-js";
import { Client, credentials, Metadata } from "@grpc/grpc-js";

/** A plain grpc-js client (no TLS) for a server on this machine. */
export function grpcClient(port: number): Client {
  return new Client(`127.0.0.1:${port}`, credentials.createInsecure());
}

interface Codec<I extends DescMessage, O extends DescMessage> {
  path: string;
  serialize: (value: MessageInitShape<I>) => Buffer;
  deserialize: (bytes: Buffer) => MessageShape<O>;
}

function codec<I extends DescMessage, O extends DescMessage>(
  method: DescMethod & { input: I; output: O },
): Codec<I, O> {
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    serialize: (value) => Buffer.from(toBinary(method.input, create(method.input, value))),
    deserialize: (bytes) => fromBinary(method.output, bytes),
  };
}

export interface UnaryResult<O extends DescMessage> {
  message: MessageShape<O>;
  header: Metadata;
}

/** Calls a unary method given by its generated descriptor (e.g. `FxService.method.getRate`). */
export function unary<I extends DescMessage, O extends DescMessage>(
  client: Client,
  method: DescMethod & { input: I; output: O },
  request: MessageInitShape<I>,
  metadata: Record<string, string> = {},
): Promise<UnaryResult<O>> {
  const { path, serialize, deserialize } = codec(method);
  return new Promise((resolve, reject) => {
    let header = new Metadata();
    const call = client.makeUnaryRequest(
      path,
      serialize,
      deserialize,
      request,
      toMetadata(metadata),
      (err: ServiceError | null, message?: MessageShape<O>) => {
        if (err !== null) {
          reject(err);
        } else if (message === undefined) {
          reject(new Error("no response message"));
        } else {
          resolve({ message, header });
        }
      },
    );
    call.on("metadata", (m: Metadata) => {
      header = m;
    });
  });
}

export function serverStream<I extends DescMessage, O extends DescMessage>(
  client: Client,
  method: DescMethod & { input: I; output: O },
  request: MessageInitShape<I>,
): ClientReadableStream<MessageShape<O>> {
  const { path, serialize, deserialize } = codec(method);
  return client.makeServerStreamRequest(path, serialize, deserialize, request, new Metadata());
}

export function bidiStream<I extends DescMessage, O extends DescMessage>(
  client: Client,
  method: DescMethod & { input: I; output: O },
): ClientDuplexStream<MessageInitShape<I>, MessageShape<O>> {
  const { path, serialize, deserialize } = codec(method);
  return client.makeBidiStreamRequest(path, serialize, deserialize, new Metadata());
}

/** Sends every request, half-closes, and collects every response until the server ends the stream. */
export function bidiAll<I extends DescMessage, O extends DescMessage>(
  client: Client,
  method: DescMethod & { input: I; output: O },
  requests: MessageInitShape<I>[],
): Promise<MessageShape<O>[]> {
  const call = bidiStream(client, method);
  const responses: MessageShape<O>[] = [];
  return new Promise((resolve, reject) => {
    call.on("data", (m: MessageShape<O>) => responses.push(m));
    call.on("error", reject);
    call.on("end", () => resolve(responses));
    for (const r of requests) {
      call.write(r);
    }
    call.end();
  });
}

/** Everything a readable stream has delivered so far, plus how it ended (when it has). */
export interface Collected<T> {
  messages: T[];
  error?: ServiceError;
  ended: boolean;
}

export function collect<T>(stream: ClientReadableStream<T>): Collected<T> {
  const collected: Collected<T> = { messages: [], ended: false };
  stream.on("data", (m: T) => collected.messages.push(m));
  stream.on("error", (err: ServiceError) => {
    collected.error = err;
  });
  stream.on("end", () => {
    collected.ended = true;
  });
  return collected;
}

function toMetadata(values: Record<string, string>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(values)) {
    metadata.set(key, value);
  }
  return metadata;
}
