import { Agent, request } from "node:http";

/** HTTP/1.1 keep-alive requests (one socket per caller), as a REST client sends them. */
export function httpCaller(baseUrl: string, maxSockets: number) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  return {
    agent,
    call(
      method: string,
      path: string,
      headers: Record<string, string>,
      body?: string,
    ): Promise<{ status: number; body: string }> {
      return new Promise((resolve, reject) => {
        const req = request(`${baseUrl}${path}`, { method, headers, agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
          );
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end(body);
      });
    },
  };
}
