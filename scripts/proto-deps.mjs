// @ts-check
// Lays out the third-party .proto files our API imports in `.proto-deps/`, a local buf module
// (see buf.yaml). Nothing here is committed: every file comes from a package in node_modules.
//
// - google/rpc (error details), grpc/health and grpc/reflection ship as .proto sources on npm.
// - protovalidate ships only its compiled descriptor, so buf/validate/validate.proto is printed
//   from that descriptor: messages, enums, fields and extensions, without options. That is
//   enough for buf to type-check our (buf.validate.field) options; at run time the generated
//   code imports the real descriptor from @bufbuild/protovalidate (see buf.gen.yaml).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, ".proto-deps");
const require = createRequire(join(root, "packages/api/package.json"));

/** Where a package's files are, found from its package.json. */
function packageDir(/** @type {string} */ name) {
  return dirname(require.resolve(`${name}/package.json`));
}

const copies = [
  ["google-proto-files", "google/rpc/error_details.proto", "google/rpc/error_details.proto"],
  ["grpc-health-check", "proto/health/v1/health.proto", "grpc/health/v1/health.proto"],
  [
    "@grpc/reflection",
    "build/proto/grpc/reflection/v1/reflection.proto",
    "grpc/reflection/v1/reflection.proto",
  ],
  [
    "@grpc/reflection",
    "build/proto/grpc/reflection/v1alpha/reflection.proto",
    "grpc/reflection/v1alpha/reflection.proto",
  ],
];

const scalarNames = {
  1: "double",
  2: "float",
  3: "int64",
  4: "uint64",
  5: "int32",
  6: "fixed64",
  7: "fixed32",
  8: "bool",
  9: "string",
  12: "bytes",
  13: "uint32",
  15: "sfixed32",
  16: "sfixed64",
  17: "sint32",
  18: "sint64",
};
const labels = { 1: "optional", 2: "required", 3: "repeated" };

/**
 * Prints a proto2 FileDescriptorProto as .proto source, structure only.
 * @param {any} file a FileDescriptorProto message from @bufbuild/protobuf
 */
export function printProto2(file) {
  const lines = [
    "// Generated from the descriptor shipped by @bufbuild/protovalidate. Structure only. Do not edit.",
    'syntax = "proto2";',
    "",
    `package ${file.package};`,
    "",
    ...file.dependency.map((/** @type {string} */ d) => `import "${d}";`),
    "",
  ];
  const typeName = (/** @type {any} */ f) =>
    scalarNames[/** @type {keyof typeof scalarNames} */ (f.type)] ?? f.typeName;
  const printField = (/** @type {any} */ f, /** @type {string} */ indent, inOneof = false) =>
    `${indent}${inOneof ? "" : `${labels[/** @type {keyof typeof labels} */ (f.label)]} `}${typeName(f)} ${f.name} = ${f.number};`;
  const printEnum = (/** @type {any} */ e, /** @type {string} */ indent) => {
    lines.push(`${indent}enum ${e.name} {`);
    for (const v of e.value) lines.push(`${indent}  ${v.name} = ${v.number};`);
    lines.push(`${indent}}`);
  };
  const printMessage = (/** @type {any} */ m, /** @type {string} */ indent) => {
    lines.push(`${indent}message ${m.name} {`);
    const inner = `${indent}  `;
    const oneofFields = new Map();
    for (const f of m.field.filter(inOneof)) {
      oneofFields.set(f.oneofIndex, [...(oneofFields.get(f.oneofIndex) ?? []), f]);
    }
    const printedOneofs = new Set();
    for (const f of m.field) {
      if (inOneof(f)) {
        if (printedOneofs.has(f.oneofIndex)) continue;
        printedOneofs.add(f.oneofIndex);
        lines.push(`${inner}oneof ${m.oneofDecl[f.oneofIndex].name} {`);
        for (const of of oneofFields.get(f.oneofIndex))
          lines.push(printField(of, `${inner}  `, true));
        lines.push(`${inner}}`);
      } else {
        lines.push(printField(f, inner));
      }
    }
    for (const n of m.nestedType) printMessage(n, inner);
    for (const e of m.enumType) printEnum(e, inner);
    for (const r of m.extensionRange)
      lines.push(`${inner}extensions ${r.start} to ${r.end === 536870912 ? "max" : r.end - 1};`);
    lines.push(`${indent}}`);
  };
  for (const m of file.messageType) printMessage(m, "");
  for (const e of file.enumType) printEnum(e, "");
  for (const x of file.extension) {
    lines.push(`extend ${x.extendee.slice(1)} {`, printField(x, "  "), "}");
  }
  return `${lines.join("\n")}\n`;
}

/**
 * proto2 presence: protobuf-es keeps an unset optional field off the object's own keys, so a
 * field belongs to a oneof only when oneof_index is its own property.
 * @param {any} field
 */
function inOneof(field) {
  return Object.hasOwn(field, "oneofIndex");
}

/**
 * Writes only when the content differs, so that lint and generate running side by side never
 * see a half-written file.
 */
function put(/** @type {string} */ path, /** @type {string} */ content) {
  const target = join(out, path);
  if (existsSync(target) && readFileSync(target, "utf8") === content) return;
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content);
}

async function main() {
  for (const [pkg, from, to] of copies) {
    put(to, readFileSync(join(packageDir(pkg), from), "utf8"));
  }
  const { file_buf_validate_validate } = await import(
    require.resolve("@bufbuild/protovalidate/gen/buf/validate/validate_pb.js")
  );
  put("buf/validate/validate.proto", printProto2(file_buf_validate_validate.proto));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main();
}
