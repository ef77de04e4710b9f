import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** A static file to send. */
export interface StaticFile {
  contentType: string;
  body: Buffer;
}

const require = createRequire(import.meta.url);
const uiDir = dirname(require.resolve("swagger-ui-dist/package.json"));
// ReDoc's standalone bundle: one script with everything (its search worker included), no CDN. Found on first
// use, so a checkout whose node_modules predate the package still starts (only /redoc's script is missing).
const redocBundle = () =>
  join(dirname(require.resolve("redoc/package.json")), "bundles", "redoc.standalone.js");

// Only these files of swagger-ui-dist are served; nothing else of the package (or the disk) is reachable.
const assets: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "index.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
  "favicon-16x16.png": "image/png",
};

const page = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>Fintech platform API</title>
    <link rel="stylesheet" type="text/css" href="/docs/swagger-ui.css" />
    <link rel="stylesheet" type="text/css" href="/docs/index.css" />
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="/docs/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
    <script src="/docs/swagger-initializer.js" charset="UTF-8"></script>
  </body>
</html>
`;

// The stock initializer points at the petstore; ours at this gateway's own document.
const initializer = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    // No badge from validator.swagger.io: it would send the document's address away, and /docs's CSP
    // (img-src 'self' data:) blocks it anyway.
    validatorUrl: null,
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
  });
};
`;

// ReDoc reads the same document; fonts are the browser's (no font service is called).
const redocPage = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Fintech platform API</title>
  </head>
  <body>
    <redoc spec-url="/openapi.json"></redoc>
    <script src="/redoc/redoc.standalone.js" charset="UTF-8"></script>
  </body>
</html>
`;

/** Whether a path is one of the documentation pages' (/docs, /redoc and their assets). */
export function isDocsPath(path: string): boolean {
  return path === "/docs" || path.startsWith("/docs/") || path === "/redoc" || path.startsWith("/redoc/");
}

/**
 * Swagger UI at /docs from the swagger-ui-dist package (no CDN): the page, our initializer and the package's
 * assets, and ReDoc at /redoc from the redoc package's standalone bundle, read from disk once on first use and
 * kept in memory.
 */
export function createDocs() {
  const cache = new Map<string, Promise<StaticFile>>();
  const load = (key: string, path: string, contentType: string): Promise<StaticFile> => {
    let file = cache.get(key);
    if (file === undefined) {
      file = readFile(path).then((body) => ({ contentType, body }));
      cache.set(key, file);
      file.catch(() => cache.delete(key));
    }
    return file;
  };
  const redocHtml: StaticFile = { contentType: "text/html; charset=utf-8", body: Buffer.from(redocPage) };
  const fixed: Record<string, StaticFile> = {
    "": { contentType: "text/html; charset=utf-8", body: Buffer.from(page) },
    "swagger-initializer.js": {
      contentType: "text/javascript; charset=utf-8",
      body: Buffer.from(initializer),
    },
  };
  return {
    /**
     * The file for a path under /docs ("/docs", "/docs/", "/docs/swagger-ui.css") or /redoc ("/redoc",
     * "/redoc/redoc.standalone.js"), undefined for any other.
     */
    async file(path: string): Promise<StaticFile | undefined> {
      if (path === "/redoc" || path === "/redoc/" || path === "/redoc/index.html") return redocHtml;
      if (path === "/redoc/redoc.standalone.js") {
        return load("redoc", redocBundle(), "text/javascript; charset=utf-8");
      }
      const name =
        path === "/docs" ? "" : path.startsWith("/docs/") ? path.slice("/docs/".length) : undefined;
      if (name === undefined) return undefined;
      const own = fixed[name === "index.html" ? "" : name];
      if (own !== undefined) return own;
      const contentType = assets[name];
      if (contentType === undefined) return undefined;
      return load(name, join(uiDir, name), contentType);
    },
  };
}
