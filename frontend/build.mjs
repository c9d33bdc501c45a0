// Builds the browser bundle into dist/ with content-hashed names and a
// manifest.json mapping each entry's logical name to its file. dist/ is
// committed: CI rebuilds it and fails if the result differs.
//
// The JavaScript is split: app.js runs on every page and imports the
// document page's code (doc.js: the editor and the live connection) only
// where there is a document; code both share goes to chunk-*.js files,
// which esbuild imports by relative URL, so they are served from /assets/
// like the entries.
import * as esbuild from "esbuild";
import { readdirSync, readFileSync, rmSync, mkdirSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { basename, extname } from "node:path";

const outdir = "dist";
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });

const entries = { app: "src/app.ts", doc: "src/doc/page.ts", style: "src/app.css" };
const result = await esbuild.build({
  entryPoints: entries,
  bundle: true,
  minify: true,
  sourcemap: false,
  format: "esm",
  splitting: true,
  target: ["es2022"],
  outdir,
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  chunkNames: "chunk-[hash]",
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});

const manifest = {};
for (const [file, out] of Object.entries(result.metafile.outputs)) {
  if (!out.entryPoint) continue;
  const name = Object.keys(entries).find((k) => entries[k] === out.entryPoint);
  if (!name) continue; // a chunk of a dynamic import, loaded by its importer
  manifest[name + extname(file)] = basename(file);
}
// Files served as they are (the favicon), under a hash of their content.
for (const src of ["src/favicon.svg"]) {
  const body = readFileSync(src);
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 8).toUpperCase();
  const name = basename(src, extname(src));
  const file = `${name}-${hash}${extname(src)}`;
  writeFileSync(`${outdir}/${file}`, body);
  manifest[name + extname(src)] = file;
}
writeFileSync(`${outdir}/manifest.json`, JSON.stringify(manifest, Object.keys(manifest).sort(), 2) + "\n");
console.log(readdirSync(outdir).join("\n"));
