// Runs the browser's metadata rules (web/src/metadata/) under Node on each file named on
// the command line, writing <file>.cleaned and printing {name: {findings, reason}} as JSON.
// The rules are bundled first with web/'s own esbuild, as for the page: pdf-lib's modules
// import without file extensions, which only a bundler resolves.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const web = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "web");
const esbuild = createRequire(join(web, "package.json"))("esbuild");
const [outfile, ...paths] = process.argv.slice(2);
await esbuild.build({
  absWorkingDir: web,
  entryPoints: ["src/metadata/index.js"],
  bundle: true,
  format: "esm",
  platform: "browser", // as the page bundles it; Node 20 has File and Blob
  outfile,
  logLevel: "error",
});
const { examineFile } = await import(pathToFileURL(outfile).href);

const report = {};
for (const path of paths) {
  const result = await examineFile(new File([readFileSync(path)], basename(path)));
  if (result.cleaned) writeFileSync(`${path}.cleaned`, new Uint8Array(await result.cleaned.arrayBuffer()));
  report[basename(path)] = { findings: result.findings, reason: result.reason ?? null };
}
process.stdout.write(JSON.stringify(report));
