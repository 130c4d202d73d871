// Transpile one TypeScript file into an ES module with the pinned compiler (syntax only, no type check):
//   node transpile.cjs input.ts output.mjs
"use strict";
const fs = require("fs");
const ts = require("typescript");

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node transpile.cjs input.ts output.mjs");
  process.exit(2);
}
const result = ts.transpileModule(fs.readFileSync(input, "utf8"), {
  fileName: input,
  reportDiagnostics: true,
  compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
});
if (result.diagnostics.length > 0) {
  for (const diagnostic of result.diagnostics) {
    console.error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
  }
  process.exit(1);
}
fs.writeFileSync(output, result.outputText);
