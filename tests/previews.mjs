// Files the previews tests of the widget and the console share: a one-page PDF, an iPhone photo
// (HEIC) made here with libheif's heif-enc, and whether the renderers are installed.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { png } from "./widget/png.mjs";

function installed(cmd, arg) {
  try {
    execFileSync(cmd, [arg], { stdio: "ignore" });
    return true;
  } catch (e) {
    return e.code !== "ENOENT";
  }
}

/** pdftoppm and heif-enc are there (else the tests skip, unless ATTACHE_REQUIRE_TOOLS is set). */
export const renderers = installed("pdftoppm", "-v") && installed("heif-enc", "--help");
if (!renderers && process.env.ATTACHE_REQUIRE_TOOLS) {
  throw new Error("pdftoppm (poppler-utils) and heif-enc (libheif-examples) are required");
}

/** A one-page PDF with a red box (poppler rebuilds the cross-reference table). */
export const PDF = Buffer.from(
  "%PDF-1.4\n1 0 obj <</Type/Catalog/Pages 2 0 R>> endobj\n" +
    "2 0 obj <</Type/Pages/Kids[3 0 R]/Count 1>> endobj\n" +
    "3 0 obj <</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]/Contents 4 0 R>> endobj\n" +
    "4 0 obj <</Length 27>> stream\n1 0 0 rg 10 10 100 50 re f\nendstream endobj\n" +
    "trailer <</Root 1 0 R>>\n%%EOF\n",
);

/** A HEIC photo of `w`×`h`, as an iPhone would send (heif-enc from a PNG). */
export function heic(w, h) {
  const dir = mkdtempSync(join(tmpdir(), "attache-heic-"));
  try {
    writeFileSync(join(dir, "src.png"), png(w, h));
    execFileSync("heif-enc", ["-q", "50", "-o", join(dir, "IMG.HEIC"), join(dir, "src.png")], { stdio: "ignore" });
    return readFileSync(join(dir, "IMG.HEIC"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
