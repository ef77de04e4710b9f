import type { DescFile } from "@bufbuild/protobuf";
import { toBinary } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import type { ServerReflection } from "@fintech/proto/grpc/reflection/v1/reflection_pb.js";
import type { ServerReflection as ServerReflectionV1alpha } from "@fintech/proto/grpc/reflection/v1alpha/reflection_pb.js";

/**
 * A reflection request of either version: v1 and v1alpha are the same messages under two package names, so one
 * answer serves both.
 */
interface Request {
  messageRequest:
    | {
        case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices";
        value: string;
      }
    | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
    | { case: undefined; value?: undefined };
}

/** The message_response of either version. */
type Answer =
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/** What reflection can answer from: every file, by name and by the symbols it declares. */
interface Index {
  byFilename: Map<string, DescFile>;
  bySymbol: Map<string, DescFile>;
  byExtension: Map<string, DescFile>;
  extensionNumbers: Map<string, number[]>;
  /** Serialized FileDescriptorProto of each file, then of its transitive dependencies, each after its own. */
  closure: Map<DescFile, Uint8Array[]>;
}

/** The two names of the reflection service, answering alike. */
export interface ReflectionServices {
  v1: ServiceImpl<typeof ServerReflection>;
  /** grpc.reflection.v1alpha, which Postman, grpc_cli and older grpcurl still ask for. */
  v1alpha: ServiceImpl<typeof ServerReflectionV1alpha>;
}

/**
 * grpc.reflection.v1.ServerReflection and grpc.reflection.v1alpha.ServerReflection answering from the given files
 * and their transitive dependencies: list_services, file_by_filename, file_containing_symbol (services, methods,
 * messages, enums, extensions, nested ones included), file_containing_extension and
 * all_extension_numbers_of_type. Unknown names get an error_response with NOT_FOUND and the stream goes on, as
 * grpcurl expects.
 */
export function createReflectionServices(
  files: Iterable<DescFile>,
  serviceNames: () => readonly string[],
): ReflectionServices {
  const index = buildIndex(files);
  const answer = (req: Request): Answer => {
    const request = req.messageRequest;
    switch (request.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: serviceNames().map((name) => ({ name })) } };
      case "fileByFilename":
        return fileAnswer(
          index,
          index.byFilename.get(request.value),
          `file ${JSON.stringify(request.value)}`,
        );
      case "fileContainingSymbol":
        return fileAnswer(
          index,
          index.bySymbol.get(request.value),
          `symbol ${JSON.stringify(request.value)}`,
        );
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = request.value;
        return fileAnswer(
          index,
          index.byExtension.get(extensionKey(containingType, extensionNumber)),
          `extension ${extensionNumber} of ${JSON.stringify(containingType)}`,
        );
      }
      case "allExtensionNumbersOfType": {
        if (!index.bySymbol.has(request.value)) {
          return notFound(`type ${JSON.stringify(request.value)}`);
        }
        const numbers = index.extensionNumbers.get(request.value) ?? [];
        return {
          case: "allExtensionNumbersResponse",
          value: { baseTypeName: request.value, extensionNumber: numbers },
        };
      }
      case undefined:
        return {
          case: "errorResponse",
          value: { errorCode: Code.InvalidArgument, errorMessage: "empty reflection request" },
        };
    }
  };
  return {
    v1: {
      async *serverReflectionInfo(requests) {
        for await (const req of requests) {
          yield { validHost: req.host, originalRequest: req, messageResponse: answer(req) };
        }
      },
    },
    v1alpha: {
      async *serverReflectionInfo(requests) {
        for await (const req of requests) {
          yield { validHost: req.host, originalRequest: req, messageResponse: answer(req) };
        }
      },
    },
  };
}

function fileAnswer(index: Index, file: DescFile | undefined, what: string): Answer {
  if (file === undefined) {
    return notFound(what);
  }
  const protos = index.closure.get(file) ?? [];
  return { case: "fileDescriptorResponse", value: { fileDescriptorProto: protos } };
}

function notFound(what: string): Answer {
  return { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: `${what} not found` } };
}

function extensionKey(typeName: string, number: number): string {
  return `${typeName}#${number}`;
}

function buildIndex(roots: Iterable<DescFile>): Index {
  const index: Index = {
    byFilename: new Map(),
    bySymbol: new Map(),
    byExtension: new Map(),
    extensionNumbers: new Map(),
    closure: new Map(),
  };
  const visit = (file: DescFile): void => {
    if (index.byFilename.has(file.proto.name)) {
      return;
    }
    index.byFilename.set(file.proto.name, file);
    for (const dep of file.dependencies) {
      visit(dep);
    }
    for (const type of nestedTypes(file)) {
      index.bySymbol.set(type.typeName, file);
      if (type.kind === "service") {
        for (const method of type.methods) {
          index.bySymbol.set(`${type.typeName}.${method.name}`, file);
        }
      } else if (type.kind === "extension") {
        const extendee = type.extendee.typeName;
        index.byExtension.set(extensionKey(extendee, type.number), file);
        const numbers = index.extensionNumbers.get(extendee) ?? [];
        numbers.push(type.number);
        index.extensionNumbers.set(extendee, numbers);
      }
    }
  };
  for (const root of roots) {
    visit(root);
  }
  // Serialized once at start-up: reflection is rare, but a descriptor never changes while the process lives.
  const bytes = new Map<DescFile, Uint8Array>();
  for (const file of index.byFilename.values()) {
    bytes.set(file, toBinary(FileDescriptorProtoSchema, file.proto));
  }
  for (const file of index.byFilename.values()) {
    // The requested file first (what a client asked for), then its dependencies in topological order, so
    // clients that build a pool in order (protobuf-es, protoc-style FileDescriptorSet readers) can too.
    const seen = new Set<DescFile>([file]);
    const deps: DescFile[] = [];
    const walk = (f: DescFile): void => {
      for (const dep of f.dependencies) {
        if (!seen.has(dep)) {
          seen.add(dep);
          walk(dep);
          deps.push(dep);
        }
      }
    };
    walk(file);
    index.closure.set(
      file,
      [file, ...deps].map((f) => bytes.get(f) ?? toBinary(FileDescriptorProtoSchema, f.proto)),
    );
  }
  return index;
}
