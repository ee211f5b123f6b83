// The @tus/server peer of scripts/bench.sh: tus 1.0 at /files on a loopback port, files in a folder.
// Usage: node bench/server.mjs PORT DIR   (prints "listening" when ready)
import { createRequire } from "node:module";
const require = createRequire(new URL("./node/", import.meta.url));
const { Server } = await import(require.resolve("@tus/server"));
const { FileStore } = await import(require.resolve("@tus/file-store"));

const [port, directory] = process.argv.slice(2);
const server = new Server({ path: "/files", datastore: new FileStore({ directory }) });
const http = server.listen({ host: "127.0.0.1", port: Number(port) }, () => console.log("listening"));
http.keepAliveTimeout = 60_000;
process.on("SIGTERM", () => process.exit(0));
