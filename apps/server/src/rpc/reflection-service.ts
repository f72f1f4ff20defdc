import { create, type DescFile, toBinary } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import { reflectionV1, reflectionV1alpha } from "@grouppe/api/reflection";

/** A reflection request's question; v1 and v1alpha ask it in the same shape. */
type Question =
  | { case: "fileByFilename"; value: string }
  | { case: "fileContainingSymbol"; value: string }
  | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
  | { case: "allExtensionNumbersOfType"; value: string }
  | { case: "listServices"; value: string }
  | { case: undefined; value?: undefined };

/** A reflection response's answer; v1 and v1alpha give it in the same shape. */
type Answer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | {
      case: "allExtensionNumbersResponse";
      value: { baseTypeName: string; extensionNumber: number[] };
    }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/**
 * Everything reflection can be asked, computed once at start-up so that answering is a map
 * lookup. Files are answered with their whole import closure because clients build a
 * descriptor pool from one response and fail on any import they were not sent.
 */
class ReflectionIndex {
  /** Serialized FileDescriptorProtos by file name: the file first, then its transitive imports. */
  private readonly closures = new Map<string, Uint8Array[]>();
  /** The file declaring each fully-qualified name: types, fields, enum values, methods. */
  private readonly symbols = new Map<string, string>();
  /** Extensions declared in the registered files, by `extendee:number`. */
  private readonly extensions = new Map<string, string>();
  /** Extension numbers declared in the registered files, by extended message. */
  private readonly extensionNumbers = new Map<string, number[]>();
  private readonly messageNames = new Set<string>();
  private readonly services: { name: string }[];

  constructor(files: readonly DescFile[], serviceNames: readonly string[]) {
    const served = importClosure(files);
    const serialized = new Map(
      served.map((file) => [file, toBinary(FileDescriptorProtoSchema, file.proto)]),
    );
    for (const file of served) {
      this.closures.set(
        file.proto.name,
        importClosure([file]).map((dependency) => serialized.get(dependency) as Uint8Array),
      );
      this.indexSymbols(file);
    }
    // Only extensions declared in the registered files are ours to describe; those of imports
    // (buf.validate options, for one) are answered NOT_FOUND.
    for (const file of files) {
      for (const type of nestedTypes(file)) {
        if (type.kind !== "extension") continue;
        const extendee = type.extendee.typeName;
        this.extensions.set(`${extendee}:${type.number}`, file.proto.name);
        this.extensionNumbers.set(extendee, [
          ...(this.extensionNumbers.get(extendee) ?? []),
          type.number,
        ]);
      }
    }
    const declared = new Set(
      served.flatMap((file) => file.services.map((service) => service.typeName)),
    );
    for (const name of serviceNames) {
      if (!declared.has(name)) {
        throw new Error(`reflection: service ${name} is not declared in the given files`);
      }
    }
    this.services = serviceNames.map((name) => ({ name }));
  }

  answer(question: Question): Answer {
    switch (question.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: this.services } };
      case "fileByFilename":
        return this.files(this.closures.get(question.value), `file ${question.value}`);
      case "fileContainingSymbol": {
        const file = this.symbols.get(question.value);
        return this.files(
          file === undefined ? undefined : this.closures.get(file),
          `symbol ${question.value}`,
        );
      }
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = question.value;
        const file = this.extensions.get(`${containingType}:${extensionNumber}`);
        return this.files(
          file === undefined ? undefined : this.closures.get(file),
          `extension ${extensionNumber} of ${containingType}`,
        );
      }
      case "allExtensionNumbersOfType":
        if (!this.messageNames.has(question.value))
          return notFound(`message type ${question.value}`);
        return {
          case: "allExtensionNumbersResponse",
          value: {
            baseTypeName: question.value,
            extensionNumber: this.extensionNumbers.get(question.value) ?? [],
          },
        };
      default:
        return {
          case: "errorResponse",
          value: { errorCode: Code.InvalidArgument, errorMessage: "the request names no question" },
        };
    }
  }

  private files(closure: Uint8Array[] | undefined, what: string): Answer {
    if (closure === undefined) return notFound(what);
    return { case: "fileDescriptorResponse", value: { fileDescriptorProto: closure } };
  }

  private indexSymbols(file: DescFile): void {
    const name = file.proto.name;
    for (const type of nestedTypes(file)) {
      this.symbols.set(type.typeName, name);
      switch (type.kind) {
        case "message":
          this.messageNames.add(type.typeName);
          for (const field of type.fields) this.symbols.set(`${type.typeName}.${field.name}`, name);
          for (const oneof of type.oneofs) this.symbols.set(`${type.typeName}.${oneof.name}`, name);
          break;
        case "enum": {
          // Enum values are scoped like C++ enumerators: siblings of their enum, not children.
          const scope = type.typeName.slice(0, type.typeName.length - type.name.length);
          for (const value of type.values) this.symbols.set(`${scope}${value.name}`, name);
          break;
        }
        case "service":
          for (const method of type.methods)
            this.symbols.set(`${type.typeName}.${method.name}`, name);
          break;
        case "extension":
          break;
      }
    }
  }
}

function notFound(what: string): Answer {
  return {
    case: "errorResponse",
    value: { errorCode: Code.NotFound, errorMessage: `${what} not found` },
  };
}

/** The given files and everything they import, each once, every file before its imports. */
function importClosure(files: readonly DescFile[]): DescFile[] {
  const seen = new Set<DescFile>();
  const visit = (file: DescFile): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const dependency of file.dependencies) visit(dependency);
  };
  for (const file of files) visit(file);
  return [...seen];
}

/**
 * Serves gRPC server reflection (`grpc.reflection.v1` and the older `v1alpha` that many tools
 * still ask first) on `router`, describing `files` and their imports and listing
 * `serviceNames`. Throws when a service name is not declared in `files` or their imports.
 */
export function registerReflection(
  router: ConnectRouter,
  files: DescFile[],
  serviceNames: string[],
): void {
  const index = new ReflectionIndex(files, serviceNames);
  router.service(reflectionV1.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) {
        yield create(reflectionV1.ServerReflectionResponseSchema, {
          validHost: request.host,
          originalRequest: request,
          messageResponse: index.answer(request.messageRequest),
        });
      }
    },
  });
  router.service(reflectionV1alpha.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) {
        yield create(reflectionV1alpha.ServerReflectionResponseSchema, {
          validHost: request.host,
          originalRequest: request,
          messageResponse: index.answer(request.messageRequest),
        });
      }
    },
  });
}
