// Writes docs/schemas/<verb>.json, the JSON Schema of what `dvs <verb> --json` prints, from the result
// types named in src/api/outputs.ts (and error.json, the shape of every --json failure).
//   npm run schemas
// test/unit/schemas-doc.test.ts fails when the files and the types disagree; test/e2e/json-schemas.test.ts
// validates real outputs against them.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFormatter, createParser, createProgram, EnumType, SchemaGenerator } from 'ts-json-schema-generator';
import ts from 'typescript';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMA_DIR = join(ROOT, 'docs', 'schemas');

/** Verb (file name) -> the type in src/api/outputs.ts. */
export const OUTPUT_TYPES = {
  init: 'InitOutput',
  track: 'TrackOutput',
  checkpoint: 'CheckpointOutput',
  lock: 'LockOutput',
  unlock: 'UnlockOutput',
  locks: 'LocksOutput',
  status: 'StatusOutput',
  checkout: 'CheckoutOutput',
  push: 'PushOutput',
  fetch: 'FetchOutput',
  pull: 'PullOutput',
  diff: 'DiffOutput',
  hash: 'HashOutput',
  list: 'ListOutput',
  get: 'GetOutput',
  import: 'ImportOutput',
  update: 'UpdateOutput',
  transform: 'TransformOutput',
  lineage: 'LineageOutput',
  repro: 'ReproOutput',
  run: 'RunOutput',
  audit: 'AuditOutput',
  remove: 'RemoveOutput',
  move: 'MoveOutput',
  unprotect: 'UnprotectOutput',
  gc: 'GcOutput',
  verify: 'VerifyOutput',
  config: 'ConfigOutput',
  cache: 'CacheOutput',
  remote: 'RemoteOutput',
  install: 'InstallOutput',
  uninstall: 'UninstallOutput',
  error: 'ErrorOutput',
};

/**
 * `keyof typeof TABLE` (ErrorCode, WarningCode: the keys of the catalogue in src/error-codes.ts) as the
 * enum of those keys, which the compiler knows; the generator cannot read the table's initializer.
 */
class KeysOfConstant {
  constructor(checker) {
    this.checker = checker;
  }
  supportsNode(node) {
    return node.kind === ts.SyntaxKind.TypeOperator && node.operator === ts.SyntaxKind.KeyOfKeyword && ts.isTypeQueryNode(node.type);
  }
  createType(node) {
    const type = this.checker.getTypeAtLocation(node);
    const values = (type.isUnion() ? type.types : [type]).map((t) => t.value).filter((v) => typeof v === 'string');
    return new EnumType(`keyof-${node.type.exprName.getText()}`, values.sort());
  }
}

/** Each schema file's text, by file name. */
export function renderSchemas() {
  const config = {
    path: join(ROOT, 'src', 'api', 'outputs.ts'),
    tsconfig: join(ROOT, 'tsconfig.json'),
    type: '*',
    expose: 'export',
    topRef: true,
    jsDoc: 'basic',
    // Closed objects: a renamed or unexpected field fails validation.
    additionalProperties: false,
    skipTypeCheck: true,
  };
  const program = createProgram(config);
  const parser = createParser(program, config, (chain) => chain.addNodeParser(new KeysOfConstant(program.getTypeChecker())));
  const generator = new SchemaGenerator(program, parser, createFormatter(config), config);
  const files = {};
  for (const [verb, type] of Object.entries(OUTPUT_TYPES)) {
    const schema = generator.createSchema(type);
    const ordered = {
      $schema: schema.$schema,
      title: verb === 'error' ? 'The --json output of a failed dvs command' : `The --json output of dvs ${verb}`,
      ...schema,
    };
    files[`${verb}.json`] = JSON.stringify(ordered, null, 2) + '\n';
  }
  return files;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = renderSchemas();
  mkdirSync(SCHEMA_DIR, { recursive: true });
  for (const name of readdirSync(SCHEMA_DIR)) if (name.endsWith('.json') && !(name in files)) rmSync(join(SCHEMA_DIR, name));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(SCHEMA_DIR, name), text);
  console.log(`wrote ${Object.keys(files).length} schemas to docs/schemas/`);
}
