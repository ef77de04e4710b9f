import type { DescMethod } from "@bufbuild/protobuf";
import { getOption } from "@bufbuild/protobuf";
import type { Route } from "@fintech/proto/fintech/api/v1/options_pb.js";
import { route as routeExtension } from "@fintech/proto/fintech/api/v1/options_pb.js";

// The fintech.api.v1 options of proto/fintech/api/v1/options.proto, read once per descriptor: the request path
// asks for a field's options on every value it converts. A field's are libs/platform's (the response writer
// reads them too).
export { restFieldOptions as fieldOptions } from "@fintech/platform";

const routes = new WeakMap<DescMethod, Route>();

/** An RPC's REST route options (access, success_status, idempotent); defaults when unset. */
export function routeOptions(method: DescMethod): Route {
  let options = routes.get(method);
  if (options === undefined) {
    options = getOption(method, routeExtension);
    routes.set(method, options);
  }
  return options;
}
