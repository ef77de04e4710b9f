import type { DescField, DescMethod } from "@bufbuild/protobuf";
import { getOption } from "@bufbuild/protobuf";
import type { Field, Route } from "@fintech/proto/fintech/api/v1/options_pb.js";
import {
  field as fieldExtension,
  route as routeExtension,
} from "@fintech/proto/fintech/api/v1/options_pb.js";

// The fintech.api.v1 options of proto/fintech/api/v1/options.proto, read once per descriptor: the request path
// asks for a field's options on every value it converts.
const fields = new WeakMap<DescField, Field>();
const routes = new WeakMap<DescMethod, Route>();

/** A field's REST options (money, required, enum_words, omit_empty, minimum, maximum); defaults when unset. */
export function fieldOptions(field: DescField): Field {
  let options = fields.get(field);
  if (options === undefined) {
    options = getOption(field, fieldExtension);
    fields.set(field, options);
  }
  return options;
}

/** An RPC's REST route options (access, success_status, idempotent); defaults when unset. */
export function routeOptions(method: DescMethod): Route {
  let options = routes.get(method);
  if (options === undefined) {
    options = getOption(method, routeExtension);
    routes.set(method, options);
  }
  return options;
}
