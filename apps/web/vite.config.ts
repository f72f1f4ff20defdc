import adapter from "@sveltejs/adapter-static";
import { sveltekit } from "@sveltejs/kit/vite";
import { defineConfig } from "vite";

/** Where `npm run dev` sends API calls: the grouppe server on its default port. */
const apiTarget = process.env.GROUPPE_API_URL ?? "http://localhost:8080";

/** Where `vite build` writes the app; the grouppe server serves `build` by default. */
const buildDir = process.env.GROUPPE_WEB_BUILD_DIR ?? "build";

// A typo here would silently fall back to Connect in every browser: refuse it at build time.
const transport = process.env.VITE_GROUPPE_TRANSPORT;
if (transport !== undefined && transport !== "" && !["connect", "grpc-web"].includes(transport)) {
  throw new Error(`VITE_GROUPPE_TRANSPORT=${transport} is invalid: expected connect or grpc-web`);
}

export default defineConfig({
  plugins: [
    sveltekit({
      // A client-rendered app: the grouppe server answers every path it does not know with the
      // fallback page, and the app routes in the browser.
      adapter: adapter({ pages: buildDir, assets: buildDir, fallback: "200.html" }),
    }),
  ],
  server: {
    proxy: {
      "/grouppe.v1.": { target: apiTarget, changeOrigin: true },
      "/grpc.": { target: apiTarget, changeOrigin: true },
      "/calendar/": { target: apiTarget, changeOrigin: true },
    },
  },
});
