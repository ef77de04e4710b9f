// The users a purchase benchmark pays with: signed up, logged in and funded through the gateway.
import type { httpCaller } from "./http-load.js";

const PASSWORD = "bench-Password-2026";
const JSON_TYPE = { "content-type": "application/json" };

/** A user ready to pay: an access token and the default wallet, funded with 40,000.00 MYR. */
export interface BenchUser {
  token: string;
  wallet: string;
}

/** A zone where it is daytime now, so fraud's off-hours rule stays quiet and purchases are approved. */
function daytimeZone(): string {
  const zones = ["Asia/Kuala_Lumpur", "Europe/London", "America/New_York", "Pacific/Honolulu", "Asia/Tokyo"];
  const hour = (tz: string) =>
    Number(
      new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "numeric", hourCycle: "h23" }).format(
        new Date(),
      ),
    );
  return zones.find((tz) => hour(tz) >= 8 && hour(tz) <= 20) ?? "UTC";
}

/**
 * Signs up `count` users (e-mail `<prefix>-<n>-<time>@example.com`) in waves of 8 (argon2id on a 2-core machine),
 * logs each in and tops up the default wallet; throws on the first refusal.
 */
export async function signUpUsers(
  http: ReturnType<typeof httpCaller>,
  count: number,
  prefix: string,
): Promise<BenchUser[]> {
  const timezone = daytimeZone();
  const users: BenchUser[] = [];
  for (let i = 0; i < count; i += 8) {
    const wave = await Promise.all(
      Array.from({ length: Math.min(8, count - i) }, async (_, k) => {
        const email = `${prefix}-${i + k}-${Date.now()}@example.com`;
        const reg = await http.call(
          "POST",
          "/api/v1/auth/register",
          JSON_TYPE,
          JSON.stringify({ email, password: PASSWORD, full_name: "Bench", timezone }),
        );
        if (reg.status !== 201) throw new Error(`register: ${reg.status} ${reg.body}`);
        const login = await http.call(
          "POST",
          "/api/v1/auth/login",
          JSON_TYPE,
          JSON.stringify({ email, password: PASSWORD }),
        );
        const token = (JSON.parse(login.body) as { access_token: string }).access_token;
        const auth = { ...JSON_TYPE, authorization: `Bearer ${token}` };
        // The default wallet opens when identity.user.registered reaches the wallet (or on first use).
        const wallets = await http.call("GET", "/api/v1/wallets", auth);
        const wallet = (JSON.parse(wallets.body) as { data: Array<{ id: string }> }).data[0]?.id ?? "";
        const top = await http.call(
          "POST",
          `/api/v1/wallets/${wallet}/fund`,
          auth,
          JSON.stringify({ amount: "40000.00", source: "visa" }),
        );
        if (top.status !== 201) throw new Error(`fund: ${top.status} ${top.body}`);
        return { token, wallet };
      }),
    );
    users.push(...wave);
  }
  return users;
}
