import type { Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { codeLabel } from "./code-label.js";
import { observeCall } from "./observe.js";
import { requestIdKey } from "./request-id.js";

// Probes call Health every few seconds; at info level they would drown the service's own lines.
const quietServices = new Set(["grpc.health.v1.Health"]);

/**
 * Writes one JSON line per RPC when it ends: `rpc_service` (protobuf full name), `method`, `code` ("OK",
 * "NotFound", ...), `duration_ms` and `request_id`. Never bodies, never headers. Health checks log at debug.
 */
export function createLoggingInterceptor(logger: Logger): Interceptor {
  return (next) => (req) => {
    const start = performance.now();
    return observeCall(next, req, (code) => {
      const level = quietServices.has(req.service.typeName) ? "debug" : "info";
      if (!logger.isLevelEnabled(level)) {
        return;
      }
      logger[level](
        {
          rpc_service: req.service.typeName,
          method: req.method.name,
          code: codeLabel(code),
          duration_ms: Math.round((performance.now() - start) * 1000) / 1000,
          request_id: req.contextValues.get(requestIdKey),
        },
        "rpc",
      );
    });
  };
}
