import type {
  Client,
  ClientPathsWithMethod,
  FetchResponse,
  MaybeOptionalInit,
  Middleware,
} from "openapi-fetch";
import createClient from "openapi-fetch";
import { FintechApiError } from "./fintech-api-error.js";
import type { paths } from "./gen/api.js";

type Media = `${string}/${string}`;
/** The underlying openapi-fetch client: calls answer `{ data, error, response }` instead of throwing. */
export type FintechRawClient = Client<paths, Media>;
type Method = "get" | "put" | "post" | "patch" | "delete";
type PathOf<M extends Method> = ClientPathsWithMethod<FintechRawClient, M>;
/** A call's second argument: `params` (`path`, `query`, `header`), `body`, and fetch's own options. */
export type Init<P extends keyof paths, M extends Method> = Omit<
  NonNullable<MaybeOptionalInit<paths[P], M>>,
  "parseAs"
>;

// The second argument is required exactly when the operation has a required parameter or body.
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
type InitArgs<I> = RequiredKeys<I> extends never ? [init?: I] : [init: I];

/** What a call answers on success: the response body, or undefined when there is none (204). */
export type Answer<P extends keyof paths, M extends Method> =
  NonNullable<
    FetchResponse<paths[P][M] & Record<string | number, unknown>, object, Media>["data"]
  > extends infer D
    ? [D] extends [never]
      ? undefined
      : D
    : never;

/** One HTTP method of the API: its paths, their parameters and bodies, and their answers, all typed. */
export type Call<M extends Method> = <P extends PathOf<M>>(
  path: P,
  ...init: InitArgs<Init<P, M>>
) => Promise<Answer<P, M>>;

/** Options for {@link createFintechClient}. */
export interface FintechClientOptions {
  /** The gateway's base URL, e.g. `http://127.0.0.1:8080` (the paths start with `/api/v1`). */
  baseUrl: string;
  /**
   * An access token from `POST /api/v1/auth/login`, sent as `Authorization: Bearer <token>`; or a function
   * asked before every request (e.g. one that refreshes the token). Without one, requests are anonymous.
   */
  token?: string | (() => string | undefined | Promise<string | undefined>);
  /** A fetch to use instead of the global one. */
  fetch?: (request: Request) => Promise<Response>;
}

/**
 * A typed client of the REST API. `GET`, `POST`, `PUT`, `PATCH` and `DELETE` take a path of the API and its
 * `params` (`path`, `query`, `header`, where `header` offers `Idempotency-Key` on exactly the POSTs that honour
 * it) and `body`, answer the success body, and throw a {@link FintechApiError} for every failure. `raw` is the
 * same client in openapi-fetch's own shape, for reading response headers (`Idempotent-Replayed`).
 */
export interface FintechClient {
  GET: Call<"get">;
  POST: Call<"post">;
  PUT: Call<"put">;
  PATCH: Call<"patch">;
  DELETE: Call<"delete">;
  raw: FintechRawClient;
}

/** A client of the gateway at `baseUrl`, authenticated with `token` when it is given. */
export function createFintechClient(options: FintechClientOptions): FintechClient {
  const raw = createClient<paths, Media>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
  const { token } = options;
  if (token !== undefined) raw.use(bearer(token));

  // Call<M> types each path's arguments and answer; underneath, every call is the same request.
  const request = raw.request as (
    method: Method,
    path: string,
    init?: object,
  ) => Promise<{ data?: unknown; error?: unknown; response: Response }>;
  const call = <M extends Method>(method: M): Call<M> =>
    (async (path: string, init?: object) => {
      const result = await request(method, path, init);
      if (result.response.ok) return result.data;
      throw new FintechApiError(result.response, result.error);
    }) as Call<M>;

  return {
    GET: call("get"),
    POST: call("post"),
    PUT: call("put"),
    PATCH: call("patch"),
    DELETE: call("delete"),
    raw,
  };
}

function bearer(token: NonNullable<FintechClientOptions["token"]>): Middleware {
  return {
    async onRequest({ request }) {
      if (request.headers.has("authorization")) return;
      const value = typeof token === "string" ? token : await token();
      if (value !== undefined && value !== "") request.headers.set("authorization", `Bearer ${value}`);
    },
  };
}
