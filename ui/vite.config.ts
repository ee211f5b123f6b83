import { defineConfig } from "vite";

// The console's web side: plain TypeScript, bundled into ui/dist, which the Tauri binary embeds.
export default defineConfig({
  clearScreen: false,
  server: { port: 5173, strictPort: true, host: "127.0.0.1" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "safari15",
    sourcemap: false,
  },
});
